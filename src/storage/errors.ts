import { CodedError } from '../util/coded-error.js';

/** Why `ChainStore.open` (or `inspectStore`) refused a data directory. It never wipes anything. */
export type StoreOpenErrorCode =
  | 'NOT_A_STORE'
  | 'SCHEMA_MISMATCH'
  | 'NETWORK_MISMATCH'
  | 'GENESIS_MISMATCH'
  | 'BAD_GENESIS'
  | 'META_MISSING'
  | 'TIP_BLOCK_MISSING'
  | 'TIP_HASH_MISMATCH'
  | 'BLOCK_ABOVE_TIP'
  | 'UNDO_MISSING';

/** A refusal at open time: the directory holds a different, newer/older or inconsistent chain. */
export class StoreOpenError extends CodedError<StoreOpenErrorCode> {}

export type StoreWriteErrorCode =
  | 'NOT_NEXT_BLOCK'
  | 'MISSING_UTXO'
  | 'UNKNOWN_MASTERNODE'
  | 'BAD_COLLATERAL_VOUT'
  | 'REVERT_GENESIS'
  | 'UNDO_MISSING'
  | 'STORE_CLOSED';

/**
 * A refusal to write: the block does not extend the tip or contradicts the stored state. Raised
 * before the write transaction touches anything, so a refused block leaves the store unchanged.
 */
export class StoreWriteError extends CodedError<StoreWriteErrorCode> {}
