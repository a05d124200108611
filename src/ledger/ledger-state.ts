import type { OutPoint } from '../protocol/transaction.js';

/**
 * The ledger state that validation reads, as plain types shared by the storage layer (which
 * persists them) and the ledger (which checks transactions against them).
 */

/** An unspent output. */
export interface UtxoEntry {
  /** sat */
  readonly value: bigint;
  readonly address: Uint8Array;
  /** Height of the block that created it (0 for genesis). */
  readonly height: number;
  /** Created by a coinbase at height > 0: spendable only after coinbaseMaturity blocks. */
  readonly coinbase: boolean;
}

export interface MasternodeRecord {
  readonly nodePubkey: Uint8Array;
  /** Index into ChainParams.tiers (0 free … 3 gold). */
  readonly tier: number;
  /** The locked collateral output, or null for the Free tier. */
  readonly collateral: OutPoint | null;
  readonly rewardAddress: Uint8Array;
  readonly registeredHeight: number;
  readonly deregisteredHeight: number | null;
}

/** Read access to committed state; the storage layer and in-memory overlays implement it. */
export interface LedgerView {
  /** Height of the chain tip this view sits on. */
  tipHeight(): number;
  getUtxo(outpoint: OutPoint): UtxoEntry | undefined;
  /** Node pubkey whose registration locks this outpoint as collateral, if any. */
  collateralOwner(outpoint: OutPoint): Uint8Array | undefined;
  getMasternode(nodePubkey: Uint8Array): MasternodeRecord | undefined;
}
