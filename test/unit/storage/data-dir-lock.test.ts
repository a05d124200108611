import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DataDirLock,
  HOLDER_QUERY_TIMEOUT_MS,
  lockDataDir,
  lockName,
} from '../../../src/storage/data-dir-lock.js';
import { StoreOpenError } from '../../../src/storage/errors.js';
import { tempDir } from './temp-dir.js';

/*
 * In-process checks of the lock's refusals (test/e2e/storage/data-dir-lock.test.ts covers other
 * processes, symlinks and SIGKILL). The holder's answer to "who are you?" comes from whatever
 * holds the name: a node says its pid, but any local program can squat the name, so the refusal
 * must name a pid only when the answer is a node's, and must come without waiting long.
 */

let root: string;
let cleanup: () => void;
let dirs = 0;
const servers: Server[] = [];
beforeAll(() => {
  ({ dir: root, cleanup } = tempDir('lock-unit'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});
afterAll(() => cleanup());

function dataDir(): string {
  return join(root, `d${++dirs}`);
}

async function refusal(dir: string): Promise<StoreOpenError> {
  const err = await lockDataDir(dir).then(
    (lock) => lock.release().then(() => new Error('not refused')),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreOpenError);
  return err as StoreOpenError;
}

/** Another program holding `dir`'s lock name, answering each connection with `answer`. */
async function squat(dir: string, answer: (socket: Socket) => void): Promise<string> {
  mkdirSync(dir);
  const realDir = realpathSync(dir);
  const server = createServer((socket) => {
    socket.on('error', () => {});
    answer(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ path: lockName(realDir) }, resolve));
  return realDir;
}

function expectNoPid(err: StoreOpenError, realDir: string): void {
  expect(err.code).toBe('DATADIR_LOCKED');
  expect(err.details).toStrictEqual({ dataDir: realDir });
  expect(err.message).toContain(`${realDir} is in use by another process; `);
  expect(err.message).not.toMatch(/pid/);
}

describe('a refused lock', () => {
  it('names the directory and the holding node pid, and tells the operator what to do', async () => {
    const dir = dataDir();
    const lock: DataDirLock = await lockDataDir(dir);
    try {
      const err = await refusal(dir);
      expect(err.code).toBe('DATADIR_LOCKED');
      expect(err.details).toStrictEqual({ dataDir: lock.dataDir, pid: process.pid });
      expect(err.message).toContain(`${lock.dataDir} is in use by another process (pid ${process.pid})`);
      expect(err.message).toMatch(/stop it first/);
      expect(err.message).toMatch(/inspect-db may run beside it/);
    } finally {
      await lock.release();
    }
  });

  // A node's answer is a short JSON line; a squatter could stream without end. The answer is read
  // up to 256 characters, one more and it is not a node's.
  it.each([
    [256, true],
    [257, false],
  ])('reads an answer of %i characters as a node pid: %s', async (length, named) => {
    const dir = dataDir();
    const head = '{"pid":4242,"pad":"';
    const answer = `${head}${'x'.repeat(length - head.length - 2)}"}`;
    expect(answer).toHaveLength(length);
    const realDir = await squat(dir, (s) => s.end(answer));
    const err = await refusal(dir);
    if (named) {
      expect(err.details).toStrictEqual({ dataDir: realDir, pid: 4242 });
      expect(err.message).toContain('(pid 4242)');
    } else {
      expectNoPid(err, realDir);
    }
  });

  it.each([
    ['not JSON', 'hello'],
    ['a pid that is not an integer', '{"pid":"4242"}'],
    ['nothing', ''],
  ])('names no pid, without waiting, when the holder answers %s', async (_, answer) => {
    const dir = dataDir();
    const realDir = await squat(dir, (s) => s.end(answer));
    const t0 = performance.now();
    expectNoPid(await refusal(dir), realDir);
    // The answer is complete: no reason to sit out the query timeout.
    expect(performance.now() - t0).toBeLessThan(HOLDER_QUERY_TIMEOUT_MS * 0.9);
  });

  // The holder stops just as a second process starts: the name was taken when it tried to bind,
  // and nobody is there to ask (the kernel refuses the connection).
  it('names no pid, without waiting, when the holder is gone by the time it is asked', async () => {
    const dir = dataDir();
    const lock = await lockDataDir(dir);
    const t0 = performance.now();
    const second = refusal(dir); // its bind has failed when lockDataDir returns
    await lock.release(); // unbinds at once; the second process asks only after this
    expectNoPid(await second, lock.dataDir);
    expect(performance.now() - t0).toBeLessThan(HOLDER_QUERY_TIMEOUT_MS * 0.9);
  });

  it('names no pid, after a bounded wait, when the holder never answers', async () => {
    const dir = dataDir();
    const realDir = await squat(dir, () => {});
    expectNoPid(await refusal(dir), realDir);
  }, 10_000);
});

describe('a held lock', () => {
  it('keeps answering after contenders that hang up at once', async () => {
    const dir = dataDir();
    const lock = await lockDataDir(dir);
    try {
      // Each closes before the holder has written its answer, so the holder's write fails.
      for (let i = 0; i < 20; i++) createConnection({ path: lockName(lock.dataDir) }).destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(lock.held).toBe(true);
      expect((await refusal(dir)).details).toStrictEqual({ dataDir: lock.dataDir, pid: process.pid });
    } finally {
      await lock.release();
    }
  });
});

describe('on a platform without abstract sockets', () => {
  it('refuses with LOCK_UNSUPPORTED naming the platform, before touching the directory', async () => {
    const dir = dataDir();
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { ...platform, value: 'darwin' });
    try {
      const err = await refusal(dir);
      expect(err.code).toBe('LOCK_UNSUPPORTED');
      expect(err.details).toStrictEqual({ platform: 'darwin' });
      expect(err.message).toMatch(/Linux abstract sockets; this is darwin/);
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
