import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import { headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { SeededRandom, SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { expectStoreMatches, ReplayModel, storedBlocks } from '../../unit/storage/replay-model.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

/*
 * Kill -9 test (issue 2 "Must show"): a child process applies blocks to LMDB in a loop and is
 * SIGKILLed at random moments; after every kill the parent reopens the store and checks it against
 * a replay of the stored blocks. CRASH_KILLS overrides the number of kills (default 24).
 */

const KILLS = Number(process.env.CRASH_KILLS ?? 24);
const SEED = 4242;
const CHILD = join(packageRoot(), 'test', 'e2e', 'storage', 'crash-child.mjs');
const COMPILED = join(packageRoot(), 'dist', 'src', 'storage', 'chain-store.js');

interface ChildRun {
  /** In output order: a durable commit (hash) or the start of a revert (hash null) of `height`. */
  events: Array<{ height: number; hash: string | null }>;
  sawReady: boolean;
  stderr: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Runs the child and SIGKILLs it `delayMs` after `from` ('spawn' or its "ready" line). */
function runAndKill(dir: string, from: 'spawn' | 'ready', delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const run: ChildRun = { events: [], sawReady: false, stderr: '', signal: null, code: null };
    const child: ChildProcess = spawn(process.execPath, [CHILD, dir, String(SEED)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    const kill = () => setTimeout(() => child.kill('SIGKILL'), delayMs);
    if (from === 'spawn') kill();
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, h, hash] = line.split(' ');
        if (word === 'committed') run.events.push({ height: Number(h), hash: hash! });
        if (word === 'reverting') run.events.push({ height: Number(h), hash: null });
        if (word === 'ready' && !run.sawReady) {
          run.sawReady = true;
          if (from === 'ready') kill();
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      run.stderr += c;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

describe('crash safety under SIGKILL', () => {
  const { dir, cleanup } = tempDir('crash');
  afterAll(cleanup);

  it(`reopens consistent after ${KILLS} random kills, with every reported commit present`, async () => {
    expect(existsSync(COMPILED), `${COMPILED} missing: run \`npm run build\` first`).toBe(true);
    const rng = new SeededRandom(Date.now() >>> 0);
    const genesis = SyntheticChain.create(DEVNET, SEED, 300).genesis();
    const reported = new Map<number, string>();
    let killedMidRun = 0;
    let reverts = 0;
    for (let i = 0; i < KILLS; i++) {
      // Mostly while blocks are being applied; sometimes during start-up and open.
      const from = rng.below(4) === 0 ? 'spawn' : 'ready';
      const run = await runAndKill(dir, from, from === 'spawn' ? rng.below(400) : rng.below(250));
      expect(run.signal, `child exited on its own (code ${run.code}): ${run.stderr}`).toBe('SIGKILL');
      if (run.events.length > 0) killedMidRun++;
      for (const e of run.events) {
        if (e.hash === null) {
          reverts++;
          reported.delete(e.height);
        } else reported.set(e.height, e.hash);
      }

      const store = await ChainStore.open(dir, DEVNET, genesis);
      try {
        const tip = store.tip();
        // Every block the child said was committed (and did not report reverting) is there.
        for (const [height, hash] of reported) {
          expect(height).toBeLessThanOrEqual(tip.height);
          expect(toHex(headerHash(store.getBlock(height)!.header))).toBe(hash);
        }
        // The stored state equals a replay of the stored blocks: no block is half-applied.
        const blocks = storedBlocks(store);
        expectStoreMatches(store, ReplayModel.of(DEVNET, blocks));
        expect(toHex(tip.hash)).toBe(toHex(headerHash(blocks[blocks.length - 1]!.header)));
        blocks.forEach((b, h) => {
          expect(store.getHeight(headerHash(b.header))).toBe(h);
        });
        // No included transaction lingers in the finalized pool.
        for (const t of store.listFinalized(10_000)) expect(store.getTxHeight(t.txid)).toBeUndefined();
        expect(store.counts().blocks).toBe(tip.height + 1);
      } finally {
        await store.close();
      }
    }
    console.log(
      `crash test: ${KILLS} SIGKILLs, ${killedMidRun} after >= 1 write, ${reported.size} blocks reported, ${reverts} reverts`,
    );
    expect(killedMidRun).toBeGreaterThanOrEqual(KILLS / 3);
    expect(reported.size).toBeGreaterThan(KILLS);
    expect(reverts).toBeGreaterThan(0);
  }, 120_000);
});
