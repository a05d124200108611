import { afterEach, describe, expect, it } from 'vitest';
import { type BlockCandidate, selectTransactions } from '../../../src/chain/block-assembly.js';
import { BlockError } from '../../../src/chain/block-errors.js';
import { type SlotContext, validateBlock } from '../../../src/chain/block-validation.js';
import { DEVNET_SEED, devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import { compareBytes } from '../../../src/encoding/bytes.js';
import type { LedgerView } from '../../../src/ledger/ledger-state.js';
import { time } from '../../../src/params/units.js';
import type { Block } from '../../../src/protocol/block.js';
import type { OutPoint } from '../../../src/protocol/transaction.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { deregistrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { chainedSpends } from '../../support/chained-spends.js';
import {
  FUNDED,
  freeRegistration,
  fundedOutpoint,
  key,
  params,
  pay,
  spendFunded,
} from '../../support/devnet-ledger.js';
import { tempDir } from '../storage/temp-dir.js';

const candidates = (txs: readonly EncodedTx[], fee = 10_000n): BlockCandidate[] =>
  txs.map((etx) => ({ etx, fee }));

describe('selectTransactions', () => {
  it('selects a 20,000-transaction chain given child first, parents before children, without recursion', () => {
    const chain = chainedSpends(params, key(0), fundedOutpoint(0), FUNDED, 20_000, 1_000n, { signed: false });
    const chosen = selectTransactions(candidates([...chain].reverse()), 1e9);
    expect(chosen).toHaveLength(20_000);
    // Returned in txid order (the block body order).
    for (let i = 1; i < chosen.length; i++)
      expect(compareBytes(chosen[i - 1]!.etx.txid, chosen[i]!.etx.txid)).toBeLessThan(0);
  });

  it('stops a chain at the budget: a child is never taken without its parent', () => {
    const chain = chainedSpends(params, key(0), fundedOutpoint(0), FUNDED, 10, 1_000n, { signed: false });
    const size = chain[0]!.bytes.length;
    const chosen = selectTransactions(candidates([...chain].reverse()), size * 4 + size - 1);
    expect(chosen.map((c) => c.etx.txid).sort(compareBytes)).toEqual(
      chain
        .slice(0, 4)
        .map((t) => t.txid)
        .sort(compareBytes),
    );
    expect(selectTransactions(candidates(chain), size - 1)).toEqual([]);
    expect(selectTransactions(candidates(chain), size)).toHaveLength(1);
  });
});

/*
 * Issue 12: finalized transactions can be valid one by one yet not together. The producer must
 * never build a block that validateBlock or the chain store refuse, or production halts.
 */
describe('assembleBlock checks every candidate against the parent state plus what it took', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const verifier = new NobleVerifier();
  const bronze = devnetMasternodes()[2];
  const newNode = devnetKeyPair(DEVNET_SEED, 9_100);

  async function openStore(): Promise<ChainStore> {
    const { dir, cleanup } = tempDir('assembly');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, params, genesisBlock(params));
    cleanups.push(() => store.close());
    return store;
  }

  /** What each assembled block was built for (its slot's anchor, active set and beacons). */
  const slotOf = new WeakMap<Block, SlotContext>();

  /** The next block on the store's tip by the slot's leader, its candidates checked against `view`. */
  function assembleOn(store: ChainStore, cands: BlockCandidate[], view: LedgerView | null = store): Block {
    const { block, slot } = nextBlockOn(store, cands, { view });
    slotOf.set(block, slot);
    return block;
  }

  /** validateBlock against the store's tip, then the store's own applyBlock. */
  async function validateAndApply(store: ChainStore, block: Block): Promise<void> {
    await validateBlock(block, { ...slotOf.get(block)!, params, parent: store.tip(), view: store, verifier });
    await store.applyBlock(block);
  }

  const body = (block: Block) => block.txs.slice(1).map((t) => t.txid);

  const registration = (funded: number) => freeRegistration(funded, newNode);
  const deregistration = (funded: number, node = bronze!.nodeKey) =>
    signTx(
      params,
      {
        inputs: [fundedOutpoint(funded)],
        outputs: [pay(key(funded), FUNDED - 100_000n)],
        payload: deregistrationPayload(params, fundedOutpoint(funded), node),
      },
      [key(funded)],
    );

  it('two registrations of one node key: one is taken, the block validates and applies', async () => {
    const store = await openStore();
    const [r1, r2] = [registration(4), registration(5)];
    const block = assembleOn(store, candidates([r1, r2]));
    expect(body(block)).toHaveLength(1);
    await validateAndApply(store, block);
    expect(store.getMasternode(newNode.publicKey)?.registeredHeight).toBe(1);
  });

  it('two deregistrations of one node: one is taken, the block validates and applies', async () => {
    const store = await openStore();
    const block = assembleOn(store, candidates([deregistration(6), deregistration(7)]));
    expect(body(block)).toHaveLength(1);
    await validateAndApply(store, block);
    expect(store.getMasternode(bronze!.nodeKey.publicKey)?.deregisteredHeight).toBe(1);
  });

  it('a registration and its deregistration returned together by a reorg go into two blocks', async () => {
    const store = await openStore();
    const reg = registration(4);
    const dereg = deregistration(6, newNode);
    const first = assembleOn(store, candidates([reg]));
    await validateAndApply(store, first);
    const second = assembleOn(store, candidates([dereg]));
    expect(body(second)).toEqual([dereg.txid]);
    await validateAndApply(store, second);
    // The reorg: both blocks are undone and both transactions are back in the finalized pool.
    await store.revertTip();
    await store.revertTip();
    const returned = store.listFinalized(10);
    expect(returned.map((t) => t.txid).sort(compareBytes)).toEqual([reg.txid, dereg.txid].sort(compareBytes));
    const again = assembleOn(store, candidates(returned));
    expect(body(again)).toEqual([reg.txid]);
    await validateAndApply(store, again);
    const then = assembleOn(store, candidates(store.listFinalized(10)));
    expect(body(then)).toEqual([dereg.txid]);
    await validateAndApply(store, then);
    expect(store.getMasternode(newNode.publicKey)).toMatchObject({
      registeredHeight: 1,
      deregisteredHeight: 2,
    });
  });

  /** A spend of the bronze node's collateral; `salt` changes its txid. */
  function spendOf(collateral: OutPoint, salt: number): EncodedTx {
    return signTx(
      params,
      { inputs: [collateral], outputs: [pay(bronze!.ownerKey, time(999) - BigInt(salt))] },
      [bronze!.ownerKey],
    );
  }

  it('a collateral spend waits for the block after the deregistration, whatever the txid order', async () => {
    const store = await openStore();
    const collateral = store.getMasternode(bronze!.nodeKey.publicKey)!.collateral!;
    const collateralSpend = (salt: number) => spendOf(collateral, salt);
    const dereg = deregistration(6);
    // Spends that sort before and after the deregistration.
    let before = collateralSpend(0);
    for (let s = 1; compareBytes(before.txid, dereg.txid) > 0; s++) before = collateralSpend(s);
    let after = collateralSpend(0);
    for (let s = 1; compareBytes(after.txid, dereg.txid) < 0; s++) after = collateralSpend(s);

    // A block holding both is refused in either order: validity does not depend on txid order.
    for (const spend of [before, after]) {
      const both = assembleOn(store, candidates([dereg, spend]), null);
      expect(body(both)).toHaveLength(2);
      const err = await validateAndApply(store, both).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlockError);
      expect((err as BlockError).details).toMatchObject({ txError: 'COLLATERAL_LOCKED' });
      expect(store.tip().height).toBe(0);
    }
    // Assembly takes the deregistration now and the spend in the next block.
    const first = assembleOn(store, candidates([dereg, before]));
    expect(body(first)).toEqual([dereg.txid]);
    await validateAndApply(store, first);
    const second = assembleOn(store, candidates([before]));
    expect(body(second)).toEqual([before.txid]);
    await validateAndApply(store, second);
  });

  it('a double spend among the candidates: one is taken and skipping the other costs no budget', async () => {
    const store = await openStore();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    const b = spendFunded(0, [pay(key(2), time(1))]);
    const c = spendFunded(3, [pay(key(2), time(1))]);
    const block = assembleOn(store, candidates([a, b, c]));
    expect(body(block)).toHaveLength(2);
    expect(body(block)).toContainEqual(c.txid);
    await validateAndApply(store, block);
  });

  it('recomputes fees against the parent state: a stale candidate fee cannot make a bad coinbase', async () => {
    const store = await openStore();
    const block = assembleOn(store, candidates([spendFunded(0, [pay(key(1), time(1))], 12_345n)], 0n));
    await validateAndApply(store, block);
    expect(store.tip().height).toBe(1);
  });
});
