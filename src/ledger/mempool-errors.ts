import { CodedError } from '../util/coded-error.js';

export type MempoolErrorCode =
  /** The transaction is already processing or finalized here. */
  | 'ALREADY_KNOWN'
  /** It was rejected earlier (a conflicting transaction finalized). */
  | 'ALREADY_REJECTED'
  /** An input (or its registry change) is used up by a finalized transaction: it can never be accepted. */
  | 'CONFLICTS_FINALIZED'
  /**
   * An input (or its registry change) is held by a transaction that expired here undecided: no
   * rival is admitted until a block uses the key up (Mempool.expireProcessing).
   */
  | 'CONFLICTS_EXPIRED'
  /** Count or byte limit reached (finalized transactions and expired records count). */
  | 'MEMPOOL_FULL'
  /** finalize/reject named a transaction that is not processing. */
  | 'NOT_PROCESSING';

export class MempoolError extends CodedError<MempoolErrorCode> {}
