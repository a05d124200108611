import { execFile } from 'node:child_process';
import { existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { DEVNET, TESTNET } from '../../../src/params/networks.js';
import { ADDRESS_INDEX_FILE } from '../../../src/storage/address-index.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { lockDataDir } from '../../../src/storage/data-dir-lock.js';
import { ENV_FILE } from '../../../src/storage/databases.js';
import { StoreOpenError } from '../../../src/storage/errors.js';
import { isCrashSignal, probeStoreOpen } from '../../../src/storage/open-probe.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

/*
 * A damaged chain.mdb crashes LMDB's native code (SIGSEGV/SIGBUS) in whatever process opens it.
 * The node opens the store in a child first (src/storage/open-probe.ts), so damage is a typed
 * DATA_CORRUPT refusal naming the file, never a silent crash. The damage here is what a disk or an
 * operator does: a zeroed first page, garbage over the data pages, a truncated file. Each of them
 * crashes the LMDB build we ship (checked by hand: `node -e` opening it dies by SIGSEGV or SIGBUS).
 */

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
});

async function storeDir(): Promise<string> {
  const { dir, cleanup } = tempDir('open-probe');
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  await store.close();
  return dir;
}

const damage: Record<string, (file: string) => void> = {
  'a zeroed first page': (file) => {
    const fd = openSync(file, 'r+');
    writeSync(fd, new Uint8Array(4096), 0, 4096, 0);
  },
  // A fixed byte, not random ones: the outcome must not depend on the draw (zeros, for one, read
  // as empty pages and are refused by LMDB itself, a typed error the node reports on its own).
  'garbage over the data pages': (file) => {
    const bytes = readFileSync(file);
    bytes.fill(0xa5, 8192);
    writeFileSync(file, bytes);
  },
  'a file cut after its first page': (file) => writeFileSync(file, readFileSync(file).subarray(0, 4096)),
};

