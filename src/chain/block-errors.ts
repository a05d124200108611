import { CodedError } from '../util/coded-error.js';

/** One code per block validity rule that needs no network (DESIGN §6, issue 2 item 7). */
export const BLOCK_ERROR_CODES = [
  'MALFORMED',
  'TOO_LARGE',
  'UNSUPPORTED_VERSION',
  'WRONG_CHAIN',
  'BAD_HEIGHT',
  'BAD_PREV_HASH',
  'BAD_SLOT',
  'BAD_TIMESTAMP',
  'TX_COUNT_MISMATCH',
  'BAD_MERKLE_ROOT',
  'NO_COINBASE',
  'EXTRA_COINBASE',
  'BAD_COINBASE',
  'UNSORTED_TXS',
  'DOUBLE_SPEND',
  'BAD_TX',
  'CONFLICTS_FINALIZED',
  'TOO_FEW_MASTERNODES',
  'UNKNOWN_PRODUCER',
  'BAD_SIGNATURE',
] as const;

export type BlockErrorCode = (typeof BLOCK_ERROR_CODES)[number];

export class BlockError extends CodedError<BlockErrorCode> {}
