/**
 * `npm run bench -- crypto`: Ed25519 verification (WASM single and batch against OpenSSL,
 * libsodium's WASM build and @noble, all in this one run), the crypto pool's throughput with one
 * and two workers against the same pool running node:crypto, the coordinator's event-loop delay
 * while the pool runs flat out, the latency of a burst of single verifications split among idle
 * workers against one batch, and a 65,536-leaf merkle root in WASM against node:crypto.
 */
import { createPublicKey, verify as nodeVerify, randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ed25519 } from '@noble/curves/ed25519.js';
import sodium from 'libsodium-wrappers';
import { encodeSignatureBatch } from '../../src/crypto/signature-batch-codec.js';
import type { SignatureItem } from '../../src/crypto/signature-verifier.js';
import { WasmCrypto } from '../../src/crypto/wasm-crypto.js';
import { merkleRoot as jsMerkleRoot } from '../../src/protocol/merkle.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';
import { BenchSuite, summarize } from '../harness.js';

/** Signatures like a transaction's: distinct keys, ~150-byte signing messages. */
function makeItems(n: number): SignatureItem[] {
  return Array.from({ length: n }, () => {
    const sk = ed25519.utils.randomSecretKey();
    const message = new Uint8Array(randomBytes(150));
    return { publicKey: ed25519.getPublicKey(sk), message, signature: ed25519.sign(message, sk) };
  });
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Feeds `total` signatures one by one like the coordinator would, honouring back-pressure. */
async function floodPool(pool: CryptoPool, items: readonly SignatureItem[], total: number): Promise<number> {
  const answers: Promise<boolean>[] = [];
  const start = performance.now();
  let i = 0;
  while (i < total) {
    if (!pool.canAcceptWork()) await pool.whenCanAcceptWork();
    const end = Math.min(total, i + 256);
    for (; i < end; i++) answers.push(pool.verify(items[i % items.length] as SignatureItem));
    // Yield like a coordinator between network messages, so replies are processed.
    await new Promise((r) => setImmediate(r));
  }
  const results = await Promise.all(answers);
  const ms = performance.now() - start;
  if (!results.every(Boolean)) throw new Error('pool rejected a valid signature');
  return ms;
}

async function poolTask(
  suite: BenchSuite,
  name: string,
  threads: number,
  verifier: 'wasm' | 'node-crypto',
  items: readonly SignatureItem[],
  total: number,
  samples: number,
): Promise<{ hz: number; loopP99Ms?: number }> {
  const pool = new CryptoPool({ threads, verifier });
  try {
    await floodPool(pool, items, Math.min(total, 4096)); // warm-up: workers loaded, code tiered up
    const times: number[] = [];
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const elu0 = pool.workerUtilization();
    for (let s = 0; s < samples; s++) times.push(await floodPool(pool, items, total));
    const cpu = process.cpuUsage(cpu0);
    const busy = pool.workerUtilization(elu0).map((u) => u.utilization.toFixed(2));
    loop.disable();
    const r = suite.record(summarize(name, times, total));
    // CPU actually obtained (all threads): on a shared machine this shows whether a second worker
    // got a second core at all, which the signatures/s ratio alone cannot tell.
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const wallMs = times.reduce((a, b) => a + b, 0);
    suite.note(`${name}.cores_used`, Math.round((cpuMs / wallMs) * 100) / 100);
    suite.note(`${name}.worker_busy`, busy.join(','));
    suite.note(`${name}.cpu_us_per_signature`, Math.round(((cpuMs * 1000) / (total * samples)) * 10) / 10);
    return { hz: r.hz, loopP99Ms: loop.percentile(99) / 1e6 };
  } finally {
    await pool.close();
  }
}

/** Single verifications submitted in one turn of the event loop: 32 RPC submissions read at once. */
const BURST = 32;
const BURST_SAMPLES = 2_000;

/**
 * Latency of a burst of BURST single verifications on two idle workers: the batcher splitting it
 * between them (MIN_SPLIT_BATCH) against a pool that sends it as one batch (minSplitBatch
 * Infinity, the batcher before the split). Bursts alternate between the two pools, so a drifting,
 * shared machine weighs on both alike. CPU per burst is the whole process's (both pools' workers;
 * the other pool idles meanwhile).
 */
async function burstLatency(suite: BenchSuite, items: readonly SignatureItem[]) {
  const split = new CryptoPool({ threads: 2 });
  const whole = new CryptoPool({ threads: 2, batcher: { minSplitBatch: Number.POSITIVE_INFINITY } });
  const cpuUs = { split: 0, whole: 0 };
  const burst = async (pool: CryptoPool, k: number, cpu?: 'split' | 'whole'): Promise<number> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => pool.verify(items[(k * BURST + i) & 255] as SignatureItem)),
    );
    const ms = performance.now() - t0;
    if (!answers.every(Boolean)) throw new Error('pool rejected a valid signature');
    if (cpu) {
      const used = process.cpuUsage(cpu0);
      cpuUs[cpu] += used.user + used.system;
    }
    return ms;
  };
  try {
    for (let k = 0; k < 200; k++) {
      await burst(split, k);
      await burst(whole, k);
    }
    const splitMs: number[] = [];
    const wholeMs: number[] = [];
    for (let k = 0; k < BURST_SAMPLES; k++) {
      splitMs.push(await burst(split, k, 'split'));
      wholeMs.push(await burst(whole, k, 'whole'));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const a = suite.record(summarize(`pool.burst${BURST}.splitAmongIdleWorkers`, splitMs));
    const b = suite.record(summarize(`pool.burst${BURST}.oneBatch`, wholeMs));
    suite.note(`pool.burst${BURST}.splitAmongIdleWorkers.p50Ms`, r2(median(splitMs)));
    suite.note(`pool.burst${BURST}.oneBatch.p50Ms`, r2(median(wholeMs)));
    suite.note(
      `pool.burst${BURST}.splitAmongIdleWorkers.cpuUsPerBurst`,
      Math.round(cpuUs.split / BURST_SAMPLES),
    );
    suite.note(`pool.burst${BURST}.oneBatch.cpuUsPerBurst`, Math.round(cpuUs.whole / BURST_SAMPLES));
    return { split: a, whole: b };
  } finally {
    await split.close();
    await whole.close();
  }
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('crypto', 1_000);
  const wasm = new WasmCrypto();
  const items = makeItems(256);
  let k = 0;
  const next = () => items[k++ & 255] as SignatureItem;

  const single = await suite.task('ed25519.verify.wasm', () => {
    const it = next();
    if (!wasm.ed25519Verify(it.publicKey, it.message, it.signature)) throw new Error('wasm rejected');
  });

  const keyObjects = items.map((it) =>
    createPublicKey({ key: Buffer.concat([SPKI_PREFIX, it.publicKey]), format: 'der', type: 'spki' }),
  );
  const openssl = await suite.task('ed25519.verify.node-crypto', () => {
    const i = k++ & 255;
    const it = items[i] as SignatureItem;
    if (!nodeVerify(null, it.message, keyObjects[i]!, it.signature)) throw new Error('openssl rejected');
  });

  await sodium.ready;
  const libsodium = await suite.task('ed25519.verify.libsodium', () => {
    const it = next();
    if (!sodium.crypto_sign_verify_detached(it.signature, it.message, it.publicKey))
      throw new Error('sodium rejected');
  });

  const noble = await suite.task('ed25519.verify.noble', () => {
    const it = next();
    if (!ed25519.verify(it.signature, it.message, it.publicKey, { zip215: true }))
      throw new Error('noble rejected');
  });

  const batches = Array.from({ length: 4 }, (_, b) => encodeSignatureBatch(items.slice(b * 64, b * 64 + 64)));
  let b = 0;
  const batch = await suite.task('ed25519.verifyBatch64.wasm', () => {
    const out = wasm.verifyEncodedBatch(batches[b++ & 3] as Uint8Array);
    if (out[63] !== 1) throw new Error('batch rejected');
  });

  const POOL_SIGS = 20_000;
  const one = await poolTask(suite, 'pool.verify.1worker', 1, 'wasm', items, POOL_SIGS, 3);
  const two = await poolTask(suite, 'pool.verify.2workers', 2, 'wasm', items, POOL_SIGS, 3);
  const native = await poolTask(
    suite,
    'pool.verify.2workers.node-crypto',
    2,
    'node-crypto',
    items,
    POOL_SIGS,
    3,
  );

  const bursts = await burstLatency(suite, items);

  const txids = Array.from({ length: 65_536 }, () => new Uint8Array(randomBytes(32)));
  const packed = new Uint8Array(32 * txids.length);
  txids.forEach((id, i) => {
    packed.set(id, 32 * i);
  });
  const expected = Buffer.from(jsMerkleRoot(txids)).toString('hex');
  if (Buffer.from(wasm.merkleRootPacked(packed)).toString('hex') !== expected)
    throw new Error('merkle mismatch');
  const merkleWasm = await suite.task('merkle.65536.wasm', () => {
    wasm.merkleRootPacked(packed);
  });
  const merkleNode = await suite.task('merkle.65536.node-crypto', () => {
    jsMerkleRoot(txids);
  });

  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  suite.note('ratio.verify.wasm_over_libsodium_time (target <= 1.15)', r3(libsodium.hz / single.hz));
  suite.note('ratio.verify.wasm_over_openssl_time (target <= 1.4)', r3(openssl.hz / single.hz));
  suite.note('ratio.verify.noble_over_wasm_time (target >= 10)', r3(single.hz / noble.hz));
  suite.note(
    'ratio.batch64_per_sig_over_openssl_single_time (target <= 0.8)',
    r3(openssl.hz / (batch.hz * 64)),
  );
  suite.note('ratio.pool.2workers_over_1worker (target >= 1.7)', r3(two.hz / one.hz));
  suite.note('ratio.pool.2workers_over_node_crypto_pool (target >= 1.1)', r3(two.hz / native.hz));
  suite.note(
    'ratio.merkle65536.wasm_over_node_crypto_speed (target >= 4)',
    r3(merkleWasm.hz / merkleNode.hz),
  );
  suite.note(
    `ratio.pool.burst${BURST}.split_over_one_batch_mean_latency`,
    r3(bursts.split.meanMs / bursts.whole.meanMs),
  );
  suite.note(
    'pool.2workers.coordinator_event_loop_delay_p99_ms (target < 20)',
    r3(two.loopP99Ms ?? Number.NaN),
  );
  suite.note(
    'pool.2workers.node-crypto.coordinator_event_loop_delay_p99_ms',
    r3(native.loopP99Ms ?? Number.NaN),
  );
  suite.write();
}
