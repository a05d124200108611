import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beaconInput } from '../../src/beacon/beacon-input.js';
import { genesisBlock } from '../../src/chain/genesis.js';
import type { SignatureItem } from '../../src/crypto/signature-verifier.js';
import { EXPECTED_ABI_VERSION } from '../../src/crypto/wasm-instance.js';
import { DEVNET } from '../../src/params/networks.js';
import { inlineBlockRoots } from '../../src/protocol/block-roots.js';
import { merkleRoot as jsMerkleRoot } from '../../src/protocol/merkle.js';
import { CryptoPool, createCryptoPool } from '../../src/workers/crypto-pool.js';
import { zip215Cases } from '../unit/crypto/ed25519-vectors.js';

function signedItems(n: number): SignatureItem[] {
  const keys = Array.from({ length: 8 }, () => ed25519.utils.randomSecretKey());
  return Array.from({ length: n }, (_, i) => {
    const sk = keys[i % keys.length] as Uint8Array;
    const message = new Uint8Array(randomBytes(i % 200));
    return { publicKey: ed25519.getPublicKey(sk), message, signature: ed25519.sign(message, sk) };
  });
}

/** Tampers every `every`-th item; returns the expected answers. */
function tamper(items: SignatureItem[], every: number): boolean[] {
  return items.map((it, i) => {
    if (i % every !== every - 1) return true;
    const sig = it.signature.slice();
    sig[i % 32] = (sig[i % 32] as number) ^ 0x10;
    items[i] = { ...it, signature: sig };
    return false;
  });
}

