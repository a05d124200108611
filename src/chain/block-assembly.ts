import { rankOf } from '../beacon/leader-ranking.js';
import { bytesEqual } from '../encoding/bytes.js';
import { sortByBytes } from '../encoding/sort-by-bytes.js';
import { dependencyOrder } from '../ledger/dependency-order.js';
import { LedgerOverlay } from '../ledger/ledger-overlay.js';
import type { LedgerView, MasternodeRecord } from '../ledger/ledger-state.js';
import { bytesKey } from '../ledger/map-keys.js';
import { TxError } from '../ledger/tx-errors.js';
import { checkTxAgainstLedger, checkTxStructure } from '../ledger/tx-validation.js';
import type { ChainParams } from '../params/chain-params.js';
import {
  BEACON_BYTES,
  BLOCK_VERSION,
  type Block,
  type BlockHeader,
  blockOverheadBytes,
  headerHash,
} from '../protocol/block.js';
import { type BlockRootHasher, type BlockRoots, inlineBlockRoots } from '../protocol/block-roots.js';
import { headerSigMessage } from '../protocol/signing.js';
import { type EncodedTx, encodeTx } from '../protocol/tx-codec.js';
import { finishInTurns, finishNow, type Turns } from '../util/yield-to-loop.js';
import { type KeyPair, sign } from '../wallet/keys.js';
import { BlockError } from './block-errors.js';
import { TXS_PER_TURN } from './block-validation.js';
import { checkHeaderRules, type ParentInfo, rankingWeights } from './header-rules.js';
import { coinbaseTx } from './reward.js';
import { rankWindow, rankWindowCount } from './slot-time.js';

export interface BlockCandidate {
  readonly etx: EncodedTx;
  /**
   * Used only when assembling without a view: with one, every fee is recomputed against the parent
   * state exactly as validators do, so a stale fee can never produce a coinbase they refuse.
   */
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
  /**
   * Ledger state at the parent block (the chain store when building on its tip): every candidate
   * is checked against it (choosingBlockTransactions). `null` checks nothing and trusts the
   * candidates' fees: only for tests that build invalid blocks on purpose.
   */
  readonly view: LedgerView | null;
  /** Finalized transactions not yet in the chain, any order. */
  readonly candidates: readonly BlockCandidate[];
}

/**
 * Picks finalized transactions that fit the serialized-size budget (never a block peers reject for
 * size, lesson 11). Candidates are decided one by one in dependency order over txid order: a
 * transaction is taken when every parent it has among the candidates was taken, it still fits, and
 * `accept` (when given) takes it. Excess stays for the next block. A loop, not a recursion: chains
 * of tens of thousands of transactions must not overflow the stack (issue 12).
 */
export function selectTransactions(
  candidates: readonly BlockCandidate[],
  budgetBytes: number,
  accept: (etx: EncodedTx) => boolean = () => true,
): BlockCandidate[] {
  return finishNow(selecting(candidates, budgetBytes, accept));
}

/**
 * selectTransactions in turns: a yield after the sort, after the dependency order (each ~10-40 ms
 * for a full block's candidates) and after every TXS_PER_TURN candidates decided.
 */
function* selecting(
  candidates: readonly BlockCandidate[],
  budgetBytes: number,
  accept: (etx: EncodedTx) => boolean,
): Turns<BlockCandidate[]> {
  const sorted = sortByBytes(candidates, (c) => c.etx.txid);
  const candidateOf = new Map(sorted.map((c) => [c.etx, c]));
  const candidateIds = new Set(sorted.map((c) => bytesKey(c.etx.txid)));
  const taken = new Set<string>();
  const chosen: BlockCandidate[] = [];
  let used = 0;
  yield;
  const order = dependencyOrder(sorted.map((c) => c.etx));
  yield;
  let decided = 0;
  for (const etx of order) {
    if (++decided % TXS_PER_TURN === 0) yield;
    const parentMissing = etx.tx.inputs.some((input) => {
      const parent = bytesKey(input.txid);
      return candidateIds.has(parent) && !taken.has(parent);
    });
    if (parentMissing || used + etx.bytes.length > budgetBytes || !accept(etx)) continue;
    taken.add(bytesKey(etx.txid));
    used += etx.bytes.length;
    chosen.push(candidateOf.get(etx)!);
  }
  return sortByBytes(chosen, (c) => c.etx.txid);
}

/**
 * The transactions of a block on `view` at `height` and their fees: each candidate, in the order
 * selectTransactions decides it, is checked against the parent state plus everything already taken
 * (the ledger rules validateBlock applies; signatures were verified at admission) and skipped when
 * it is invalid there. Finalized transactions can be valid alone yet not together: two
 * registrations of one node key finalized through different inputs, or a registration and its
 * deregistration returned together by a reorg. A skipped one stays in the pool; it may fit a later
 * block. The ledger rules do not depend on the order of a block's transactions beyond parents
 * first, so a set valid in this order is valid in the order validators check it in.
 */
