// The reference: enumerate every order of the operations that respects real time (a before b when a returned
// before b was called) and see whether one is legal for the model. Keys get independent states, so this also
// checks P-compositionality. Ops with return Infinity may be left out. Only for tiny histories.
import { ILLEGAL, type Model, type Operation } from '../../src/porcupine/index.js';

export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  const keyOf = (op: Operation<I, O>): string | number => (model.partition ? model.partition(op.input) : '');
  const done = new Array<boolean>(ops.length).fill(false);
  const states = new Map<string | number, S>();
  const stateOf = (key: string | number): S => (states.has(key) ? (states.get(key) as S) : model.init());
  const mustPrecede = (a: Operation<I, O>, b: Operation<I, O>): boolean => a.return < b.call;

  const search = (): boolean => {
    if (ops.every((op, i) => done[i] || op.return === Infinity)) return true;
    for (let i = 0; i < ops.length; i++) {
      if (done[i]) continue;
      const op = ops[i] as Operation<I, O>;
      if (ops.some((other, j) => !done[j] && j !== i && mustPrecede(other, op))) continue;
      const key = keyOf(op);
      const before = stateOf(key);
      const after = model.step(before, op.input, op.output);
      if (after === ILLEGAL) continue;
      const had = states.has(key);
      states.set(key, after);
      done[i] = true;
      const ok = search();
      done[i] = false;
      if (had) states.set(key, before);
      else states.delete(key);
      if (ok) return true;
    }
    return false;
  };
  return search();
}