describe('a damaged chain.mdb is refused by name, not a crash', () => {
  for (const [what, harm] of Object.entries(damage)) {
    it(`${what}: probeStoreOpen rejects with DATA_CORRUPT, the file and the signal`, async () => {
      const dir = await storeDir();
      harm(join(dir, ENV_FILE));
      const err = await probeStoreOpen(dir, 'devnet').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreOpenError);
      const e = err as StoreOpenError;
      expect(e.code).toBe('DATA_CORRUPT');
      expect(e.details).toMatchObject({ file: join(dir, ENV_FILE) });
      // Which fault a wild pointer causes varies run to run (25 opens of a zeroed first page:
      // 22 SIGSEGV, 2 SIGABRT, 1 SIGFPE); every one of them is a crash the probe names.
      expect(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGFPE', 'SIGILL']).toContain(
        (e.details as { signal: string }).signal,
      );
      expect(e.message).toContain(join(dir, ENV_FILE));
      // What the operator is to do about it.
      expect(e.message).toContain(
        'Restore the data directory from a backup, or start the node on a new data directory to sync the chain again',
      );
    });
  }

  for (const [what, harm] of Object.entries(damage)) {
    it(`${what} of addresses.mdb (derived): the probe deletes the index, passes, and the open rebuilds it`, async () => {
      const dir = await storeDir();
      harm(join(dir, ADDRESS_INDEX_FILE));
      await expect(probeStoreOpen(dir, 'devnet')).resolves.toEqual({ indexDiscarded: true });
      // The probe's second run opened the store as the node does, which rebuilt the index.
      const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
      expect(store.addressIndex.rebuilt).toBeNull();
      expect(store.addressIndex.indexedTip()).toEqual(store.tip());
      expect((await store.addressIndexCounts()).outputs).toBe(store.counts().utxos);
      await store.close();
      // Intact files: nothing discarded.
      await expect(probeStoreOpen(dir, 'devnet')).resolves.toEqual({ indexDiscarded: false });
    });
  }

  it('only a fault counts as damage: the five crash signals, not a kill, a stop or a clean exit', () => {
    for (const s of ['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT']) expect(isCrashSignal(s)).toBe(true);
    for (const s of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', null]) expect(isCrashSignal(s)).toBe(false);
  });

  it('a probe that runs past its timeout is killed, and the store is left to the real open', async () => {
    const healthy = await storeDir();
    // 1 ms: the child is killed (SIGKILL) long before Node.js has even started in it.
    await expect(probeStoreOpen(healthy, 'devnet', 'open', 1)).resolves.toEqual({ indexDiscarded: false });
    const store = await ChainStore.open(healthy, DEVNET, genesisBlock(DEVNET));
    expect(store.tip().height).toBe(0);
    await store.close();
    // Killed before it reached the file, a probe of a damaged store found nothing either: had it
    // run on, it would have crashed on the file and reported DATA_CORRUPT.
    const damaged = await storeDir();
    damage['a zeroed first page']!(join(damaged, ENV_FILE));
    await expect(probeStoreOpen(damaged, 'devnet', 'open', 1)).resolves.toEqual({ indexDiscarded: false });
    await expect(probeStoreOpen(damaged, 'devnet')).rejects.toMatchObject({ code: 'DATA_CORRUPT' });
  });

  it('a healthy store, a new directory, an empty file and a typed refusal pass the probe', async () => {
    const healthy = await storeDir();
    await expect(probeStoreOpen(healthy, 'devnet')).resolves.toEqual({ indexDiscarded: false });
    // The probe is not the judge of typed refusals: the node's own open reports them.
    await expect(probeStoreOpen(healthy, 'testnet')).resolves.toEqual({ indexDiscarded: false });
    await expect(ChainStore.open(healthy, TESTNET, genesisBlock(TESTNET))).rejects.toMatchObject({
      code: 'NETWORK_MISMATCH',
    });
    const { dir: empty, cleanup } = tempDir('open-probe-new');
    cleanups.push(cleanup);
    await expect(probeStoreOpen(empty, 'devnet')).resolves.toEqual({ indexDiscarded: false });
    // No probe ran: a probe's open would have created the environment.
    expect(existsSync(join(empty, ENV_FILE))).toBe(false);
    writeFileSync(join(empty, ENV_FILE), new Uint8Array(0));
    await expect(probeStoreOpen(empty, 'devnet')).resolves.toEqual({ indexDiscarded: false });
    expect(statSync(join(empty, ENV_FILE)).size).toBe(0);
    // And the healthy store still opens (the probe left it as it was).
    const store = await ChainStore.open(healthy, DEVNET, genesisBlock(DEVNET));
    expect(store.tip().height).toBe(0);
    await store.close();
  });

  it('read-only as inspect-db reads: a damaged store is DATA_CORRUPT, a healthy one passes', async () => {
    const dir = await storeDir();
    await expect(probeStoreOpen(dir, 'devnet', 'read')).resolves.toEqual({ indexDiscarded: false });
    damage['garbage over the data pages']!(join(dir, ENV_FILE));
    // Read-only means beside a running node: with the data dir locked (as a node holds it), the
    // read still reaches the file (a read-write probe would stop at DATADIR_LOCKED and see nothing).
    const lock = await lockDataDir(dir);
    try {
      await expect(probeStoreOpen(dir, 'devnet', 'read')).rejects.toMatchObject({
        code: 'DATA_CORRUPT',
        details: { file: join(dir, ENV_FILE) },
      });
      await expect(probeStoreOpen(dir, 'devnet', 'open')).resolves.toEqual({ indexDiscarded: false });
    } finally {
      await lock.release();
    }
    const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    const r = await promisify(execFile)(process.execPath, [cli, 'inspect-db', '--datadir', dir]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`DATA_CORRUPT: ${join(dir, ENV_FILE)} is damaged`);
  });

  it('`timecoin node` on a damaged data dir exits 1 with DATA_CORRUPT naming the file', async () => {
    const dir = await storeDir();
    damage['a zeroed first page']!(join(dir, ENV_FILE));
    const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    const args = [cli, 'node', '--datadir', dir, '--devnet-index', '0', '--p2p-port', '0', '--rpc-port', '0'];
    const r = await promisify(execFile)(process.execPath, args).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`DATA_CORRUPT: ${join(dir, ENV_FILE)} is damaged`);
  });
});
