import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_FILE, openDatabases } from '../../../src/storage/databases.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { tempDir } from '../../unit/storage/temp-dir.js';
import { durabilityReport, parseStraceLog } from './strace-log.js';

/*
 * Durability of every acknowledged write (issue 15). A SIGKILL cannot show a missing fsync — the
 * page cache survives the process — so the crash test alone would pass with sync commits turned
 * off. Instead a child process does every kind of ChainStore write under
 * `strace -f -e trace=fdatasync,fsync,…` and marks each call with "about-to-<op>" / "<op>-done"
 * lines; the test checks that inside every such window the environment file was synced and no
 * write was left unsynced (LMDB writes its meta page through an O_DSYNC descriptor after the
 * fdatasync of the data pages).
 *
 * strace is the Debian package `strace`; .ci/run installs it when missing. Linux only (ptrace).
 */

const CHILD = join(packageRoot(), 'test', 'e2e', 'storage', 'sync-child.mjs');
const COMPILED = join(packageRoot(), 'dist', 'src', 'storage', 'chain-store.js');
const BLOCKS = 6;
const TRACED = 'openat,close,write,writev,pwrite64,pwritev,pwritev2,fdatasync,fsync';

function straceAvailable(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Runs the child under strace; resolves with its exit code, stderr and the strace log. */
function traceChild(dir: string): Promise<{ code: number | null; stderr: string; log: string }> {
  const logPath = join(dir, 'strace.log');
  const dataDir = join(dir, 'data');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'strace',
      // Every sync is held back 20 ms: a write acknowledged before its sync completed (e.g. one
      // committed by lmdb-js's write thread, whose promise resolves at commit, and not awaited
      // through env.flushed) then shows as a window without its sync instead of winning a race.
      ['-f', '-qq', '-y', '-s', '64', '-e', `trace=${TRACED}`, '-e', 'signal=none']
        .concat(['-e', 'inject=fdatasync,fsync:delay_enter=20000', '-o', logPath])
        .concat([process.execPath, CHILD, dataDir, String(BLOCKS)]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      resolve({ code, stderr, log: existsSync(logPath) ? readFileSync(logPath, 'utf8') : '' });
    });
  });
}

describe('LMDB environment options: sync commits stay on (issue 15)', () => {
  const { dir, cleanup } = tempDir('env-options');
  afterAll(cleanup);

  it('opens the environment without noSync, noMetaSync, writemap or mapAsync', async () => {
    const dbs = openDatabases(dir);
    try {
      // lmdb-js keeps the effective open options on the root store.
      const options = dbs.env as unknown as Record<string, unknown>;
      expect(options['noSync']).not.toBe(true);
      expect(options['noMetaSync']).not.toBe(true);
      // A writable memory map syncs through msync, and mapAsync makes that asynchronous.
      expect(options['useWritemap']).not.toBe(true);
      expect(options['mapAsync']).not.toBe(true);
    } finally {
      await dbs.env.close();
    }
  });
});

