import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/chain/block-errors.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import type { SignatureItem, SignatureVerifier } from '../../../src/crypto/signature-verifier.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import { parseTx } from '../../../src/ledger/tx-validation.js';
import { time } from '../../../src/params/units.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { tempDirIn } from '../../../src/storage/testing/temp-dir.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { key, params, pay, spendFunded } from '../../support/devnet-ledger.js';

/** Counts the signatures it is asked to verify, and verifies them for real. */
class CountingVerifier implements SignatureVerifier {
  items = 0;
  private readonly inner = new NobleVerifier();
  verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    this.items += items.length;
    return this.inner.verifyBatch(items);
  }
}

/**
 * A block's transactions whose exact bytes the mempool admitted (signatures verified then) are not
 * verified again when the block is applied — the producer's own block and live blocks of polled
 * transactions cost no second signature pass — but different bytes under the same txid (another
 * witness) are verified like any transaction.
 */
describe('LedgerService.applyBlock signature cache', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function open() {
    const { dir, cleanup } = tempDirIn(tmpdir(), 'sigcache');
    const store = await ChainStore.open(dir, params, genesisBlock(params));
    cleanups.push(cleanup, () => store.close());
    const verifier = new CountingVerifier();
    const ledger = LedgerService.open(params, store, verifier);
    return { store, ledger, verifier };
  }

  it('skips the signatures of transactions admitted here, and only those', async () => {
    const { store, ledger, verifier } = await open();
    const admitted = spendFunded(0, [pay(key(1), time(3))]);
    await ledger.submitEncoded(admitted);
    await ledger.finalizeTx(admitted.txid);
    expect(verifier.items).toBe(1); // its one input signature, at admission
    const stranger = spendFunded(2, [pay(key(3), time(4))]); // never seen here
    const { block, slot } = nextBlockOn(store, [
      { etx: admitted, fee: 10_000n },
      { etx: stranger, fee: 10_000n },
    ]);
    verifier.items = 0;
    await ledger.applyBlock(block, slot);
    // The producer signature and the stranger's input: not the admitted transaction's again.
    expect(verifier.items).toBe(2);
    expect(store.getTxHeight(admitted.txid)).toBe(1);
  });

  it('verifies other bytes under an admitted txid: a swapped witness is refused (BAD_TX)', async () => {
    const { store, ledger } = await open();
    const admitted = spendFunded(0, [pay(key(1), time(3))]);
    await ledger.submitEncoded(admitted);
    await ledger.finalizeTx(admitted.txid);
    // Same body, same txid; the last byte of the witness signature flipped.
    const bytes = admitted.bytes.slice();
    bytes[bytes.length - 1]! ^= 0x01;
    const swapped = parseTx(bytes, params);
    expect(swapped.txid).toEqual(admitted.txid);
    const { block, slot } = nextBlockOn(store, [{ etx: swapped, fee: 10_000n }], { view: null });
    const err = await ledger.applyBlock(block, slot).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockError);
    expect((err as BlockError).code).toBe('BAD_TX');
    expect(store.tip().height).toBe(0);
  });
});