function* choosingBlockTransactions(
  params: ChainParams,
  view: LedgerView,
  height: number,
  candidates: readonly BlockCandidate[],
  budgetBytes: number,
): Turns<{ chosen: BlockCandidate[]; fees: bigint }> {
  const overlay = new LedgerOverlay(view, params, height);
  let fees = 0n;
  const chosen = yield* selecting(candidates, budgetBytes, (etx) => {
    try {
      checkTxStructure(etx, params);
      fees += checkTxAgainstLedger(etx, overlay, params, height).fee;
    } catch (err) {
      if (err instanceof TxError) return false;
      throw err;
    }
    overlay.apply(etx);
    return true;
  });
  return { chosen, fees };
}

function* uncheckedSelection(
  candidates: readonly BlockCandidate[],
  budgetBytes: number,
): Turns<{ chosen: BlockCandidate[]; fees: bigint }> {
  const chosen = yield* selecting(candidates, budgetBytes, () => true);
  return { chosen, fees: chosen.reduce((sum, c) => sum + c.fee, 0n) };
}

/**
 * Builds and signs a block exactly as validateBlock demands: the producer's rank is drawn from the
 * beacon over the anchor's active set (the same ranking validators run), the timestamp lies in that
 * rank's window, the coinbase is the same coinbaseTx() validators recompute, then the transactions
 * chosen against `inputs.view` (choosingBlockTransactions) in txid order, and both roots. The
 * assembled header is run through checkHeaderRules before it is signed. Throws a BlockError when
 * this producer may not produce in this slot (not active, or its rank has no window) or the beacon
 * has the wrong length. The roots are hashed on this thread; the node uses assembleBlockWith.
 */
export function assembleBlock(inputs: AssemblyInputs): Block {
  const draft = finishNow(drafting(inputs));
  return sealBlock(inputs, draft, inlineBlockRoots(draft.txs));
}

/**
 * assembleBlock for the node's coordinator: draftBlockInTurns, then sealBlockWith. The node runs the
 * two apart, so that only the draft holds the ledger's writes back.
 */
export async function assembleBlockWith(inputs: AssemblyInputs, roots: BlockRootHasher): Promise<Block> {
  return sealBlockWith(inputs, await draftBlockInTurns(inputs), roots);
}

/**
 * The block without its roots and signature, its candidates decided in turns that each give the
 * event loop its turn (a full block's ~9,400 ledger checks held it ~200 ms in one stretch).
 * `inputs.view` must not change until it resolves: the node drafts between the ledger's writes
 * (LedgerService.betweenWrites).
 */
export function draftBlockInTurns(inputs: AssemblyInputs): Promise<BlockDraft> {
  return finishInTurns(drafting(inputs));
}

/**
 * The draft sealed: its roots hashed by `roots` (the node: the crypto pool, off the event loop,
 * where the task may queue behind signature batches), then checked and signed as assembleBlock does.
 */
export async function sealBlockWith(
  inputs: AssemblyInputs,
  draft: BlockDraft,
  roots: BlockRootHasher,
): Promise<Block> {
  return sealBlock(inputs, draft, await roots.blockRoots(draft.txs));
}

/** Header fields, coinbase and chosen transactions of a block being assembled: all but roots and signature. */
export interface BlockDraft {
  readonly header: BlockHeader;
  readonly txs: EncodedTx[];
}

/** Everything but the roots and the signature: header fields, coinbase and chosen transactions. */
function* drafting(inputs: AssemblyInputs): Turns<BlockDraft> {
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
  const header: BlockHeader = {
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
  const budget = params.maxBlockBytes - blockOverheadBytes(header) - coinbaseFor(0n).bytes.length;
  const { chosen, fees } =
    inputs.view === null
      ? yield* uncheckedSelection(inputs.candidates, budget)
      : yield* choosingBlockTransactions(params, inputs.view, height, inputs.candidates, budget);
  return { header, txs: [coinbaseFor(fees), ...chosen.map((c) => c.etx)] };
}

/** The draft with its roots and count, checked by the header rules and signed. */
function sealBlock(inputs: AssemblyInputs, draft: BlockDraft, roots: BlockRoots): Block {
  const header: BlockHeader = {
    ...draft.header,
    merkleRoot: roots.merkleRoot,
    witnessRoot: roots.witnessRoot,
    txCount: draft.txs.length,
  };
  checkHeaderRules(header, {
    params: inputs.params,
    parent: inputs.parent,
    activeMasternodes: inputs.activeMasternodes,
  });
  const signature = sign(headerSigMessage(headerHash(header)), inputs.producerKey.secretKey);
  return { header, signature, txs: draft.txs };
}