// Runs the compiled worker from dist/ (`npm test` builds first).
describe('CryptoPool (real piscina workers, WASM)', () => {
  let pool: CryptoPool;
  beforeAll(() => {
    pool = new CryptoPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('runs a named task in a worker that loaded the current WASM build', async () => {
    expect(await pool.run<number>('crypto.abiVersion', null)).toBe(EXPECTED_ABI_VERSION);
  });

  it('rejects an unknown task name with a typed error', async () => {
    await expect(pool.run('crypto.noSuchTask', null)).rejects.toThrow(/UNKNOWN_TASK/);
  });

  it('counts a worker busy from the moment any task is handed over until it settles', async () => {
    expect(pool.idleWorkers).toBe(2);
    const first = pool.run<number>('crypto.abiVersion', null);
    expect(pool.idleWorkers).toBe(1);
    const second = pool.run('crypto.noSuchTask', null);
    second.catch(() => undefined);
    expect(pool.idleWorkers).toBe(0);
    const queued = pool.run<number>('crypto.abiVersion', null);
    expect(pool.idleWorkers).toBe(0);
    await first;
    await expect(second).rejects.toThrow(/UNKNOWN_TASK/);
    await queued;
    expect(pool.idleWorkers).toBe(2);
  });

  it('verifies a small batch, one answer per item, including malformed and tampered items', async () => {
    const items = signedItems(20);
    const expected = items.map(() => true);
    items[3] = { ...items[3]!, message: new Uint8Array([1, 2, 3]) };
    expected[3] = false;
    items[7] = { ...items[7]!, signature: items[7]!.signature.subarray(0, 63) };
    expected[7] = false;
    items[11] = { ...items[11]!, publicKey: items[12]!.publicKey };
    expected[11] = false;
    expect(await pool.verifyBatch(items)).toEqual(expected);
    expect(await pool.verifyBatch([])).toEqual([]);
  });

  it('splits a block-sized batch across workers and keeps every answer in place', async () => {
    const items = signedItems(1000);
    const expected = tamper(items, 37);
    const before = pool.workerUtilization();
    expect(await pool.verifyBatch(items)).toEqual(expected);
    // Both workers took part: each was busy for some of the interval.
    const busy = pool.workerUtilization(before).map((u) => u.utilization);
    expect(busy).toHaveLength(2);
    for (const b of busy) expect(b).toBeGreaterThan(0);
  });

  it('coalesces concurrent single verifications and answers each caller', async () => {
    const items = signedItems(300);
    const expected = tamper(items, 11);
    const answers = await Promise.all(items.map((it) => pool.verify(it)));
    expect(answers).toEqual(expected);
    expect(pool.pendingSignatures).toBe(0);
  });

  it('a worker that dies under a batch is replaced and the batch retried: every answer still right', async () => {
    const items = signedItems(1500);
    const expected = tamper(items, 41);
    const failuresBefore = pool.workerFailures;
    const answers = pool.verifyBatch(items); // 24 chunks over 2 workers
    // Kill one worker thread while it holds a chunk (as a crash or OOM would).
    const threads = (pool as unknown as { piscina: { threads: { terminate(): Promise<number> }[] } }).piscina
      .threads;
    await threads[0]!.terminate();
    expect(await answers).toEqual(expected);
    expect(pool.workerFailures).toBeGreaterThan(failuresBefore);
    // The pool works on afterwards, on its replacement thread.
    expect(await pool.verifyBatch(items.slice(0, 100))).toEqual(expected.slice(0, 100));
  });

  it('computes merkle roots equal to the JS reference', async () => {
    for (const n of [0, 1, 2, 3, 5, 100, 4097]) {
      const ids = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
      expect(Buffer.from(await pool.merkleRoot(ids)).toString('hex')).toBe(
        Buffer.from(jsMerkleRoot(ids)).toString('hex'),
      );
    }
  });

  it('computes both block roots equal to the JS reference (txid root and wtxid root)', async () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const n of [0, 1, 2, 3, 4, 5, 7, 64, 1_001]) {
      // Transaction-like bodies of every length from 0 to 600 bytes, ids independent of them.
      const txs = Array.from({ length: n }, (_, i) => ({
        txid: new Uint8Array(randomBytes(32)),
        bytes: new Uint8Array(randomBytes((i * 37) % 601)),
      }));
      const ours = await pool.blockRoots(txs);
      const reference = inlineBlockRoots(txs);
      expect([hex(ours.merkleRoot), hex(ours.witnessRoot)]).toEqual([
        hex(reference.merkleRoot),
        hex(reference.witnessRoot),
      ]);
      if (n > 0) expect(hex(ours.witnessRoot)).not.toBe(hex(ours.merkleRoot));
    }
    // A real block body: the devnet genesis (allocations and registrations).
    const genesis = genesisBlock(DEVNET);
    const roots = await pool.blockRoots(genesis.txs);
    expect(hex(roots.merkleRoot)).toBe(hex(genesis.header.merkleRoot));
    expect(hex(roots.witnessRoot)).toBe(hex(genesis.header.witnessRoot));
  });

  it('block roots survive a worker dying under the task: sent again, same answer', async () => {
    const txs = Array.from({ length: 4_000 }, (_, i) => ({
      txid: new Uint8Array(randomBytes(32)),
      bytes: new Uint8Array(randomBytes(150 + (i % 100))),
    }));
    const reference = inlineBlockRoots(txs);
    const failuresBefore = pool.workerFailures;
    const threads = (pool as unknown as { piscina: { threads: { terminate(): Promise<number> }[] } }).piscina
      .threads;
    // Both threads die while the task is queued or running: whichever took it, it is lost once.
    const roots = pool.blockRoots(txs);
    await Promise.all(threads.map((t) => t.terminate()));
    const got = await roots;
    expect(Buffer.from(got.merkleRoot)).toEqual(Buffer.from(reference.merkleRoot));
    expect(Buffer.from(got.witnessRoot)).toEqual(Buffer.from(reference.witnessRoot));
    expect(pool.workerFailures).toBeGreaterThan(failuresBefore);
  });

  it('background verification never waits in the queue: a batch needed now overtakes it', async () => {
    const distinct = signedItems(64);
    const expected = tamper(distinct, 5);
    // Three tasks per worker (4,096 signatures each): two run, four wait in the background lane.
    const ahead = Array.from({ length: 4_096 * 2 * 3 }, (_, i) => distinct[i % 64]!);
    const finished: string[] = [];
    const background = pool.verifyBatchInBackground(ahead).then((answers) => {
      finished.push('background');
      return answers;
    });
    expect(pool.queueSize).toBe(0);
    expect(await pool.verifyBatch(distinct)).toEqual(expected);
    finished.push('now');
    expect(await background).toEqual(ahead.map((_, i) => expected[i % 64]));
    expect(finished).toEqual(['now', 'background']);
    expect(await pool.verifyBatchInBackground([])).toEqual([]);
  });

  it('signals back-pressure while more batches are queued than maxQueue allows', async () => {
    const small = new CryptoPool({ threads: 1, maxQueue: 2 });
    try {
      expect(small.canAcceptWork()).toBe(true);
      const items = signedItems(64 * 6);
      const work = small.verifyBatch(items);
      expect(small.canAcceptWork()).toBe(false);
      await small.whenCanAcceptWork();
      expect(small.canAcceptWork()).toBe(true);
      expect((await work).every(Boolean)).toBe(true);
      expect(small.canAcceptWork()).toBe(true);
    } finally {
      await small.close();
    }
    expect(small.canAcceptWork()).toBe(false);
  });
});

describe('CryptoPool shutdown', () => {
  it('answers signatures still waiting in the batcher before close() resolves', async () => {
    const pool = new CryptoPool({ threads: 1, batcher: { maxWaitMs: 10_000 } });
    const items = signedItems(5);
    const answers = items.map((it) => pool.verify(it));
    await pool.close();
    expect(await Promise.all(answers)).toEqual([true, true, true, true, true]);
  });
});

describe('CryptoPool shutdown with background work', () => {
  it('rejects background batches that never reached a worker', async () => {
    const pool = new CryptoPool({ threads: 1 });
    const one = signedItems(1);
    const work = pool.verifyBatchInBackground(Array.from({ length: 4_096 * 3 }, () => one[0]!));
    work.catch(() => undefined);
    await pool.close();
    await expect(work).rejects.toThrow(/closed/);
  });
});

