/**
 * `npm run bench -- vdf`: the VDF kernel against its BigInt baseline, verification at the mainnet
 * T, and evaluate+prove on the pool at a T that takes ≈ 2 s here. Targets (issue 4): squaring
 * ≥ 2.5× BigInt, verify ≤ 2 ms, proof overhead (evalprove − eval)/eval ≤ 25 %, cancel ≤ 50 ms.
 * VDF_BENCH_MAINNET_PROOF=1 evaluates and proves a real proof at the mainnet T first (minutes);
 * otherwise vdf.verify.wasm at the mainnet T checks a proof for another T, which does exactly the
 * same work (HashToPrime, r = 2^T mod ℓ, two 256-bit exponentiations) and answers false.
 */

import { MAINNET } from '../../src/params/networks.js';
import { squareBigint } from '../../src/vdf/bigint-vdf.js';
import { decodeElement, encodeElement } from '../../src/vdf/group.js';
import { hashToGroup } from '../../src/vdf/hash-to-group.js';
import { inlineVdf, vdfVerify } from '../../src/vdf/vdf.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';
import { BenchSuite, summarize } from '../harness.js';

function timeChunks(run: () => void, samples: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    run();
    out.push(performance.now() - t0);
  }
  return out;
}

/** ms from `abort()` until this process's CPU use drops below 20 % of a core over 5 ms. */
async function cpuQuietAfter(abort: () => void): Promise<number> {
  const t0 = performance.now();
  abort();
  let prevCpu = process.cpuUsage();
  let prevT = performance.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 5));
    const cpu = process.cpuUsage(prevCpu);
    const now = performance.now();
    const busyMs = (cpu.user + cpu.system) / 1000;
    if (busyMs < 0.2 * (now - prevT)) return prevT - t0;
    prevCpu = process.cpuUsage();
    prevT = now;
    if (now - t0 > 10_000) return Number.NaN;
  }
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('vdf');
  suite.note('machine', 'shared 2-core box with other agents running: figures are noisy');
  const vdf = inlineVdf();
  const x = hashToGroup(new TextEncoder().encode('timecoin vdf bench'));
  const xBytes = encodeElement(x);

  // 1. Squarings: WASM kernel vs BigInt, same process, interleaved warm-up.
  const wasmChunk = 20_000;
  const bigChunk = 5_000;
  vdf.squareLoop(x, wasmChunk);
  let v = x;
  for (let i = 0; i < bigChunk; i++) v = squareBigint(v);
  const wasm = suite.record(
    summarize(
      'vdf.square.wasm',
      timeChunks(() => vdf.squareLoop(x, wasmChunk), 15),
      wasmChunk,
    ),
  );
  const big = suite.record(
    summarize(
      'vdf.square.bigint',
      timeChunks(() => {
        let b = x;
        for (let i = 0; i < bigChunk; i++) b = squareBigint(b);
      }, 15),
      bigChunk,
    ),
  );
  suite.note('vdf.square.speedup', Number((wasm.hz / big.hz).toFixed(2)));

  const pool = new CryptoPool({ threads: 2 });
  try {
    // 2. Evaluate, and evaluate+prove, on the pool at a T of ≈ 2 s.
    const t = Math.round(2 * wasm.hz);
    suite.note('vdf.evalprove.T', t);
    await pool.vdfEvaluate(xBytes, 10_000); // both workers warm
    const evalMs: number[] = [];
    const evalProveMs: number[] = [];
    let proof: Uint8Array = new Uint8Array(0);
    let y: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 3; i++) {
      let t0 = performance.now();
      await pool.vdfEvaluate(xBytes, t);
      evalMs.push(performance.now() - t0);
      t0 = performance.now();
      const out = await pool.vdfEvaluate(xBytes, t);
      proof = await pool.vdfProve(xBytes, out);
      evalProveMs.push(performance.now() - t0);
      y = out.y;
    }
    const ev = suite.record(summarize('vdf.eval.wasm', evalMs));
    const ep = suite.record(summarize('vdf.evalprove.pool', evalProveMs));
    suite.note('vdf.proof.overheadPct', Number((((ep.meanMs - ev.meanMs) / ev.meanMs) * 100).toFixed(1)));
    if (!vdfVerify(xBytes, y, proof, t)) throw new Error('bench proof does not verify');

    // 3. Verification at the mainnet T.
    const tMain = MAINNET.vdfDelay;
    let vx = xBytes;
    let vy = y;
    let vp = proof;
    let expected = false;
    if (process.env['VDF_BENCH_MAINNET_PROOF'] === '1') {
      const out = await pool.vdfEvaluate(xBytes, tMain);
      vy = out.y;
      vp = await pool.vdfProve(xBytes, out);
      expected = true;
    }
    if (vdfVerify(vx, vy, vp, tMain) !== expected) throw new Error('unexpected verification result');
    suite.note('vdf.verify.T', tMain);
    suite.note('vdf.verify.realProof', expected ? 'yes' : 'no (same work, answer false)');
    const verify = await suite.task('vdf.verify.wasm', () => {
      vdfVerify(vx, vy, vp, tMain);
    });
    suite.note('vdf.verify.ms', Number(verify.meanMs.toFixed(3)));
    // And a valid proof at the 2 s T, for the record.
    vx = xBytes;
    await suite.task('vdf.verify.wasm.validAt2s', () => {
      vdfVerify(xBytes, y, proof, t);
    });
    decodeElement(vy);

    // 4. Cancellation: abort a long evaluation and time until the worker's CPU use stops.
    const controller = new AbortController();
    const long = pool
      .vdfEvaluate(xBytes, 2_000_000_000, { signal: controller.signal })
      .catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 500));
    const quietMs = await cpuQuietAfter(() => controller.abort());
    const outcome = await long;
    suite.note('vdf.cancel.stopMs', Number(quietMs.toFixed(1)));
    suite.note('vdf.cancel.outcome', String(outcome));
  } finally {
    await pool.close();
  }
  suite.write();
}
