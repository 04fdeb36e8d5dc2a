// Which faults are active on which node now, as the schedule that started and healed them knows it: the composed
// schedule picks targets with it (a node not yet faulty, one faulty under another family, the node that rejoined
// last) and heals what it started node by node.

/** One fault in force on some nodes. */
export interface ActiveFault {
  /** The schedule's own number for it. */
  id: number;
  /** The fault's name (kill-one, packet-delay). */
  fault: string;
  /** The family whose heal undoes it (process, partition...). */
  family: string;
  /** The nodes it is still in force on. */
  nodes: Set<string>;
  /** When it started, ms since the epoch. */
  sinceMs: number;
}

export class FaultTracker {
  private readonly active = new Map<number, ActiveFault>();
  /** When each node last came back from a fault (its last fault healed on it), ms since the epoch. */
  private readonly rejoined = new Map<string, number>();
  /** The most faults in force at once so far, and the most nodes under some fault at once. */
  maxActive = 0;
  maxFaultyNodes = 0;

  add(id: number, fault: string, family: string, nodes: readonly string[], nowMs = Date.now()): void {
    if (nodes.length === 0) return;
    this.active.set(id, { id, fault, family, nodes: new Set(nodes), sinceMs: nowMs });
    this.maxActive = Math.max(this.maxActive, this.active.size);
    this.maxFaultyNodes = Math.max(this.maxFaultyNodes, this.faultyNodes().length);
  }

  get(id: number): ActiveFault | undefined {
    return this.active.get(id);
  }

  /** A per-node heal of a family: every fault of that family on the node ends there (what the heal really does). */
  healNode(family: string, node: string, nowMs = Date.now()): void {
    for (const [id, f] of this.active) {
      if (f.family !== family) continue;
      f.nodes.delete(node);
      if (f.nodes.size === 0) this.active.delete(id);
    }
    if (!this.faultsOn(node).length) this.rejoined.set(node, nowMs);
  }

  /** A family heal: every fault of the family ends on every node. */
  healFamily(family: string, nowMs = Date.now()): void {
    for (const f of [...this.active.values()])
      if (f.family === family) for (const n of f.nodes) this.healNode(family, n, nowMs);
  }

  /** A fault that ended by itself (a restart): counted while it ran, not kept. */
  forget(id: number): void {
    this.active.delete(id);
  }

  faultsOn(node: string): ActiveFault[] {
    return [...this.active.values()].filter((f) => f.nodes.has(node));
  }

  faultyNodes(): string[] {
    return [...new Set([...this.active.values()].flatMap((f) => [...f.nodes]))].sort();
  }

  all(): ActiveFault[] {
    return [...this.active.values()];
  }

  /** The node that came back from a fault last and is not faulty now, if any. */
  lastRejoined(): string | undefined {
    let best: [string, number] | undefined;
    for (const [node, at] of this.rejoined)
      if (this.faultsOn(node).length === 0 && (!best || at > best[1])) best = [node, at];
    return best?.[0];
  }

  /** One line for the status: what is in force where. */
  describe(): string | null {
    const all = this.all();
    if (all.length === 0) return null;
    return all.map((f) => `${f.fault}@${[...f.nodes].join('+')}`).join(', ');
  }
}