describe('CryptoPool with the node:crypto anchor verifier', () => {
  it('answers like the WASM pool on honest and tampered signatures', async () => {
    const pool = new CryptoPool({ threads: 1, verifier: 'node-crypto' });
    try {
      const items = signedItems(200);
      const expected = tamper(items, 9);
      expect(await pool.verifyBatch(items)).toEqual(expected);
    } finally {
      await pool.close();
    }
  });
});

describe('CryptoPool: which verifier, queue limits, retries, shutdown', () => {
  it('the node:crypto anchor is not a ZIP-215 verifier: on ZIP-215’s vectors only the WASM pool is right', async () => {
    const cases = zip215Cases();
    const wasm = new CryptoPool({ threads: 1 });
    const openssl = new CryptoPool({ threads: 1, verifier: 'node-crypto' });
    try {
      const expected = cases.map((c) => c.expected);
      expect(await wasm.verifyBatch(cases)).toEqual(expected);
      const anchor = await openssl.verifyBatch(cases);
      // OpenSSL (RFC 8032) refuses small-order and non-canonical encodings ZIP-215 accepts.
      expect(anchor.filter((a, i) => a !== expected[i]).length).toBeGreaterThan(0);
    } finally {
      await Promise.all([wasm.close(), openssl.close()]);
    }
  });

  it('createCryptoPool (the package’s entry point) makes a working pool with the options given', async () => {
    const p = createCryptoPool({ threads: 1, maxQueue: 3 });
    try {
      expect(p).toBeInstanceOf(CryptoPool);
      expect([p.threads, p.maxQueue]).toEqual([1, 3]);
      expect(await p.merkleRoot([new Uint8Array(32)])).toHaveLength(32);
    } finally {
      await p.close();
    }
  });

  it('queues at most 4 tasks per thread by default', async () => {
    const p = new CryptoPool({ threads: 2 });
    try {
      expect(p.maxQueue).toBe(8);
    } finally {
      await p.close();
    }
  });

  it('refuses work at exactly maxQueue waiting tasks; a waiter wakes only once it is below', async () => {
    const p = new CryptoPool({ threads: 1, maxQueue: 2 });
    const first = new AbortController();
    const second = new AbortController();
    const longVdf = (signal: AbortSignal) => {
      const run = p.vdfEvaluate(beaconInput(3, 1, new Uint8Array(32)), 1 << 26, { signal });
      run.catch(() => undefined);
      return run;
    };
    const turn = () => new Promise((r) => setImmediate(r));
    try {
      await p.run('crypto.abiVersion', null); // the worker is up
      await expect(p.whenCanAcceptWork()).resolves.toBeUndefined(); // idle: at once
      // A long VDF holds the only worker (seconds), so the next tasks wait in the queue.
      longVdf(first.signal);
      while (p.queueSize > 0 || p.idleWorkers > 0) await turn();
      longVdf(second.signal);
      expect(p.queueSize).toBe(1);
      expect(p.canAcceptWork()).toBe(true);
      const queued = [p.run<number>('crypto.abiVersion', null)];
      expect(p.queueSize).toBe(2);
      expect(p.canAcceptWork()).toBe(false);
      queued.push(p.run<number>('crypto.abiVersion', null));
      const sawRoom: boolean[] = [];
      const waiter = p.whenCanAcceptWork().then(() => sawRoom.push(p.canAcceptWork()));
      // The first VDF ends (its worker is replaced) and the second takes the worker: two tasks
      // still wait, so the waiter must not wake.
      first.abort();
      while (p.queueSize > 2) await turn();
      for (let i = 0; i < 20; i++) await turn();
      expect(p.queueSize).toBe(2);
      expect(sawRoom).toEqual([]);
      second.abort();
      await Promise.all(queued);
      await waiter;
      expect(sawRoom).toEqual([true]);
    } finally {
      first.abort();
      second.abort();
      await p.close();
    }
  });

  it('a task that fails every time is attempted 3 times in all, then fails its caller', async () => {
    const p = new CryptoPool({ threads: 1 });
    try {
      const before = p.workerFailures;
      const bad = [{ txid: new Uint8Array(31), bytes: new Uint8Array(10) }];
      await expect(p.blockRoots(bad)).rejects.toThrow('id 0 is 31 bytes, expected 32');
      expect(p.workerFailures - before).toBe(2);
      await expect(p.merkleRoot([new Uint8Array(32), new Uint8Array(31)])).rejects.toThrow(
        'txid 1 is 31 bytes, expected 32',
      );
    } finally {
      await p.close();
    }
  });

  it('once closed: no retries, no back-pressure waits, and close() again is harmless', async () => {
    const p = new CryptoPool({ threads: 1 });
    await p.close();
    const before = p.workerFailures;
    await expect(p.blockRoots([{ txid: new Uint8Array(31), bytes: new Uint8Array(1) }])).rejects.toThrow();
    expect(p.workerFailures).toBe(before);
    expect(p.canAcceptWork()).toBe(false);
    await expect(p.whenCanAcceptWork()).resolves.toBeUndefined();
    await expect(p.close()).resolves.toBeUndefined();
  });
});
