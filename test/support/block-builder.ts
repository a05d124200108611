import { type AnchorCandidate, beaconInput, selectAnchor } from '../../src/beacon/beacon-input.js';
import { rankLeaders } from '../../src/beacon/leader-ranking.js';
import { VerifiedBeacons } from '../../src/beacon/verified-beacons.js';
import { assembleBlock, type BlockCandidate } from '../../src/chain/block-assembly.js';
import type { SlotContext } from '../../src/chain/block-validation.js';
import { devnetMasternodes } from '../../src/chain/genesis.js';
import { rankingWeights } from '../../src/chain/header-rules.js';
import { slotStartMs } from '../../src/chain/slot-time.js';
import { bytesEqual } from '../../src/encoding/bytes.js';
import type { LedgerView, MasternodeRecord } from '../../src/ledger/ledger-state.js';
import type { ChainParams } from '../../src/params/chain-params.js';
import { type Block, headerHash } from '../../src/protocol/block.js';
import type { ChainStore } from '../../src/storage/chain-store.js';
import { vdfEvaluate, vdfProve, vdfVerify } from '../../src/vdf/vdf.js';
import type { KeyPair } from '../../src/wallet/keys.js';

/**
 * Real beacons and real leaders for tests: the VDF runs inline in WASM (devnet T = 4,096 squarings,
 * a few milliseconds), so blocks built here pass every header rule with nothing mocked.
 */

export interface Beacon {
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
}

const beaconCache = new Map<string, Beacon>();

/** y and π of `slot` anchored at `anchorHash` (cached per test process). */
export function realBeacon(params: ChainParams, slot: number, anchorHash: Uint8Array): Beacon {
  const key = `${params.chainId}:${params.vdfDelay}:${slot}:${Buffer.from(anchorHash).toString('hex')}`;
  let b = beaconCache.get(key);
  if (!b) {
    const x = beaconInput(params.chainId, slot, anchorHash);
    const out = vdfEvaluate(x, params.vdfDelay);
    b = { y: out.y, proof: vdfProve(x, out) };
    beaconCache.set(key, b);
  }
  return b;
}

/** A BeaconVerifier on the inline WASM VDF (the node uses the crypto pool instead). */
export function inlineBeacons(params: ChainParams): VerifiedBeacons {
  return new VerifiedBeacons(params, vdfVerify);
}

/** The anchor of `slot` on a chain given newest first (its last entry is genesis). */
export function anchorOf<B extends AnchorCandidate>(chainNewestFirst: readonly B[], slot: number): B {
  return selectAnchor(chainNewestFirst, slot);
}

/** The devnet bootstrap node key of the rank-r leader, or undefined if it is not a bootstrap node. */
export function leaderKey(
  params: ChainParams,
  active: readonly MasternodeRecord[],
  y: Uint8Array,
  rank: number,
): KeyPair | undefined {
  const leader = rankLeaders(rankingWeights(params, active), y)[rank];
  if (!leader) return undefined;
  return devnetMasternodes().find((mn) => bytesEqual(mn.nodeKey.publicKey, leader.nodePubkey))?.nodeKey;
}

/** What validateBlock needs for `slot` on the store's chain: its anchor, active set and a verifier. */
export function slotContextOn(
  store: ChainStore,
  slot: number,
  beacons = inlineBeacons(store.params),
): SlotContext {
  const newestFirst: (AnchorCandidate & { height: number })[] = [];
  for (let h = store.tip().height; h >= 0; h--) {
    const header = store.getBlock(h)!.header;
    newestFirst.push({ slot: header.slot, hash: headerHash(header), height: h });
    if (header.slot < slot - 1) break;
  }
  const anchor = selectAnchor(newestFirst, slot);
  return { anchorHash: anchor.hash, activeMasternodes: store.activeMasternodes(anchor.height), beacons };
}

/** The next block on the store's tip, by the slot's rank-`rank` leader, at the start of its window. */
export function nextBlockOn(
  store: ChainStore,
  candidates: readonly BlockCandidate[],
  opts: { slot?: number; rank?: number; view?: LedgerView | null } = {},
): { block: Block; slot: SlotContext } {
  const params = store.params;
  const tip = store.tip();
  const slotNumber = opts.slot ?? tip.slot + 1;
  const slot = slotContextOn(store, slotNumber);
  const beacon = realBeacon(params, slotNumber, slot.anchorHash);
  const producer = leaderKey(params, slot.activeMasternodes, beacon.y, opts.rank ?? 0);
  if (!producer) throw new Error('the leader is not a devnet bootstrap node');
  const block = assembleBlock({
    params,
    parent: tip,
    slot: slotNumber,
    nowMs: slotStartMs(params, slotNumber),
    activeMasternodes: slot.activeMasternodes,
    beaconY: beacon.y,
    beaconProof: beacon.proof,
    producerKey: producer,
    // The parent state is the store's tip; null assembles unchecked (to build invalid blocks).
    view: opts.view === undefined ? store : opts.view,
    candidates,
  });
  return { block, slot };
}

/**
 * Empty blocks on the store's tip at the given slots, each applied to that store unvalidated (a
 * test's other branch or a peer's chain), oldest first.
 */
export async function extendStore(store: ChainStore, slots: readonly number[]): Promise<Block[]> {
  const out: Block[] = [];
  for (const slot of slots) {
    const { block } = nextBlockOn(store, [], { slot });
    await store.applyBlock(block);
    out.push(block);
  }
  return out;
}