describe.runIf(process.platform === 'linux')('every acknowledged ChainStore write is synced (strace)', () => {
  const { dir, cleanup } = tempDir('durability');
  afterAll(cleanup);

  it('open, putFinalized, applyBlock, revertTip and deleteFinalized each sync before they resolve', async () => {
    expect(existsSync(COMPILED), `${COMPILED} missing: run \`npm run build\` first`).toBe(true);
    expect(straceAvailable(), 'strace is missing: `apt-get install -y strace` (.ci/run does this)').toBe(
      true,
    );
    const run = await traceChild(dir);
    expect(run.code, `child under strace failed: ${run.stderr}`).toBe(0);

    const report = durabilityReport(parseStraceLog(run.log), join(dir, 'data', ENV_FILE));
    const byOp = (op: string) => report.windows.filter((w) => w.op === op).length;
    // The fixture: every operation was traced and acknowledged, in the numbers the child performs.
    expect(report.unfinished).toEqual([]);
    expect({
      open: byOp('open'),
      finalize: byOp('finalize'),
      commit: byOp('commit'),
      revert: byOp('revert'),
      unfinalize: byOp('unfinalize'),
    }).toEqual({ open: 1, finalize: BLOCKS + 1, commit: BLOCKS + 2, revert: 2, unfinalize: 1 });

    // The rule: at least one fdatasync/fsync of the environment between "about to" and "done",
    // and no write left unsynced when the call resolved.
    const notSynced = report.windows.filter((w) => w.syncs < 1).map((w) => `${w.op} ${w.n}`);
    expect(notSynced).toEqual([]);
    const leftUnsynced = report.windows.filter((w) => w.unsyncedWrites > 0).map((w) => `${w.op} ${w.n}`);
    expect(leftUnsynced).toEqual([]);
    // Every write to the environment belongs to an acknowledged operation (none deferred past it),
    // and each operation wrote something (so the windows did see LMDB's writes).
    expect(report.writesOutsideWindows).toBe(0);
    expect(report.windows.filter((w) => w.writes === 0).map((w) => `${w.op} ${w.n}`)).toEqual([]);
    expect(report.synchronousOpens).toBeGreaterThan(0);
  }, 60_000);
});

describe('strace log reader', () => {
  // A hand-written log in strace's -f -y format: a marker, a data write through a plain descriptor,
  // an fdatasync that another thread interrupts, the meta write through an O_DSYNC descriptor;
  // the syncs carry the " (DELAYED)" that the test's injected delay makes strace print.
  const F = '/d/chain.mdb';
  const log = [
    `7 openat(AT_FDCWD</w>, "${F}", O_RDWR|O_CREAT, 0664) = 19<${F}>`,
    `7 openat(AT_FDCWD</w>, "${F}", O_WRONLY|O_DSYNC|O_CLOEXEC) = 20<${F}>`,
    `7 write(1</dev/null>, "about-to-commit 1\\n", 18) = 18`,
    `7 writev(19<${F}>, [{iov_base="..."..., iov_len=4096}], 1) = 4096`,
    `7 fdatasync(19<${F}> <unfinished ...>`,
    '8 write(17<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8',
    '7 <... fdatasync resumed>) = 0 (DELAYED)',
    `7 pwrite64(20<${F}>, "\\0\\0"..., 128, 4136) = 128`,
    `7 write(1</dev/null>, "commit-done 1\\n", 14) = 14`,
    `7 write(1</dev/null>, "about-to-commit 2\\n", 18) = 18`,
    `7 fdatasync(19<${F}>) = 0 (DELAYED)`,
    `7 pwrite64(19<${F}>, "\\0\\0"..., 128, 40) = 128`,
    `7 write(1</dev/null>, "commit-done 2\\n", 14) = 14`,
    `7 pwrite64(19<${F}>, "\\0\\0"..., 128, 40) = 128`,
    `7 write(1</dev/null>, "about-to-revert 2\\n", 18) = 18`,
  ].join('\n');

  it('joins interrupted calls, brackets operations and flags writes no sync covers', () => {
    const calls = parseStraceLog(log);
    expect(calls.filter((c) => c.name === 'fdatasync').map((c) => [c.pid, c.args, c.result])).toEqual([
      [7, `19<${F}>`, '0'],
      [7, `19<${F}>`, '0'],
    ]);
    const report = durabilityReport(calls, F);
    expect(report.windows).toEqual([
      { op: 'commit', n: 1, syncs: 1, writes: 2, unsyncedWrites: 0 },
      { op: 'commit', n: 2, syncs: 1, writes: 1, unsyncedWrites: 1 },
    ]);
    expect(report.unfinished).toEqual(['revert 2']);
    expect(report.writesOutsideWindows).toBe(1);
    expect(report.synchronousOpens).toBe(1);
    // Another file's syncs and writes count for nothing.
    expect(
      durabilityReport(calls, '/d/other.mdb').windows.every((w) => w.syncs === 0 && w.writes === 0),
    ).toBe(true);
  });
});
