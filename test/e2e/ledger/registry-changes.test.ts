import { afterEach, describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/chain/block-errors.js';
import { DEVNET_SEED } from '../../../src/chain/genesis.js';
import { compareBytes } from '../../../src/encoding/bytes.js';
import { MempoolError } from '../../../src/ledger/mempool-errors.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { deregistrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import { FUNDED, freeRegistration, fundedOutpoint, key, params, pay } from '../../support/devnet-ledger.js';
import { LedgerHarness } from './harness.js';

/*
 * Issue 12: two registrations of one node key through different inputs both finalized (separate
 * conflict sets), the producer packed both and every node refused the block: production halted for
 * ~600 sat. Registry changes now have conflict keys, and assembly checks candidates together.
 */

const node = devnetKeyPair(DEVNET_SEED, 9_300);
const harnesses: LedgerHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});
async function open(options: Parameters<typeof LedgerHarness.open>[0] = {}) {
  const h = await LedgerHarness.open(options);
  harnesses.push(h);
  return h;
}

const register = (funded: number) => freeRegistration(funded, node);
const deregister = (funded: number) =>
  signTx(
    params,
    {
      inputs: [fundedOutpoint(funded)],
      outputs: [pay(key(funded), FUNDED - 100_000n)],
      payload: deregistrationPayload(params, fundedOutpoint(funded), node),
    },
    [key(funded)],
  );

describe('registry changes through LedgerService and LMDB (issue 12)', () => {
  it('two registrations of one key conflict; the loser is rejected and its rivals stay out', async () => {
    const { ledger } = await open();
    const [r1, r2] = [register(4), register(5)];
    await ledger.submitTx(r1.bytes);
    const second = await ledger.submitTx(r2.bytes);
    expect(second.conflicts.map((t) => t.txid)).toEqual([r1.txid]);
    const { rejected } = await ledger.finalizeTx(r1.txid);
    expect(rejected.map((t) => t.txid)).toEqual([r2.txid]);
    const third = await ledger.submitTx(register(7).bytes).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(MempoolError);
    expect((third as MempoolError).details).toEqual({ payload: 'register' });
  });

  it('refuses a block making the same registry change as a locally finalized transaction', async () => {
    const h = await open({ uncheckedAssembly: true });
    const [mine, theirs] = [register(4), register(5)];
    await h.ledger.submitTx(mine.bytes);
    await h.ledger.finalizeTx(mine.txid);
    // Another producer's block carries the rival (valid against the chain, which has neither).
    const { block, slot } = h.nextBlock([theirs]);
    const err = await h.ledger.applyBlock(block, slot).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockError);
    expect((err as BlockError).code).toBe('CONFLICTS_FINALIZED');
    expect(h.store.tip().height).toBe(0);
  });

  it('a registration and its deregistration returned by a reorg are mined in two blocks', async () => {
    const h = await open();
    const reg = register(4);
    await h.ledger.submitTx(reg.bytes);
    await h.ledger.finalizeTx(reg.txid);
    await h.mine();
    const dereg = deregister(6);
    await h.ledger.submitTx(dereg.bytes);
    await h.ledger.finalizeTx(dereg.txid);
    await h.mine();
    expect(h.store.getMasternode(node.publicKey)).toMatchObject({
      registeredHeight: 1,
      deregisteredHeight: 2,
    });

    await h.ledger.revertTip();
    await h.ledger.revertTip();
    expect(
      h.ledger.mempool
        .finalized()
        .map((t) => t.txid)
        .sort(compareBytes),
    ).toEqual([reg.txid, dereg.txid].sort(compareBytes));
    const first = await h.mine();
    expect(first.block.txs.slice(1).map((t) => t.txid)).toEqual([reg.txid]);
    const second = await h.mine();
    expect(second.block.txs.slice(1).map((t) => t.txid)).toEqual([dereg.txid]);
    expect(h.ledger.mempool.count).toBe(0);
    expect(h.store.getMasternode(node.publicKey)).toMatchObject({
      registeredHeight: 1,
      deregisteredHeight: 2,
    });
  });
});
