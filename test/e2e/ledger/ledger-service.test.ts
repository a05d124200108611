import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import type { SignatureItem, SignatureVerifier } from '../../../src/crypto/signature-verifier.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { type CommittedChain, LedgerService } from '../../../src/ledger/ledger-service.js';
import { MempoolError } from '../../../src/ledger/mempool-errors.js';
import { TxError } from '../../../src/ledger/tx-errors.js';
import { parseTx } from '../../../src/ledger/tx-validation.js';
import { time } from '../../../src/params/units.js';
import { headerHash } from '../../../src/protocol/block.js';
import { inlineBlockRoots, type RootedTx } from '../../../src/protocol/block-roots.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { signTx } from '../../../src/wallet/tx-builder.js';
import { CryptoPool } from '../../../src/workers/crypto-pool.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { fundedOutpoint, key, params, pay, spendFunded } from '../../support/devnet-ledger.js';
import { gate } from '../../support/gate.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

const genesis = genesisBlock(params);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The same suite over every SignatureVerifier: inline @noble, inline WASM, and the piscina pool of
 * WASM workers the node uses (it needs the compiled worker in dist/, which `npm test` builds).
 */
const VERIFIERS: [string, () => SignatureVerifier & { close?(): Promise<void> }][] = [
  ['noble (inline)', () => new NobleVerifier()],
  ['wasm (inline)', () => new WasmVerifier()],
  ['crypto pool (2 workers)', () => new CryptoPool({ threads: 2 })],
];
let makeVerifier = VERIFIERS[0]![1];

async function openLedger(dir: string): Promise<{ store: ChainStore; ledger: LedgerService }> {
  const store = await ChainStore.open(dir, params, genesis);
  cleanups.push(() => store.close());
  const verifier = makeVerifier();
  if (verifier.close) cleanups.push(() => verifier.close!());
  return { store, ledger: LedgerService.open(params, store, verifier) };
}

/** A new store in its own temp dir, closed and removed after the test. */
async function freshStore(name: string): Promise<ChainStore> {
  const { dir, cleanup } = tempDir(name);
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, params, genesis);
  cleanups.push(() => store.close());
  return store;
}

function nextBlock(store: ChainStore, ledger: LedgerService) {
  const candidates = ledger.mempool
    .finalized()
    .map((etx) => ({ etx, fee: ledger.mempool.get(etx.txid)!.fee }));
  const { block, slot } = nextBlockOn(store, candidates);
  return { block, active: slot };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof TxError || err instanceof MempoolError) return err.code;
    throw err;
  }
}

