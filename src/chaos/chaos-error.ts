import { CodedError } from '../util/coded-error.js';

export type ChaosErrorCode =
  /** A fault setting is out of range or of the wrong type (the message names the field). */
  | 'CHAOS_BAD_FAULTS'
  /** A partition does not split the endpoints into disjoint groups that cover all of them. */
  | 'CHAOS_BAD_PARTITION'
  /** A node index or link is not part of the network. */
  | 'CHAOS_BAD_LINK'
  /** A control-protocol line is not valid JSON or not a known command. */
  | 'CHAOS_BAD_COMMAND'
  /** Options given to a proxy, a network or the helper process are invalid. */
  | 'CHAOS_BAD_OPTIONS'
  /** A proxy could not listen (the port is taken, the address is not local…); details carry the cause. */
  | 'CHAOS_LISTEN_FAILED'
  /** The operation needs a started (listening, not closed) proxy or network. */
  | 'CHAOS_NOT_RUNNING'
  /** An unexpected failure inside the harness (a bug: report it with the seed). */
  | 'CHAOS_INTERNAL';

/** Every refusal of the fault-injection harness: bad settings never throw untyped errors. */
export class ChaosError extends CodedError<ChaosErrorCode> {}
