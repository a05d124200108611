import type { ChainParams } from '../../../src/params/chain-params.js';
import { type Block, type BlockHeader, headerHash } from '../../../src/protocol/block.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import type { OutPoint, TxOutput, TxPayload } from '../../../src/protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../../../src/protocol/tx-codec.js';
import { witnessRoot } from '../../../src/protocol/witness-root.js';
import type { AddressIndexDatabases } from '../../../src/storage/address-index.js';
import type { ChainStore } from '../../../src/storage/chain-store.js';
import type { ChainDatabases } from '../../../src/storage/databases.js';

/*
 * Hand-written blocks for storage tests that need exact control over who pays whom (SyntheticChain
 * picks random addresses and inputs). Unsigned, like SyntheticChain's: the store is mechanical.
 */

const ZERO_SIG = new Uint8Array(64);

/** A 20-byte address payload filled with `b` (or given bytes). */
export const addr = (b: number): Uint8Array => new Uint8Array(20).fill(b);

export function handTx(
  params: ChainParams,
  inputs: readonly OutPoint[],
  outputs: readonly TxOutput[],
  opts: { payload?: TxPayload; lockTime?: number } = {},
): EncodedTx {
  return encodeTx({
    version: 1,
    chainId: params.chainId,
    inputs: [...inputs],
    outputs: [...outputs],
    lockTime: opts.lockTime ?? 0,
    payload: opts.payload ?? null,
    witnesses: inputs.map((_, i) => ({ pubkey: new Uint8Array(32).fill(i + 1), signature: ZERO_SIG })),
  });
}

/** A block on `prev` (null: genesis at height 0) holding `txs` in the given order. */
export function handBlock(params: ChainParams, prev: Block | null, txs: readonly EncodedTx[]): Block {
  const height = prev ? prev.header.height + 1 : 0;
  const header: BlockHeader = {
    version: 1,
    chainId: params.chainId,
    height,
    slot: height,
    timestampMs: params.genesisTimeMs + height * params.slotMs,
    prevHash: prev ? headerHash(prev.header) : new Uint8Array(32),
    merkleRoot: merkleRoot(txs.map((t) => t.txid)),
    witnessRoot: witnessRoot([...txs]),
    txCount: txs.length,
    beaconY: new Uint8Array(0),
    beaconProof: new Uint8Array(0),
    producerPubkey: new Uint8Array(32).fill(0x77),
    rank: 0,
  };
  return { header, signature: ZERO_SIG, txs: [...txs] };
}

/** The store's open databases, for tampering as outside damage (or a writer without the lock) would. */
export function dbsOf(store: ChainStore): ChainDatabases {
  return (store as unknown as { dbs: ChainDatabases }).dbs;
}

/** The address index's databases (its own environment) behind a store, for tests that tamper with them. */
export function indexDbsOf(store: ChainStore): AddressIndexDatabases {
  return (store.addressIndex as unknown as { dbs: AddressIndexDatabases }).dbs;
}