describe.each(VERIFIERS)('LedgerService over LMDB, verifier: %s', (_name, make) => {
  beforeEach(() => {
    makeVerifier = make;
  });

  it('a conflict resolves by finality, survives a restart, is packed into a block, and is undone by a reorg', async () => {
    const { dir, cleanup } = tempDir('ledger');
    cleanups.push(cleanup);
    let { store, ledger } = await openLedger(dir);

    const a = spendFunded(0, [pay(key(1), time(5))]);
    const b = spendFunded(0, [pay(key(2), time(5))]);
    const c = spendFunded(3, [pay(key(4), time(7))]);
    expect((await ledger.submitTx(a.bytes)).conflicts).toEqual([]);
    expect((await ledger.submitTx(b.bytes)).conflicts.map((t) => t.txid)).toEqual([a.txid]);
    await ledger.submitTx(c.bytes);
    expect(await code(ledger.submitTx(a.bytes))).toBe('ALREADY_KNOWN');

    const { rejected } = await ledger.finalizeTx(a.txid);
    expect(rejected.map((t) => t.txid)).toEqual([b.txid]);
    await ledger.finalizeTx(c.txid);
    // A child of a finalized transaction is valid at once (it spends the finalized view).
    const child = signTx(
      params,
      { inputs: [{ txid: a.txid, vout: 0 }], outputs: [pay(key(5), time(5) - 20_000n)] },
      [key(1)],
    );
    await ledger.submitTx(child.bytes);
    expect(await code(ledger.submitTx(spendFunded(0, [pay(key(6), time(1))]).bytes))).toBe(
      'CONFLICTS_FINALIZED',
    );

    // Restart: finalized transactions were persisted before finalizeTx resolved; processing ones are gone.
    await store.close();
    cleanups.pop();
    ({ store, ledger } = await openLedger(dir));
    expect(
      ledger.mempool
        .finalized()
        .map((t) => t.txid)
        .sort(Buffer.compare),
    ).toEqual([a.txid, c.txid].sort(Buffer.compare));
    expect(ledger.mempool.get(child.txid)).toBeUndefined();
    expect(ledger.mempool.get(a.txid)!.fee).toBe(10_000n);
    expect(await code(ledger.submitTx(b.bytes))).toBe('CONFLICTS_FINALIZED');

    // A block packs both finalized transactions; they leave the mempool and the outputs are in LMDB.
    const { block, active } = nextBlock(store, ledger);
    expect(block.txs).toHaveLength(3);
    await ledger.applyBlock(block, active);
    expect(store.tip().height).toBe(1);
    expect(ledger.mempool.count).toBe(0);
    expect(store.getUtxo({ txid: a.txid, vout: 0 })?.value).toBe(time(5));
    expect(store.getUtxo(fundedOutpoint(0))).toBeUndefined();
    expect(store.listFinalized(10)).toEqual([]);

    // Reorg: undoing the block returns its transactions to the finalized pool; they stay final.
    await ledger.revertTip();
    expect(store.tip().height).toBe(0);
    expect(ledger.mempool.finalized()).toHaveLength(2);
    expect(ledger.mempool.get(a.txid)!.fee).toBe(10_000n);
    expect(store.listFinalized(10)).toHaveLength(2);
    expect(await code(ledger.submitTx(b.bytes))).toBe('CONFLICTS_FINALIZED');
  });

  it('opens over a finalized transaction it cannot price (an input the chain lacks): kept, fee 0', async () => {
    const { dir, cleanup } = tempDir('ledger');
    cleanups.push(cleanup);
    const first = await openLedger(dir);
    // Its input is an output of a transaction the chain never saw; the priced one spends genesis.
    const orphaned = signTx(
      params,
      { inputs: [{ txid: new Uint8Array(32).fill(0xab), vout: 0 }], outputs: [pay(key(2), time(1))] },
      [key(1)],
    );
    const priced = spendFunded(4, [pay(key(3), time(3))]);
    await first.store.putFinalized(orphaned, priced);
    await first.store.close();
    cleanups.pop();
    const { ledger } = await openLedger(dir);
    expect(ledger.mempool.get(orphaned.txid)?.status).toBe('finalized');
    expect(ledger.mempool.get(orphaned.txid)!.fee).toBe(0n);
    expect(ledger.mempool.get(priced.txid)!.fee).toBe(10_000n);
  });

  it('applies and reverts a block whose child sorts before its parent (txid order is not dependency order)', async () => {
    const { dir, cleanup } = tempDir('ledger-order');
    cleanups.push(cleanup);
    const { store, ledger } = await openLedger(dir);
    // Find a parent/child pair where the child's txid sorts first (each try changes the child's amount).
    const parent = spendFunded(2, [pay(key(5), time(10))]);
    await ledger.submitTx(parent.bytes);
    await ledger.finalizeTx(parent.txid);
    let child = signTx(
      params,
      { inputs: [{ txid: parent.txid, vout: 0 }], outputs: [pay(key(6), time(9))] },
      [key(5)],
    );
    for (let i = 1; Buffer.compare(child.txid, parent.txid) > 0; i++) {
      child = signTx(
        params,
        { inputs: [{ txid: parent.txid, vout: 0 }], outputs: [pay(key(6), time(9) - BigInt(i))] },
        [key(5)],
      );
    }
    await ledger.submitTx(child.bytes);
    await ledger.finalizeTx(child.txid);
    const { block, active } = nextBlock(store, ledger);
    expect(block.txs.map((t) => t.txid)).toEqual([block.txs[0]!.txid, child.txid, parent.txid]);
    await ledger.applyBlock(block, active);
    expect(store.getUtxo({ txid: child.txid, vout: 0 })?.value).toBe(child.tx.outputs[0]!.value);
    expect(store.getUtxo({ txid: parent.txid, vout: 0 })).toBeUndefined();
    expect(store.getUtxo(fundedOutpoint(2))).toBeUndefined();
    await ledger.revertTip();
    expect(store.getUtxo(fundedOutpoint(2))?.value).toBe(time(1_000_000));
    expect(store.getUtxo({ txid: parent.txid, vout: 0 })).toBeUndefined();
    expect(store.getUtxo({ txid: child.txid, vout: 0 })).toBeUndefined();
  });

  it('refuses an invalid block without touching the store', async () => {
    const { dir, cleanup } = tempDir('ledger-bad');
    cleanups.push(cleanup);
    const { store, ledger } = await openLedger(dir);
    const { block, active } = nextBlock(store, ledger);
    const bad = { ...block, signature: new Uint8Array(64) };
    await expect(ledger.applyBlock(bad, active)).rejects.toThrow(/producer signature/);
    expect(store.tip().height).toBe(0);
    await ledger.applyBlock(block, active);
    expect(store.tip().height).toBe(1);
  });

  it('rejects a transaction whose signature is forged, with the input named', async () => {
    const { dir, cleanup } = tempDir('ledger-sig');
    cleanups.push(cleanup);
    const { ledger } = await openLedger(dir);
    const good = spendFunded(0, [pay(key(1), time(5))]);
    const forged = good.bytes.slice();
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
    expect(await code(ledger.submitTx(forged))).toBe('BAD_SIGNATURE');
    expect(await code(ledger.submitTx(Uint8Array.of(1, 2, 3)))).toBe('MALFORMED');
    expect(ledger.mempool.count).toBe(0);
  });
});

