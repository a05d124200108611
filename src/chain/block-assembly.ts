import { rankOf } from '../beacon/leader-ranking.js';
import { bytesEqual, compareBytes } from '../encoding/bytes.js';
import { dependencyOrder } from '../ledger/dependency-order.js';
import type { MasternodeRecord } from '../ledger/ledger-state.js';
import { bytesKey } from '../ledger/map-keys.js';
import type { ChainParams } from '../params/chain-params.js';
import {
  BEACON_BYTES,
  BLOCK_VERSION,
  type Block,
  type BlockHeader,
  blockOverheadBytes,
  headerHash,
} from '../protocol/block.js';
import { merkleRoot } from '../protocol/merkle.js';
import { headerSigMessage } from '../protocol/signing.js';
import { type EncodedTx, encodeTx } from '../protocol/tx-codec.js';
import { witnessRoot } from '../protocol/witness-root.js';
import { type KeyPair, sign } from '../wallet/keys.js';
import { BlockError } from './block-errors.js';
import { checkHeaderRules, type ParentInfo, rankingWeights } from './header-rules.js';
import { coinbaseTx } from './reward.js';
import { rankWindow, rankWindowCount } from './slot-time.js';

export interface BlockCandidate {
  readonly etx: EncodedTx;
  readonly fee: bigint;
}

export interface AssemblyInputs {
  readonly params: ChainParams;
  readonly parent: ParentInfo;
  readonly slot: number;
  /**
   * The producer's clock. The header timestamp is this value clamped into the producer's rank
   * window, so the block is valid whatever the clock says; WHEN to publish (not before the window
   * opens) is the node's decision.
   */
  readonly nowMs: number;
  /** The active set as of the slot's anchor: the same list validateBlock gets in its SlotContext. */
  readonly activeMasternodes: readonly MasternodeRecord[];
  /** The slot's beacon for this branch's anchor (evaluated or verified by the node). */
  readonly beaconY: Uint8Array;
  readonly beaconProof: Uint8Array;
  readonly producerKey: KeyPair;
  /** Finalized transactions not yet in the chain, any order. */
  readonly candidates: readonly BlockCandidate[];
}

/**
 * Picks finalized transactions that fit the serialized-size budget (never a block peers reject for
 * size, lesson 11). Candidates are decided one by one in dependency order over txid order (the
 * order validators check a block in): a transaction is taken when every parent it has among the
 * candidates was taken and it still fits. Excess stays for the next block. A loop, not a
 * recursion: chains of tens of thousands of transactions must not overflow the stack (issue 12).
 */
export function selectTransactions(
  candidates: readonly BlockCandidate[],
  budgetBytes: number,
): BlockCandidate[] {
  const sorted = [...candidates].sort((a, b) => compareBytes(a.etx.txid, b.etx.txid));
  const candidateOf = new Map(sorted.map((c) => [c.etx, c]));
  const candidateIds = new Set(sorted.map((c) => bytesKey(c.etx.txid)));
  const taken = new Set<string>();
  const chosen: BlockCandidate[] = [];
  let used = 0;
  for (const etx of dependencyOrder(sorted.map((c) => c.etx))) {
    const parentMissing = etx.tx.inputs.some((input) => {
      const parent = bytesKey(input.txid);
      return candidateIds.has(parent) && !taken.has(parent);
    });
    if (parentMissing || used + etx.bytes.length > budgetBytes) continue;
    taken.add(bytesKey(etx.txid));
    used += etx.bytes.length;
    chosen.push(candidateOf.get(etx)!);
  }
  return chosen.sort((a, b) => compareBytes(a.etx.txid, b.etx.txid));
}

/**
 * Builds and signs a block exactly as validateBlock demands: the producer's rank is drawn from the
 * beacon over the anchor's active set (the same ranking validators run), the timestamp lies in that
 * rank's window, the coinbase is the same coinbaseTx() validators recompute, then txid-sorted
 * transactions, and both roots. The assembled header is run through checkHeaderRules before it is
 * signed. Throws a BlockError when this producer may not produce in this slot (not active, or its
 * rank has no window) or the beacon has the wrong length.
 */
export function assembleBlock(inputs: AssemblyInputs): Block {
  const { params, parent, activeMasternodes } = inputs;
  const producerPubkey = inputs.producerKey.publicKey;
  const producer = activeMasternodes.find((m) => bytesEqual(m.nodePubkey, producerPubkey));
  if (!producer)
    throw new BlockError('UNKNOWN_PRODUCER', 'this node is not in the active set as of the anchor');
  if (inputs.beaconY.length !== BEACON_BYTES || inputs.beaconProof.length !== BEACON_BYTES)
    throw new BlockError('BAD_BEACON', `beacon y and proof must be ${BEACON_BYTES} bytes`);
  const rank = rankOf(rankingWeights(params, activeMasternodes), inputs.beaconY, producerPubkey);
  if (rank >= rankWindowCount(params))
    throw new BlockError('WRONG_RANK', `rank ${rank} has no publishing window in a slot`, { rank });
  const window = rankWindow(params, inputs.slot, rank);
  const timestampMs = Math.min(Math.max(inputs.nowMs, window.startMs), window.endMs - 1);

  const height = parent.height + 1;
  const coinbaseFor = (fees: bigint): EncodedTx =>
    encodeTx(
      coinbaseTx(params, {
        height,
        beaconY: inputs.beaconY,
        producerRewardAddress: producer.rewardAddress,
        fees,
        activeMasternodes,
      }),
    );
  const draftHeader: BlockHeader = {
    version: BLOCK_VERSION,
    chainId: params.chainId,
    height,
    slot: inputs.slot,
    timestampMs,
    prevHash: parent.hash,
    merkleRoot: new Uint8Array(32),
    witnessRoot: new Uint8Array(32),
    txCount: 0,
    beaconY: inputs.beaconY,
    beaconProof: inputs.beaconProof,
    producerPubkey,
    rank,
  };
  // Fees are a fixed-width u64, so the coinbase's size does not depend on them.
  const budget = params.maxBlockBytes - blockOverheadBytes(draftHeader) - coinbaseFor(0n).bytes.length;
  const chosen = selectTransactions(inputs.candidates, budget);
  const fees = chosen.reduce((s, c) => s + c.fee, 0n);
  const txs = [coinbaseFor(fees), ...chosen.map((c) => c.etx)];
  const header: BlockHeader = {
    ...draftHeader,
    merkleRoot: merkleRoot(txs.map((t) => t.txid)),
    witnessRoot: witnessRoot(txs),
    txCount: txs.length,
  };
  checkHeaderRules(header, { params, parent, activeMasternodes });
  const signature = sign(headerSigMessage(headerHash(header)), inputs.producerKey.secretKey);
  return { header, signature, txs };
}
