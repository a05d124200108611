import { CodedError } from '../../util/coded-error.js';

export type SnowballErrorCode =
  | 'INVALID_TXID'
  | 'INVALID_CONFLICT_KEYS'
  | 'INVALID_VALIDATORS'
  | 'INVALID_SAMPLE'
  | 'INVALID_VOTES'
  | 'INVALID_BENCHLIST_CONFIG'
  | 'INVALID_TIME';

/** Bad input to the Snowball engine or sampler: the caller's bug or a peer's garbage, never a crash. */
export class SnowballError extends CodedError<SnowballErrorCode> {}
