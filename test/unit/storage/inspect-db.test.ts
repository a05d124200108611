import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspectDbCommand } from '../../../src/cli/commands/inspect-db.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET, MAINNET } from '../../../src/params/networks.js';
import { headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { META_KEYS, openDatabases, SCHEMA_VERSION, u32Bytes } from '../../../src/storage/databases.js';
import { inspectStore } from '../../../src/storage/inspect.js';
import { SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function populated() {
  const { dir, cleanup } = tempDir('inspect');
  cleanups.push(cleanup);
  const gen = SyntheticChain.create(DEVNET, 21, 30);
  const store = await ChainStore.open(dir, DEVNET, gen.genesis());
  let last = gen.nextBlock({ spends: 4, registrations: 3 });
  await store.applyBlock(last);
  last = gen.nextBlock({ spends: 4, deregistrations: 1 });
  await store.applyBlock(last);
  const pending = gen.nextBlock({ spends: 2 });
  await store.putFinalized(...pending.txs.slice(1));
  const counts = store.counts();
  await store.close();
  return { dir, last, counts };
}

describe('timecoin inspect-db', () => {
  it('prints network, schema, tip and counts as JSON, without changing the store', async () => {
    const { dir, last, counts } = await populated();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await inspectDbCommand.run(['--datadir', dir, '--json'])).toBe(0);
    const out = JSON.parse(String(log.mock.calls[0]![0]));
    expect(out).toMatchObject({
      network: 'devnet',
      chainId: DEVNET.chainId,
      schema: SCHEMA_VERSION,
      tip: { height: 2, slot: 2, hash: toHex(headerHash(last.header)) },
      counts: { ...counts, activeMasternodes: 2 },
    });
    expect(counts).toMatchObject({ blocks: 3, finalized: 2, masternodes: 3 });
    // Text form too; and a second look gives the same answer (read-only).
    expect(await inspectDbCommand.run(['--datadir', dir])).toBe(0);
    expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toContain('finalized    2');
    expect((await inspectStore(dir)).counts).toEqual(out.counts);
  });

  it('refuses clearly: no store, another network, another schema', async () => {
    const { dir } = await populated();
    const empty = tempDir('inspect-empty');
    cleanups.push(empty.cleanup);
    await expect(inspectStore(empty.dir)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    await expect(inspectStore(`${empty.dir}/nope`)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    await expect(inspectStore(dir, MAINNET)).rejects.toMatchObject({ code: 'NETWORK_MISMATCH' });
    await expect(inspectDbCommand.run(['--datadir', dir, '--network', 'moon'])).rejects.toThrow(
      /unknown network/,
    );
    await expect(inspectDbCommand.run([])).rejects.toThrow(/--datadir/);
    const dbs = openDatabases(dir);
    dbs.env.transactionSync(() => dbs.meta.putSync('schema', u32Bytes(SCHEMA_VERSION + 1)));
    await dbs.env.close();
    await expect(inspectStore(dir)).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
  });

  it('a damaged meta record naming an inherited property is an unknown network, not a crash', async () => {
    const { dir } = await populated();
    const dbs = openDatabases(dir);
    dbs.env.transactionSync(() =>
      dbs.meta.putSync(META_KEYS.network, new TextEncoder().encode('constructor')),
    );
    await dbs.env.close();
    await expect(inspectStore(dir)).rejects.toMatchObject({
      code: 'NETWORK_MISMATCH',
      message: expect.stringMatching(/unknown network "constructor"/),
    });
  });
});
