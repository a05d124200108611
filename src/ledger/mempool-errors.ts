import { CodedError } from '../util/coded-error.js';

export type MempoolErrorCode =
  /** The transaction is already processing or finalized here. */
  | 'ALREADY_KNOWN'
  /** It was rejected earlier (a conflicting transaction finalized). */
  | 'ALREADY_REJECTED'
  /** An input is spent by a finalized transaction: it can never be accepted. */
  | 'CONFLICTS_FINALIZED'
  /** Count or byte limit reached. */
  | 'MEMPOOL_FULL'
  /** finalize/reject named a transaction that is not processing. */
  | 'NOT_PROCESSING';

export class MempoolError extends CodedError<MempoolErrorCode> {}