/** The real @noble verifier; `holdNext()` makes only the next call wait until `release()`. */
class GatedVerifier implements SignatureVerifier {
  private readonly inner = new NobleVerifier();
  private gate: { promise: Promise<void>; open(): void } | null = null;
  private armed = false;

  holdNext(): void {
    let open = (): void => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate = { promise, open };
    this.armed = true;
  }

  release(): void {
    this.gate?.open();
  }

  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    const results = await this.inner.verifyBatch(items);
    if (this.armed && this.gate) {
      this.armed = false;
      await this.gate.promise;
    }
    return results;
  }
}

/**
 * A LedgerService over a fresh real store whose signature verification the test holds and releases;
 * `wrap` puts a proxy between the ledger and the store.
 */
async function gatedLedger(
  name: string,
  wrap: (store: ChainStore) => CommittedChain = (store) => store,
): Promise<{ store: ChainStore; verifier: GatedVerifier; ledger: LedgerService }> {
  const { dir, cleanup } = tempDir(name);
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, params, genesis);
  cleanups.push(() => store.close());
  const verifier = new GatedVerifier();
  return { store, verifier, ledger: LedgerService.open(params, wrap(store), verifier) };
}

describe('LedgerService: state that changes while a submission awaits its signatures', () => {
  it('re-checks the ledger after the await: an input spent meanwhile by a finalized, included rival is refused', async () => {
    const { store, verifier, ledger } = await gatedLedger('ledger-race');

    const winner = spendFunded(0, [pay(key(1), time(5))]);
    const late = spendFunded(0, [pay(key(2), time(5))]);
    await ledger.submitTx(winner.bytes);
    verifier.holdNext();
    const pending = code(ledger.submitTx(late.bytes));
    // While `late` waits for its signatures, the winner finalizes and a block includes it.
    await ledger.finalizeTx(winner.txid);
    const { block, slot: active } = nextBlockOn(store, [{ etx: winner, fee: 10_000n }]);
    await ledger.applyBlock(block, active);
    verifier.release();
    expect(await pending).toBe('INPUT_NOT_FOUND');
    expect(ledger.mempool.get(late.txid)).toBeUndefined();
  });

  it('re-checks after a block from elsewhere spends the input: nothing was finalized here, only the chain moved', async () => {
    const { store, verifier, ledger } = await gatedLedger('ledger-race-block');

    // `other` was finalized by the network while this node never saw it; a block includes it.
    const other = spendFunded(0, [pay(key(1), time(5))]);
    const late = spendFunded(0, [pay(key(2), time(5))]);
    verifier.holdNext();
    const pending = code(ledger.submitTx(late.bytes));
    const { block, slot } = nextBlockOn(store, [{ etx: other, fee: 10_000n }]);
    await ledger.applyBlock(block, slot);
    verifier.release();
    expect(await pending).toBe('INPUT_NOT_FOUND');
    expect(ledger.mempool.get(late.txid)).toBeUndefined();
  });

  it('the re-check after a block measures lock times from the new tip: a transaction valid at the next height stays valid', async () => {
    const { store, verifier, ledger } = await gatedLedger('ledger-recheck-height');
    const other = spendFunded(0, [pay(key(1), time(5))]);
    // Spendable from height 1: the height of the next block when it is submitted (tip = genesis).
    const timed = spendFunded(1, [pay(key(2), time(5))], 10_000n, { lockTime: 1 });
    verifier.holdNext();
    const pending = ledger.submitTx(timed.bytes);
    const { block, slot } = nextBlockOn(store, [{ etx: other, fee: 10_000n }]);
    await ledger.applyBlock(block, slot);
    verifier.release();
    // The chain moved, so the rules ran again, against the block after the new tip (height 2).
    await expect(pending).resolves.toMatchObject({ fee: 10_000n });
    expect(ledger.mempool.get(timed.txid)?.status).toBe('processing');
  });

  it('runs the ledger rules once when the chain did not move during the await, and again when it did', async () => {
    // Each run of the rules reads the submission's input from the store once (the overlay holds
    // nothing yet); reads of other outpoints (a block's validation) are not counted.
    let reads = 0;
    let watched = fundedOutpoint(0);
    const counting = (store: ChainStore) =>
      new Proxy(store, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (property === 'getUtxo')
            return (...args: Parameters<ChainStore['getUtxo']>) => {
              const [o] = args;
              if (o.vout === watched.vout && toHex(o.txid) === toHex(watched.txid)) reads++;
              return target.getUtxo(...args);
            };
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const { store, verifier, ledger } = await gatedLedger('ledger-recheck-count', counting);
    const readsOf = async (funded: number, submit: () => Promise<unknown>) => {
      watched = fundedOutpoint(funded);
      reads = 0;
      await submit();
      return reads;
    };

    const first = spendFunded(0, [pay(key(1), time(5))]);
    expect(await readsOf(0, () => ledger.submitTx(first.bytes))).toBe(1);
    // A finalization meanwhile changes nothing Mempool.admit does not check itself.
    const second = spendFunded(1, [pay(key(2), time(5))]);
    verifier.holdNext();
    const held = readsOf(1, () => ledger.submitTx(second.bytes));
    await ledger.finalizeTx(first.txid);
    verifier.release();
    expect(await held).toBe(1);
    // A block meanwhile does: the rules run again.
    const third = spendFunded(2, [pay(key(3), time(5))]);
    verifier.holdNext();
    const heldAcrossBlock = readsOf(2, () => ledger.submitTx(third.bytes));
    const { block, slot } = nextBlockOn(store, [{ etx: first, fee: ledger.mempool.get(first.txid)!.fee }]);
    await ledger.applyBlock(block, slot);
    verifier.release();
    expect(await heldAcrossBlock).toBe(2);
    // Once the block is written, a submission runs them once again.
    const fourth = spendFunded(3, [pay(key(4), time(5))]);
    expect(await readsOf(3, () => ledger.submitTx(fourth.bytes))).toBe(1);
  });

  it('re-checks while a block write is under way: the store shows the block before its write resolves', async () => {
    // The real store, whose applyBlock commits and then holds its answer: what LMDB's commit on its
    // own thread looks like to a reader that runs before the write's promise settles.
    let written: () => void = () => {};
    const wrote = new Promise<void>((r) => {
      written = r;
    });
    let answer: () => void = () => {};
    const holding = (store: ChainStore) =>
      new Proxy(store, {
        get(target, property) {
          if (property === 'applyBlock')
            return async (...args: Parameters<ChainStore['applyBlock']>) => {
              const done = await target.applyBlock(...args);
              written();
              await new Promise<void>((r) => {
                answer = r;
              });
              return done;
            };
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const { store, verifier, ledger } = await gatedLedger('ledger-race-write', holding);

    const other = spendFunded(0, [pay(key(1), time(5))]);
    const late = spendFunded(0, [pay(key(2), time(5))]);
    verifier.holdNext();
    const pending = code(ledger.submitTx(late.bytes));
    const { block, slot } = nextBlockOn(store, [{ etx: other, fee: 10_000n }]);
    const applied = ledger.applyBlock(block, slot);
    await wrote;
    verifier.release();
    expect(await pending).toBe('INPUT_NOT_FOUND');
    answer();
    await applied;
    expect(store.tip().height).toBe(1);
    expect(ledger.mempool.get(late.txid)).toBeUndefined();
  });
});

/**
 * The real LMDB store, except that `putFinalized` fails (as a full disk would) while `failing`:
 * the one fault the test injects, at the boundary the ledger's ordering rule is about.
 */
function failingPersistence(store: ChainStore): { chain: CommittedChain; setFailing(on: boolean): void } {
  let failing = true;
  const chain = new Proxy(store, {
    get(target, property) {
      if (property === 'putFinalized' && failing) {
        return () =>
          Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    chain,
    setFailing(on) {
      failing = on;
    },
  };
}

describe('LedgerService: persist before acknowledging finality (issue 15)', () => {
  it('when persisting fails, the transaction stays processing, its rivals live on, and nothing is final', async () => {
    const { dir, cleanup } = tempDir('ledger-persist-fail');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, params, genesis);
    cleanups.push(() => store.close());
    const { chain, setFailing } = failingPersistence(store);
    const ledger = LedgerService.open(params, chain, new NobleVerifier());

    const a = spendFunded(0, [pay(key(1), time(5))]);
    const rival = spendFunded(0, [pay(key(2), time(5))]);
    await ledger.submitTx(a.bytes);
    await ledger.submitTx(rival.bytes);
    const child = signTx(
      params,
      { inputs: [{ txid: a.txid, vout: 0 }], outputs: [pay(key(5), time(5) - 20_000n)] },
      [key(1)],
    );

    await expect(ledger.finalizeTx(a.txid)).rejects.toThrow(/ENOSPC/);
    // Nothing was acknowledged: `a` is still undecided, the rival still competes with it…
    expect(ledger.mempool.get(a.txid)?.status).toBe('processing');
    expect(ledger.mempool.get(rival.txid)?.status).toBe('processing');
    expect(ledger.mempool.wasRejected(rival.txid)).toBe(false);
    expect(ledger.mempool.conflictSetSizes(a.txid)).toEqual([2]);
    expect(ledger.mempool.finalizedSpender(fundedOutpoint(0))).toBeUndefined();
    // …its outputs are not spendable, and the store holds nothing final.
    expect(ledger.view.getUtxo({ txid: a.txid, vout: 0 })).toBeUndefined();
    expect(await code(ledger.submitTx(child.bytes))).toBe('INPUT_NOT_FOUND');
    expect(store.listFinalized(10)).toEqual([]);

    // Once the disk recovers, the same call succeeds and only then do the rivals lose.
    setFailing(false);
    const { rejected } = await ledger.finalizeTx(a.txid);
    expect(rejected.map((t) => t.txid)).toEqual([rival.txid]);
    expect(store.listFinalized(10).map((t) => t.txid)).toEqual([a.txid]);
    expect(await code(ledger.submitTx(child.bytes))).toBe('OK');
  });
});

describe('LedgerService: decisions that race the write queue, and unknown txids (issue 15)', () => {
  async function open() {
    const store = await freshStore('ledger-races');
    return { store, ledger: LedgerService.open(params, store, new NobleVerifier()) };
  }

  it('a transaction rejected before its queued finalization runs is not finalized, persisted or reported', async () => {
    const { store, ledger } = await open();
    const a = spendFunded(0, [pay(key(1), time(5))]);
    const b = spendFunded(1, [pay(key(1), time(5))]);
    await ledger.submitTx(a.bytes);
    await ledger.submitTx(b.bytes);
    // Both calls take the transaction while it is processing; the write runs later, in the queue.
    const one = ledger.finalizeTx(a.txid);
    const many = ledger.finalizeTxs([b.txid]);
    expect(ledger.rejectTx(a.txid).txid).toEqual(a.txid);
    expect(ledger.rejectTx(b.txid).txid).toEqual(b.txid);
    await expect(one).rejects.toThrow('NOT_PROCESSING: not a processing transaction');
    expect(await many).toEqual([]);
    expect(ledger.mempool.get(a.txid)).toBeUndefined();
    expect(ledger.mempool.get(b.txid)).toBeUndefined();
    expect(ledger.mempool.wasRejected(b.txid)).toBe(true);
    expect(store.listFinalized(10)).toEqual([]);
  });

  it('betweenWrites: writes queued before it land first, writes asked for during it wait until it settles', async () => {
    const { store, ledger } = await open();
    const a = spendFunded(0, [pay(key(1), time(5))]);
    const b = spendFunded(1, [pay(key(1), time(5))]);
    await ledger.submitTx(a.bytes);
    await ledger.submitTx(b.bytes);
    const before = ledger.finalizeTxs([a.txid]);
    const { wait, release } = gate();
    const seen: string[][] = [];
    const finalizedIds = () => store.listFinalized(10).map((t) => toHex(t.txid));
    const read = ledger.betweenWrites(async () => {
      seen.push(finalizedIds());
      await wait;
      seen.push(finalizedIds());
      return 'read';
    });
    const during = ledger.finalizeTxs([b.txid]);
    // The write asked for while the read holds the queue has not started: b is still processing.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(ledger.mempool.get(b.txid)?.status).toBe('processing');
    release();
    expect(await read).toBe('read');
    await Promise.all([before, during]);
    expect(seen).toEqual([[toHex(a.txid)], [toHex(a.txid)]]);
    expect(finalizedIds().sort()).toEqual([toHex(a.txid), toHex(b.txid)].sort());
  });

  it('unknown or already decided txids: finalizeTx rejects by name, finalizeTxs skips them', async () => {
    const { ledger } = await open();
    const a = spendFunded(0, [pay(key(1), time(5))]);
    const stranger = spendFunded(2, [pay(key(1), time(5))]);
    await expect(ledger.finalizeTx(stranger.txid)).rejects.toThrow(
      'NOT_PROCESSING: not a processing transaction',
    );
    expect(await ledger.finalizeTxs([stranger.txid])).toEqual([]);
    await ledger.submitTx(a.bytes);
    await expect(ledger.submitTx(a.bytes)).rejects.toThrow(
      'ALREADY_KNOWN: transaction already in the mempool',
    );
    const [done] = await ledger.finalizeTxs([stranger.txid, a.txid]);
    expect(done?.finalized.txid).toEqual(a.txid);
    await expect(ledger.finalizeTx(a.txid)).rejects.toThrow('NOT_PROCESSING: not a processing transaction');
    expect(await ledger.finalizeTxs([a.txid])).toEqual([]);
  });

  it('a block spending an input a finalized transaction already spends is refused (CONFLICTS_FINALIZED)', async () => {
    const { store, ledger } = await open();
    const a = spendFunded(0, [pay(key(1), time(5))]);
    const rival = spendFunded(0, [pay(key(2), time(5))]);
    await ledger.submitTx(a.bytes);
    await ledger.finalizeTx(a.txid);
    const { block, slot } = nextBlockOn(store, [{ etx: rival, fee: 10_000n }]);
    await expect(ledger.applyBlock(block, slot)).rejects.toThrow(/CONFLICTS_FINALIZED/);
    expect(store.tip().height).toBe(0);
    expect(ledger.mempool.get(a.txid)?.status).toBe('finalized');
  });
});

/** The real @noble verifier, recording which signatures each lane was asked for. */
class LaneRecorder implements SignatureVerifier {
  private readonly inner = new NobleVerifier();
  readonly now: SignatureItem[] = [];
  readonly background: SignatureItem[] = [];

  verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    this.now.push(...items);
    return this.inner.verifyBatch(items);
  }

  verifyBatchInBackground(items: readonly SignatureItem[]): Promise<boolean[]> {
    this.background.push(...items);
    return this.inner.verifyBatch(items);
  }
}

describe('LedgerService.prepareBlock: a fetched block verified ahead of its turn', () => {
  async function open() {
    const store = await freshStore('ledger-prepare');
    const lanes = new LaneRecorder();
    return { store, lanes, ledger: LedgerService.open(params, store, lanes) };
  }
  /** A block of two transfers this ledger never saw (their signatures are unverified here). */
  function unseenBlock(store: ChainStore, tamperSecond = false) {
    const a = spendFunded(2, [pay(key(1), time(3))]);
    let b = spendFunded(3, [pay(key(1), time(4))]);
    if (tamperSecond) {
      const bytes = b.bytes.slice();
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
      b = parseTx(bytes, params);
    }
    return nextBlockOn(store, [
      { etx: a, fee: 10_000n },
      { etx: b, fee: 10_000n },
    ]);
  }
  const sigs = (items: readonly { signature: Uint8Array }[]) => items.map((i) => toHex(i.signature)).sort();

  it('verifies the inputs in the background lane once, and applyBlock does not verify them again', async () => {
    const { store, lanes, ledger } = await open();
    const { block, slot } = unseenBlock(store);
    const inputs = block.txs.slice(1).flatMap((t) => t.tx.witnesses);
    ledger.prepareBlock(block);
    ledger.prepareBlock(block); // once per block
    await ledger.applyBlock(block, slot);
    expect(store.tip().height).toBe(1);
    expect(sigs(lanes.background)).toEqual(sigs(inputs));
    // The producer's signature (before the inputs, and again in validateBlock), never an input.
    expect(lanes.now.map((i) => toHex(i.signature))).toEqual([
      toHex(block.signature),
      toHex(block.signature),
    ]);
  });

  it('a verifier without a background lane verifies ahead through verifyBatch, once', async () => {
    const store = await freshStore('ledger-prepare');
    const oneLane = new LaneRecorder();
    // The same recorder seen without its background method: only verifyBatch is there.
    const ledger = LedgerService.open(params, store, { verifyBatch: (items) => oneLane.verifyBatch(items) });
    const { block, slot } = unseenBlock(store);
    const inputs = block.txs.slice(1).flatMap((t) => t.tx.witnesses);
    ledger.prepareBlock(block);
    // Ahead means before applyBlock is even called: the producer's signature, then the inputs.
    for (let i = 0; i < 1_000 && oneLane.now.length < 1 + inputs.length; i++)
      await new Promise((r) => setImmediate(r));
    expect(sigs(oneLane.now.slice(1))).toEqual(sigs(inputs));
    await ledger.applyBlock(block, slot);
    expect(store.tip().height).toBe(1);
    // Then the producer signature again in validateBlock; the inputs not a second time.
    const seen = oneLane.now.map((i) => toHex(i.signature));
    expect(seen.filter((s) => s === toHex(block.signature))).toHaveLength(2);
    expect(sigs(oneLane.now.filter((i) => toHex(i.signature) !== toHex(block.signature)))).toEqual(
      sigs(inputs),
    );
  });

  it('a forged input signature found ahead still refuses the block, and nothing is stored', async () => {
    const { store, lanes, ledger } = await open();
    const { block, slot } = unseenBlock(store, true);
    ledger.prepareBlock(block);
    await expect(ledger.applyBlock(block, slot)).rejects.toThrow(/BAD_TX|signature/);
    expect(lanes.background.length).toBe(2);
    expect(store.tip().height).toBe(0);
  });

  it('nothing is verified ahead behind a bad producer signature or an unregistered producer key', async () => {
    const { store, lanes, ledger } = await open();
    const { block, slot } = unseenBlock(store);
    const forged = { ...block, signature: new Uint8Array(64) };
    ledger.prepareBlock(forged);
    const stranger = { ...block, header: { ...block.header, producerPubkey: key(7).publicKey } };
    ledger.prepareBlock(stranger);
    await expect(ledger.applyBlock(forged, slot)).rejects.toThrow(/producer signature/);
    await ledger.applyBlock(block, slot);
    expect(lanes.background).toEqual([]);
    // The forged producer signature once ahead (the stranger's is not even tried) and once by
    // validateBlock; then the good block, unprepared: validateBlock verified its inputs itself, in
    // the lane for work needed now.
    const zero = toHex(new Uint8Array(64));
    const inputs = block.txs.slice(1).flatMap((t) => t.tx.witnesses);
    expect(lanes.now.slice(0, 3).map((i) => toHex(i.signature))).toEqual([
      zero,
      zero,
      toHex(block.signature),
    ]);
    expect(sigs(lanes.now.slice(3))).toEqual(sigs(inputs));
  });
});

describe('LedgerService.checkSignedBlock and roots: a body is hashed once', () => {
  /** A verifier whose roots come from the JavaScript reference, counted, failing while `fail` is set. */
  function countingRoots() {
    const wasm = new WasmVerifier();
    const state = { calls: 0, fail: false };
    const verifier = {
      verifyBatch: (items: readonly SignatureItem[]) => wasm.verifyBatch(items),
      blockRoots: async (txs: readonly RootedTx[]) => {
        state.calls++;
        if (state.fail) throw new Error('pool closed');
        return inlineBlockRoots(txs);
      },
    };
    return { verifier, state };
  }

  it('checks a block before it is applied, and applyBlock hashes its body no second time', async () => {
    const store = await freshStore('ledger-roots');
    const { verifier, state } = countingRoots();
    const ledger = LedgerService.open(params, store, verifier);
    const { block, slot } = nextBlockOn(store, [
      { etx: spendFunded(2, [pay(key(1), time(3))]), fee: 10_000n },
    ]);
    expect(toHex(await ledger.checkSignedBlock(block, slot, store.tip()))).toBe(
      toHex(headerHash(block.header)),
    );
    expect(state.calls).toBe(1);
    await ledger.applyBlock(block, slot);
    expect(store.tip().height).toBe(1);
    expect(state.calls).toBe(1);
    // Another body (a copy of the array) is hashed on its own.
    await ledger.roots.blockRoots([...block.txs]);
    expect(state.calls).toBe(2);
  });

  it('a hashing failure is not remembered: the next caller hashes again', async () => {
    const store = await freshStore('ledger-roots');
    const { verifier, state } = countingRoots();
    const ledger = LedgerService.open(params, store, verifier);
    const { block, slot } = nextBlockOn(store, []);
    state.fail = true;
    await expect(ledger.checkSignedBlock(block, slot, store.tip())).rejects.toThrow('pool closed');
    state.fail = false;
    const roots = await ledger.roots.blockRoots(block.txs);
    expect(toHex(roots.merkleRoot)).toBe(toHex(block.header.merkleRoot));
    expect(state.calls).toBe(2);
  });

  it('refuses what validateBlock refuses first: a header the slot’s leader did not sign', async () => {
    const store = await freshStore('ledger-roots');
    const ledger = LedgerService.open(params, store, new WasmVerifier());
    const { block, slot } = nextBlockOn(store, []);
    const forged = { ...block, signature: new Uint8Array(64).fill(1) };
    await expect(ledger.checkSignedBlock(forged, slot, store.tip())).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
    // Its parent is the one named, not the store's tip: a block on another parent breaks the rules.
    const elsewhere = { hash: new Uint8Array(32).fill(9), height: 0, slot: 0 };
    await expect(ledger.checkSignedBlock(block, slot, elsewhere)).rejects.toMatchObject({
      code: 'BAD_PREV_HASH',
    });
  });
});
