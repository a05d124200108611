import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET } from '../../../src/params/networks.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { lockDataDir } from '../../../src/storage/data-dir-lock.js';
import { StoreOpenError, StoreWriteError } from '../../../src/storage/errors.js';
import { inspectStore } from '../../../src/storage/inspect.js';
import { SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

/*
 * Issue 11: two processes on one data dir both applied the next block and corrupted the UTXO set.
 * The data dir lock refuses the second process; it is released by the kernel when the holder dies
 * (SIGKILL included); and applyBlock/revertTip re-read the tip inside their write transaction in
 * case something writes without the lock. Real processes: the child runs the compiled dist/.
 */

const CHILD = join(packageRoot(), 'test', 'e2e', 'storage', 'store-child.mjs');
const COMPILED = join(packageRoot(), 'dist', 'src', 'storage', 'data-dir-lock.js');
const genesis = () => SyntheticChain.create(DEVNET, 7, 20).genesis();

const children: ChildProcess[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dataDir(): string {
  const { dir, cleanup } = tempDir('lock');
  cleanups.push(cleanup);
  return dir;
}

/** Spawns the child and resolves with its first stdout line (and the process). */
function child(...args: string[]): Promise<{ proc: ChildProcess; line: string }> {
  expect(existsSync(COMPILED), `${COMPILED} missing: run \`npm run build\` first`).toBe(true);
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ proc, line: out.slice(0, nl) });
    });
    proc.on('exit', (code, signal) => {
      if (!out.includes('\n')) reject(new Error(`child exited (${code ?? signal}) without output: ${err}`));
    });
  });
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

async function refusal(p: Promise<unknown>): Promise<StoreOpenError> {
  const err = await p.then(
    () => new Error('not refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreOpenError);
  return err as StoreOpenError;
}

describe('data directory lock', () => {
  it('refuses a second process, naming the dir and the holder pid; inspect-db works beside it; SIGKILL frees it', async () => {
    const dir = dataDir();
    const holder = await child('hold', dir);
    expect(holder.line).toBe(`locked ${holder.proc.pid}`);

    const err = await refusal(lockDataDir(dir));
    expect(err.code).toBe('DATADIR_LOCKED');
    expect(err.details).toEqual({ dataDir: realpathSync(dir), pid: holder.proc.pid });
    expect(err.message).toContain(realpathSync(dir));
    expect(err.message).toContain(`pid ${holder.proc.pid}`);
    expect((await refusal(ChainStore.open(dir, DEVNET, genesis()))).code).toBe('DATADIR_LOCKED');

    // Another node process is refused the same way.
    const second = await child('open', dir);
    expect(second.line).toBe(
      `refused DATADIR_LOCKED ${JSON.stringify({ dataDir: realpathSync(dir), pid: holder.proc.pid })}`,
    );
    await exited(second.proc);
    expect(second.proc.exitCode).toBe(1);

    // Read-only tools never take the lock.
    expect((await inspectStore(dir)).tip.height).toBe(0);

    // The holder dies without any cleanup: the kernel releases the lock.
    holder.proc.kill('SIGKILL');
    await exited(holder.proc);
    const store = await ChainStore.open(dir, DEVNET, genesis());
    expect(store.tip().height).toBe(0);
    // Now this process holds it and a child is refused with our pid.
    const third = await child('open', dir);
    expect(third.line).toBe(
      `refused DATADIR_LOCKED ${JSON.stringify({ dataDir: realpathSync(dir), pid: process.pid })}`,
    );
    await store.close();
    const fourth = await child('open', dir);
    expect(fourth.line).toBe('opened');
  });

  it('names the lock by the real path: a symlink to a locked dir is refused; release lets the next one in', async () => {
    const dir = dataDir();
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    cleanups.push(() => rmSync(link, { force: true }));
    const lock = await lockDataDir(dir);
    expect(lock.held).toBe(true);
    expect((await refusal(lockDataDir(link))).code).toBe('DATADIR_LOCKED');
    // A store opened under the caller's lock does not take (or release) it.
    const store = await ChainStore.open(link, DEVNET, genesis(), { lock });
    await store.close();
    expect(lock.held).toBe(true);
    expect((await refusal(lockDataDir(dir))).code).toBe('DATADIR_LOCKED');
    await lock.release();
    expect(lock.held).toBe(false);
    await lock.release(); // idempotent
    expect((await refusal(ChainStore.open(dir, DEVNET, genesis(), { lock }))).code).toBe('NOT_LOCKED');
    const again = await lockDataDir(link);
    const other = dataDir();
    expect((await refusal(ChainStore.open(other, DEVNET, genesis(), { lock: again }))).code).toBe(
      'NOT_LOCKED',
    );
    await again.release();
  });
});

describe('a writer that bypasses the lock', () => {
  it('cannot make applyBlock or revertTip write on a tip that moved under them', async () => {
    const dir = dataDir();
    const chain = SyntheticChain.create(DEVNET, 7, 20);
    const store = await ChainStore.open(dir, DEVNET, chain.genesis());
    cleanups.push(() => store.close());
    await store.applyBlock(chain.nextBlock({ spends: 3 }));
    await store.applyBlock(chain.nextBlock({ spends: 3 }));
    const next = chain.nextBlock({ spends: 3 });

    // Another process rewinds the stored tip to height 1 without taking the lock.
    const writer = await child('rewind-tip', dir, '1');
    expect(writer.line).toBe('rewound');
    await exited(writer.proc);

    for (const write of [() => store.applyBlock(next), () => store.revertTip()]) {
      const err = await write().then(
        () => new Error('written'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreWriteError);
      expect((err as StoreWriteError).code).toBe('TIP_CHANGED');
      expect((err as StoreWriteError).details).toEqual({ storedHeight: 1, expectedHeight: 2 });
    }
    // Both transactions aborted: block 3 was not written, block 2 was not removed.
    expect(store.getBlock(3)).toBeUndefined();
    expect(store.getBlock(2)).toBeDefined();
    expect(store.counts().blocks).toBe(3);
  });
});
