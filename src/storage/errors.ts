import { CodedError } from '../util/coded-error.js';

/** Why `ChainStore.open` (or `inspectStore`) refused a data directory. It never wipes anything. */
export type StoreOpenErrorCode =
  /** Another process holds the data directory's lock (details: dataDir, and pid when known). */
  | 'DATADIR_LOCKED'
  /** The data directory lock needs Linux (abstract Unix sockets). */
  | 'LOCK_UNSUPPORTED'
  /** ChainStore.open was given a lock that is released or belongs to another directory. */
  | 'NOT_LOCKED'
  | 'NOT_A_STORE'
  | 'SCHEMA_MISMATCH'
  | 'NETWORK_MISMATCH'
  | 'GENESIS_MISMATCH'
  | 'BAD_GENESIS'
  | 'META_MISSING'
  /** A meta entry does not decode (outside damage). */
  | 'META_CORRUPT'
  | 'TIP_BLOCK_MISSING'
  /** The block stored at the tip height does not decode (outside damage). */
  | 'TIP_BLOCK_CORRUPT'
  | 'TIP_HASH_MISMATCH'
  | 'BLOCK_ABOVE_TIP'
  | 'UNDO_MISSING'
  /** The tip's undo record does not decode, so the tip could not be reverted (outside damage). */
  | 'UNDO_CORRUPT'
  /** A UTXO the layout upgrade moves does not decode (outside damage; details: key). */
  | 'UTXO_CORRUPT'
  /**
   * Opening the LMDB file crashed a probe process (outside damage: a zeroed, truncated or
   * overwritten chain.mdb; details: file, signal). See open-probe.ts.
   */
  | 'DATA_CORRUPT';

/** A refusal at open time: the directory holds a different, newer/older or inconsistent chain. */
export class StoreOpenError extends CodedError<StoreOpenErrorCode> {}

export type StoreWriteErrorCode =
  | 'NOT_NEXT_BLOCK'
  | 'MISSING_UTXO'
  | 'UNKNOWN_MASTERNODE'
  | 'BAD_COLLATERAL_VOUT'
  | 'REVERT_GENESIS'
  | 'UNDO_MISSING'
  | 'STORE_CLOSED'
  /** The dependency order handed to applyBlock is not one of that block's body (a caller's bug). */
  | 'BAD_ORDER'
  /**
   * The tip stored on disk is not the tip this store applied: something else wrote to the data
   * directory (found inside the write transaction, which is then aborted).
   */
  | 'TIP_CHANGED';

/**
 * A refusal to write: the block does not extend the tip, the stored tip moved, or the block
 * contradicts the stored state. Raised before the write transaction changes anything, or inside it
 * (which aborts it), so a refused block leaves the store unchanged.
 */
export class StoreWriteError extends CodedError<StoreWriteErrorCode> {}
