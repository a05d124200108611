import { compareBytes } from '../encoding/bytes.js';
import { bytesKey } from '../ledger/map-keys.js';
import type { ChainParams } from '../params/chain-params.js';
import {
  BLOCK_VERSION,
  type Block,
  type BlockHeader,
  blockOverheadBytes,
  headerHash,
} from '../protocol/block.js';
import { merkleRoot } from '../protocol/merkle.js';
import { headerSigMessage } from '../protocol/signing.js';
import { type EncodedTx, encodeTx } from '../protocol/tx-codec.js';
import { type KeyPair, sign } from '../wallet/keys.js';
import type { ParentInfo } from './block-validation.js';
import { coinbaseTx, type RewardRecipient } from './reward.js';

export interface BlockCandidate {
  readonly etx: EncodedTx;
  readonly fee: bigint;
}

export interface AssemblyInputs {
  readonly params: ChainParams;
  readonly parent: ParentInfo;
  readonly slot: number;
  readonly timestampMs: number;
  readonly beaconY: Uint8Array;
  readonly beaconProof: Uint8Array;
  readonly rank: number;
  readonly producerKey: KeyPair;
  readonly producerRewardAddress: Uint8Array;
  readonly activeMasternodes: readonly RewardRecipient[];
  /** Finalized transactions not yet in the chain, any order. */
  readonly candidates: readonly BlockCandidate[];
}

/**
 * Picks finalized transactions that fit the serialized-size budget (never a block peers reject for
 * size, lesson 11): parents before children, lower txid first among ready ones, and a transaction
 * only if every parent it has among the candidates is in. Excess stays for the next block.
 */
export function selectTransactions(
  candidates: readonly BlockCandidate[],
  budgetBytes: number,
): BlockCandidate[] {
  const sorted = [...candidates].sort((a, b) => compareBytes(a.etx.txid, b.etx.txid));
  const byId = new Map(sorted.map((c) => [bytesKey(c.etx.txid), c]));
  const included = new Set<string>();
  const excluded = new Set<string>();
  const chosen: BlockCandidate[] = [];
  let used = 0;
  const visit = (c: BlockCandidate): boolean => {
    const id = bytesKey(c.etx.txid);
    if (included.has(id)) return true;
    if (excluded.has(id)) return false;
    excluded.add(id); // provisional, also breaks (impossible) cycles
    for (const input of c.etx.tx.inputs) {
      const parent = byId.get(bytesKey(input.txid));
      if (parent && !visit(parent)) return false;
    }
    if (used + c.etx.bytes.length > budgetBytes) return false;
    excluded.delete(id);
    included.add(id);
    used += c.etx.bytes.length;
    chosen.push(c);
    return true;
  };
  for (const c of sorted) visit(c);
  return chosen.sort((a, b) => compareBytes(a.etx.txid, b.etx.txid));
}

/** Builds and signs a block: the same coinbaseTx() validators recompute, then txid-sorted transactions. */
export function assembleBlock(inputs: AssemblyInputs): Block {
  const { params } = inputs;
  const height = inputs.parent.height + 1;
  const coinbaseFor = (fees: bigint): EncodedTx =>
    encodeTx(
      coinbaseTx(params, {
        height,
        beaconY: inputs.beaconY,
        producerRewardAddress: inputs.producerRewardAddress,
        fees,
        activeMasternodes: inputs.activeMasternodes,
      }),
    );
  const draftHeader: BlockHeader = {
    version: BLOCK_VERSION,
    chainId: params.chainId,
    height,
    slot: inputs.slot,
    timestampMs: inputs.timestampMs,
    prevHash: inputs.parent.hash,
    merkleRoot: new Uint8Array(32),
    txCount: 0,
    beaconY: inputs.beaconY,
    beaconProof: inputs.beaconProof,
    producerPubkey: inputs.producerKey.publicKey,
    rank: inputs.rank,
  };
  // Fees are a fixed-width u64, so the coinbase's size does not depend on them.
  const budget = params.maxBlockBytes - blockOverheadBytes(draftHeader) - coinbaseFor(0n).bytes.length;
  const chosen = selectTransactions(inputs.candidates, budget);
  const fees = chosen.reduce((s, c) => s + c.fee, 0n);
  const txs = [coinbaseFor(fees), ...chosen.map((c) => c.etx)];
  const header: BlockHeader = {
    ...draftHeader,
    merkleRoot: merkleRoot(txs.map((t) => t.txid)),
    txCount: txs.length,
  };
  const signature = sign(headerSigMessage(headerHash(header)), inputs.producerKey.secretKey);
  return { header, signature, txs };
}
