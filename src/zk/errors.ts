// ZooKeeper error codes (KeeperException.Code) and the split a Jepsen-style checker needs:
// definite failures (the op certainly did not take effect) versus indeterminate ones (it may have).

export const ZkErrorCode = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

export type ZkErrorName = keyof typeof ZkErrorCode;

const namesByCode = new Map<number, ZkErrorName>(
  (Object.entries(ZkErrorCode) as Array<[ZkErrorName, number]>).map(([name, code]) => [code, name]),
);

/** 'NONODE' for -101; 'UNKNOWN(-999)' for codes this client does not know. */
export function zkErrorName(code: number): string {
  return namesByCode.get(code) ?? `UNKNOWN(${code})`;
}

/**
 * Codes with which the server refuses a request before applying it. Everything else (connection loss,
 * timeouts, session expiry or move, system errors, unknown codes) is treated as indeterminate, which is
 * the safe side for a checker.
 */
const definiteCodes: ReadonlySet<number> = new Set([
  ZkErrorCode.NONODE,
  ZkErrorCode.NODEEXISTS,
  ZkErrorCode.BADVERSION,
  ZkErrorCode.NOTEMPTY,
  ZkErrorCode.NOCHILDRENFOREPHEMERALS,
  ZkErrorCode.BADARGUMENTS,
  ZkErrorCode.INVALIDACL,
  ZkErrorCode.NOAUTH,
  ZkErrorCode.AUTHFAILED,
  ZkErrorCode.UNIMPLEMENTED,
  ZkErrorCode.NOTREADONLY,
  ZkErrorCode.EPHEMERALONLOCALSESSION,
  ZkErrorCode.RECONFIGDISABLED,
  ZkErrorCode.QUOTAEXCEEDED,
  ZkErrorCode.THROTTLEDOP,
]);

export interface ZkErrorDetails {
  /** The znode the op was about, when there is one. */
  path?: string;
  /** The zxid of the server's reply, when the error came from a reply. */
  zxid?: bigint;
  /** The reply's position among the connection's frames, when the error came from a reply. */
  arrival?: number;
  /** True when the request never left this client (client closed, encoding failed): a definite failure. */
  unsent?: boolean;
  cause?: unknown;
}

/** An op or connection failure; `name` is ZooKeeper's code name ('NONODE', 'CONNECTIONLOSS', ...). */
export class ZkError extends Error {
  readonly code: number;
  readonly path: string | undefined;
  readonly zxid: bigint | undefined;
  readonly arrival: number | undefined;
  readonly unsent: boolean;

  constructor(code: number, message: string, details: ZkErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = zkErrorName(code);
    this.code = code;
    this.path = details.path;
    this.zxid = details.zxid;
    this.arrival = details.arrival;
    this.unsent = details.unsent ?? false;
  }
}

/** Per-op outcome codes of a failed multi: 0 for ops that would have succeeded, RUNTIMEINCONSISTENCY for ops never tried. */
export class ZkMultiError extends ZkError {
  constructor(
    code: number,
    message: string,
    /** Index in the ops array of the op that failed, or -1 if the server did not say. */
    readonly failedOpIndex: number,
    readonly opCodes: readonly number[],
    details: ZkErrorDetails = {},
  ) {
    super(code, message, details);
  }
}

/** The server said no (or the request was never sent): the op certainly did not take effect. */
export function isDefiniteFailure(err: unknown): boolean {
  return err instanceof ZkError && (err.unsent || definiteCodes.has(err.code));
}

/** The op may or may not have taken effect (connection loss, timeout, session expiry while in flight, ...). */
export function isIndeterminate(err: unknown): boolean {
  return err instanceof ZkError && !isDefiniteFailure(err);
}
