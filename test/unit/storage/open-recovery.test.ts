import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET, TESTNET } from '../../../src/params/networks.js';
import { type Block, headerHash } from '../../../src/protocol/block.js';
import { outpointKey } from '../../../src/protocol/tx-codec.js';
import {
  ADDRESS_INDEX_FILE,
  ADDRESS_INDEX_VERSION,
  type AddressIndexDatabases,
  openAddressIndex,
  writeIndexTip,
} from '../../../src/storage/address-index.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { lockDataDir } from '../../../src/storage/data-dir-lock.js';
import {
  type ChainDatabases,
  ENV_FILE,
  openDatabases,
  SCHEMA_VERSION,
  u32Bytes,
} from '../../../src/storage/databases.js';
import { StoreOpenError } from '../../../src/storage/errors.js';
import { inspectStore } from '../../../src/storage/inspect.js';
import { SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { readUtxoKey } from '../../../src/storage/utxo-key.js';
import { expectAddressIndexed, expectStoreMatches, ReplayModel } from './replay-model.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A closed store with genesis + 3 blocks, plus raw access for tampering as outside damage would. */
async function storedChain(): Promise<{ dir: string; genesis: Block; blocks: Block[]; gen: SyntheticChain }> {
  const { dir, cleanup } = tempDir('recovery');
  cleanups.push(cleanup);
  const gen = SyntheticChain.create(DEVNET, 11, 40);
  const genesis = gen.genesis();
  const store = await ChainStore.open(dir, DEVNET, genesis);
  const blocks = [genesis];
  for (let i = 0; i < 3; i++) {
    const b = gen.nextBlock({ spends: 4, registrations: 1 });
    await store.applyBlock(b);
    blocks.push(b);
  }
  await store.close();
  return { dir, genesis, blocks, gen };
}

/** The address index's two databases inside chain.mdb at schema 3. */
const LEGACY_INDEX_DBS = ['addressUtxos', 'addressTotals'] as const;
const legacyDb = (d: ChainDatabases, name: string) =>
  d.env.openDB<Uint8Array, Uint8Array>({ name, keyEncoding: 'binary', encoding: 'binary' });
const entries = (db: { getStats(): unknown }) => (db.getStats() as { entryCount: number }).entryCount;

/**
 * Rewrites the UTXO set as schema 2-4 kept it: database `utxo`, keyed by outpoint (txid ‖ vout u32
 * BE), no `utxoByHeight`. Every entry is moved (the test checks the count it returns).
 */
function toLegacyUtxoLayout(d: ChainDatabases): number {
  const legacy = legacyDb(d, 'utxo');
  let n = 0;
  for (const { key, value } of d.utxo.getRange({})) {
    const { outpoint } = readUtxoKey(new Uint8Array(key));
    legacy.putSync(outpointKey(outpoint), new Uint8Array(value));
    n++;
  }
  d.utxo.dropSync();
  return n;
}

/** Deletes the address index's environment, as a data directory written before it existed lacks it. */
function removeIndexEnv(dir: string): void {
  for (const f of [ADDRESS_INDEX_FILE, `${ADDRESS_INDEX_FILE}-lock`]) rmSync(join(dir, f), { force: true });
}

async function tamper(dir: string, f: (dbs: ChainDatabases) => void): Promise<void> {
  const dbs = openDatabases(dir);
  dbs.env.transactionSync(() => f(dbs));
  await dbs.env.close();
}

async function expectRefusal(
  dir: string,
  genesis: Block,
  code: string,
  params = DEVNET,
  options: Parameters<typeof ChainStore.open>[3] = {},
): Promise<StoreOpenError> {
  const err = await ChainStore.open(dir, params, genesis, options).then(
    () => {
      throw new Error(`open succeeded, expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreOpenError);
  expect((err as StoreOpenError).code).toBe(code);
  return err as StoreOpenError;
}

describe('open: refusals never wipe', () => {
  it('refuses another schema version, naming both versions, and leaves the data intact', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.meta.putSync('schema', u32Bytes(SCHEMA_VERSION + 6)));
    const err = await expectRefusal(dir, genesis, 'SCHEMA_MISMATCH');
    expect(err.message).toContain(`version ${SCHEMA_VERSION + 6}`);
    expect(err.message).toContain(`version ${SCHEMA_VERSION}`);
    expect(err.details).toEqual({ found: SCHEMA_VERSION + 6, expected: SCHEMA_VERSION });
    // Nothing was wiped: restoring the version gives back the same chain.
    await tamper(dir, (d) => d.meta.putSync('schema', u32Bytes(SCHEMA_VERSION)));
    const store = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => store.close());
    expect(store.tip().height).toBe(3);
  });

  it('upgrades a schema-2 directory (no address index) and builds the index from the UTXO set', async () => {
    const { dir, genesis, blocks } = await storedChain();
    // What a schema-2 node left behind: the chain's databases (UTXOs keyed by outpoint) and no
    // address index anywhere.
    await tamper(dir, (d) => {
      toLegacyUtxoLayout(d);
      d.meta.putSync('schema', u32Bytes(2));
    });
    removeIndexEnv(dir);
    const store = await ChainStore.open(dir, DEVNET, genesis);
    expect(store.tip().height).toBe(3);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, blocks));
    expect(store.addressIndex.rebuilt).toBe(store.counts().utxos);
    expect((await store.addressIndexCounts()).outputs).toBeGreaterThan(40);
    await expectAddressIndexed(store, ReplayModel.of(DEVNET, blocks));
    await store.close();
    const dbs = openDatabases(dir);
    expect(new Uint8Array(dbs.meta.get('schema')!)).toEqual(u32Bytes(SCHEMA_VERSION));
    await dbs.env.close();
  });

  it('upgrades a schema-3 directory: the index databases inside chain.mdb go, the index is rebuilt in its own', async () => {
    const { dir, genesis, blocks } = await storedChain();
    // Schema 3 kept the index in chain.mdb: two named databases, here with one entry each.
    await tamper(dir, (d) => {
      for (const name of LEGACY_INDEX_DBS)
        legacyDb(d, name).putSync(new Uint8Array(20).fill(7), new Uint8Array(12));
      toLegacyUtxoLayout(d);
      d.meta.putSync('schema', u32Bytes(3));
    });
    removeIndexEnv(dir);
    const store = await ChainStore.open(dir, DEVNET, genesis);
    expect(store.addressIndex.rebuilt).toBe(store.counts().utxos);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, blocks));
    await expectAddressIndexed(store, ReplayModel.of(DEVNET, blocks));
    await store.close();
    const dbs = openDatabases(dir);
    expect(new Uint8Array(dbs.meta.get('schema')!)).toEqual(u32Bytes(SCHEMA_VERSION));
    for (const name of LEGACY_INDEX_DBS) expect(entries(legacyDb(dbs, name)), name).toBe(0);
    await dbs.env.close();
  });

  it('upgrades a schema-4 directory: every UTXO moves to its height-first key, in one transaction, and the chain goes on', async () => {
    const { dir, genesis, blocks, gen } = await storedChain();
    let moved = 0;
    await tamper(dir, (d) => {
      moved = toLegacyUtxoLayout(d);
      d.meta.putSync('schema', u32Bytes(4));
    });
    const model = ReplayModel.of(DEVNET, blocks);
    expect(moved).toBe(model.utxos.size);
    const store = await ChainStore.open(dir, DEVNET, genesis);
    // The address index (its own environment, at the chain tip) is not rebuilt by a key change.
    expect(store.addressIndex.rebuilt).toBeNull();
    await expectStoreMatches(store, model);
    // Spends of migrated outputs apply and revert: their keys are where the store looks.
    const next = gen.nextBlock({ spends: 8 });
    await store.applyBlock(next);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [...blocks, next]));
    await store.revertTip();
    await expectStoreMatches(store, model);
    await store.close();
    const dbs = openDatabases(dir);
    expect(new Uint8Array(dbs.meta.get('schema')!)).toEqual(u32Bytes(SCHEMA_VERSION));
    expect(entries(legacyDb(dbs, 'utxo'))).toBe(0);
    await dbs.env.close();
  });

  it('a schema-4 UTXO that does not decode refuses the upgrade (UTXO_CORRUPT, naming its key) and leaves the directory as it was', async () => {
    const { dir, genesis } = await storedChain();
    let bad = new Uint8Array();
    await tamper(dir, (d) => {
      toLegacyUtxoLayout(d);
      const legacy = legacyDb(d, 'utxo');
      const [first] = [...legacy.getRange({ limit: 1 })];
      if (!first) throw new Error('no legacy UTXO to damage');
      bad = new Uint8Array(first.key);
      legacy.putSync(bad, new Uint8Array(new Uint8Array(first.value).subarray(0, 32)));
      d.meta.putSync('schema', u32Bytes(4));
    });
    const err = await expectRefusal(dir, genesis, 'UTXO_CORRUPT');
    expect(err.details).toEqual({ key: toHex(bad) });
    const dbs = openDatabases(dir);
    expect(new Uint8Array(dbs.meta.get('schema')!)).toEqual(u32Bytes(4));
    expect(entries(dbs.utxo)).toBe(0);
    expect(entries(legacyDb(dbs, 'utxo'))).toBeGreaterThan(40);
    await dbs.env.close();
  });

  it('reopening a current directory rebuilds nothing: the address index still matches the chain', async () => {
    const { dir, genesis, blocks } = await storedChain();
    for (let i = 0; i < 2; i++) {
      const s = await ChainStore.open(dir, DEVNET, genesis);
      expect(s.addressIndex.rebuilt).toBeNull();
      await s.close();
    }
    const store = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => store.close());
    expect(store.addressIndex.rebuilt).toBeNull();
    await expectAddressIndexed(store, ReplayModel.of(DEVNET, blocks));
  });

  it('an index that is not at the chain tip (a crash between the two commits) is rebuilt at open', async () => {
    const { dir, genesis, blocks } = await storedChain();
    // The index names block 2 (the block-3 index commit was lost) and still holds block 2's state.
    const index = openAddressIndex(dir);
    const chain = openDatabases(dir);
    const h2 = headerHash(blocks[2]!.header);
    index.env.transactionSync(() =>
      writeIndexTip(index, { height: 2, hash: h2, slot: blocks[2]!.header.slot }),
    );
    await chain.env.close();
    await index.env.close();
    const store = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => store.close());
    expect(store.addressIndex.rebuilt).toBe(store.counts().utxos);
    expect(store.addressIndex.indexedTip()).toEqual(store.tip());
    await expectAddressIndexed(store, ReplayModel.of(DEVNET, blocks));
  });

  it('an index of another layout version, or whose tip record does not decode, is rebuilt at open', async () => {
    const { dir, genesis, blocks } = await storedChain();
    const version = (v: number) => {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, v, true);
      return out;
    };
    const damage: [string, (m: AddressIndexDatabases['meta']) => void][] = [
      ['the next layout version', (m) => m.putSync('version', version(ADDRESS_INDEX_VERSION + 1))],
      ['a version of 3 bytes', (m) => m.putSync('version', new Uint8Array(3))],
      ['no version', (m) => m.removeSync('version')],
      ['a tip of 43 bytes', (m) => m.putSync('tip', new Uint8Array(43))],
      ['no tip', (m) => m.removeSync('tip')],
    ];
    for (const [what, harm] of damage) {
      const index = openAddressIndex(dir);
      index.env.transactionSync(() => harm(index.meta));
      await index.env.close();
      const store = await ChainStore.open(dir, DEVNET, genesis);
      expect(store.addressIndex.rebuilt, what).toBe(store.counts().utxos);
      expect(store.addressIndex.indexedTip(), what).toEqual(store.tip());
      await expectAddressIndexed(store, ReplayModel.of(DEVNET, blocks));
      await store.close();
    }
  });

  it('refuses a schema-2 directory of another network or genesis without upgrading it', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.meta.putSync('schema', u32Bytes(2)));
    // A testnet node (or the open probe for one) pointed at it by mistake, then another genesis.
    await expectRefusal(dir, genesis, 'NETWORK_MISMATCH', TESTNET);
    const other = SyntheticChain.create(DEVNET, 99, 5).genesis();
    await expectRefusal(dir, other, 'GENESIS_MISMATCH');
    // Untouched: the schema-2 node that made it can still open it.
    const dbs = openDatabases(dir);
    expect(new Uint8Array(dbs.meta.get('schema')!)).toEqual(u32Bytes(2));
    await dbs.env.close();
  });

  it('refuses a directory that has blocks but no meta', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.meta.removeSync('schema'));
    const err = await expectRefusal(dir, genesis, 'META_MISSING');
    expect(err.message).toMatch(/holds blocks but no schema version/);
  });

  it('refuses a genesis block that is not at height 0', async () => {
    const { dir, cleanup } = tempDir('badgenesis');
    cleanups.push(cleanup);
    const gen = SyntheticChain.create(DEVNET, 1, 5);
    gen.genesis();
    const err = await expectRefusal(dir, gen.nextBlock({ spends: 1 }), 'BAD_GENESIS');
    expect(err.message).toContain(`height 0 and chain id ${DEVNET.chainId}, got height 1 `);
  });
});

describe('open: startup recovery checks the tip', () => {
  it('refuses when the tip block is missing', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.blocks.removeSync(3));
    expect((await expectRefusal(dir, genesis, 'TIP_BLOCK_MISSING')).details).toEqual({ height: 3 });
  });

  it('refuses when the block at the tip height is not the tip', async () => {
    const { dir, genesis, blocks } = await storedChain();
    const { encodeBlock } = await import('../../../src/protocol/block.js');
    await tamper(dir, (d) => d.blocks.putSync(3, encodeBlock(blocks[2]!)));
    expect((await expectRefusal(dir, genesis, 'TIP_HASH_MISMATCH')).details).toEqual({
      height: 3,
      tipHash: toHex(headerHash(blocks[3]!.header)),
      storedHash: toHex(headerHash(blocks[2]!.header)),
    });
  });

  it('refuses when a block is stored above the tip', async () => {
    const { dir, genesis, blocks } = await storedChain();
    const { encodeBlock } = await import('../../../src/protocol/block.js');
    await tamper(dir, (d) => d.blocks.putSync(4, encodeBlock(blocks[1]!)));
    expect((await expectRefusal(dir, genesis, 'BLOCK_ABOVE_TIP')).details).toEqual({ height: 4 });
  });

  it('refuses when the tip has no undo record', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.undo.removeSync(3));
    expect((await expectRefusal(dir, genesis, 'UNDO_MISSING')).details).toEqual({ height: 3 });
  });
});

describe('open: damaged records are typed refusals, never a DecodeError', () => {
  it('refuses a tip block that does not decode (TIP_BLOCK_CORRUPT), and inspect-db says the same', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.blocks.putSync(3, Uint8Array.of(1, 2, 3)));
    const err = await expectRefusal(dir, genesis, 'TIP_BLOCK_CORRUPT');
    expect(err.details).toEqual({ height: 3 });
    expect(err.message).toContain('tip height 3');
    await expect(inspectStore(dir)).rejects.toMatchObject({ code: 'TIP_BLOCK_CORRUPT' });
  });

  it('refuses a tip entry or a schema entry that does not decode (META_CORRUPT)', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.meta.putSync('tip', Uint8Array.of(3, 0, 0)));
    const tipErr = await expectRefusal(dir, genesis, 'META_CORRUPT');
    expect(tipErr.details).toEqual({ key: 'tip' });
    // The decoder's reason reaches the operator: three bytes cannot hold the tip height.
    expect(tipErr.message).toMatch(/tip height: need 4 bytes/);
    await tamper(dir, (d) => d.meta.putSync('schema', Uint8Array.of(1)));
    expect((await expectRefusal(dir, genesis, 'META_CORRUPT')).details).toEqual({ key: 'schema' });
  });

  it('refuses a tip undo record that does not decode (UNDO_CORRUPT): the tip could not be reverted', async () => {
    const { dir, genesis } = await storedChain();
    await tamper(dir, (d) => d.undo.putSync(3, new Uint8Array(50).fill(0xff)));
    expect((await expectRefusal(dir, genesis, 'UNDO_CORRUPT')).details).toEqual({ height: 3 });
  });
});

describe('open: refusals name what they found', () => {
  it('NETWORK_MISMATCH names both networks, and a chain id alone differing is refused too', async () => {
    const { dir, genesis } = await storedChain();
    expect((await expectRefusal(dir, genesis, 'NETWORK_MISMATCH', TESTNET)).details).toEqual({
      found: 'devnet',
      expected: 'testnet',
    });
    const otherChainId = Object.freeze({ ...DEVNET, chainId: DEVNET.chainId + 40 });
    await expectRefusal(dir, genesis, 'NETWORK_MISMATCH', otherChainId);
  });

  it('GENESIS_MISMATCH names both hashes; under a lock the caller holds it is the refusal, and the lock stays held', async () => {
    const { dir, genesis } = await storedChain();
    const other = SyntheticChain.create(DEVNET, 999, 10).genesis();
    const expected = {
      found: toHex(headerHash(genesis.header)),
      expected: toHex(headerHash(other.header)),
    };
    const err = await expectRefusal(dir, other, 'GENESIS_MISMATCH');
    expect(err.details).toEqual(expected);
    expect(err.message).toContain(`genesis is ${expected.found}, expected ${expected.expected}`);
    const lock = await lockDataDir(dir);
    cleanups.push(() => lock.release());
    expect((await expectRefusal(dir, other, 'GENESIS_MISMATCH', DEVNET, { lock })).details).toEqual(expected);
    expect(lock.held).toBe(true);
  });

  it('META_MISSING names the missing meta entry', async () => {
    const { dir, genesis } = await storedChain();
    for (const key of ['network', 'chainId', 'genesis', 'tip']) {
      let saved: Uint8Array | undefined;
      await tamper(dir, (d) => {
        saved = new Uint8Array(d.meta.get(key)!);
        d.meta.removeSync(key);
      });
      expect((await expectRefusal(dir, genesis, 'META_MISSING')).details, key).toEqual({ key });
      await tamper(dir, (d) => d.meta.putSync(key, saved!));
    }
    const store = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => store.close());
    expect(store.tip().height).toBe(3);
  });

  it('BAD_GENESIS for a genesis of another chain id', async () => {
    const { dir, cleanup } = tempDir('badgenesis-chain');
    cleanups.push(cleanup);
    const testnetGenesis = SyntheticChain.create(TESTNET, 1, 5).genesis();
    const err = await expectRefusal(dir, testnetGenesis, 'BAD_GENESIS');
    expect(err.message).toMatch(
      new RegExp(`chain id ${DEVNET.chainId}, got height 0 and chain id ${TESTNET.chainId}$`),
    );
  });

  it('NOT_LOCKED names the directory and the directory of the lock', async () => {
    const a = tempDir('lock-a');
    const b = tempDir('lock-b');
    cleanups.push(a.cleanup, b.cleanup);
    const lock = await lockDataDir(a.dir);
    cleanups.push(() => lock.release());
    const genesis = SyntheticChain.create(DEVNET, 1, 5).genesis();
    const err = await expectRefusal(b.dir, genesis, 'NOT_LOCKED', DEVNET, { lock });
    expect(err.details).toEqual({ dataDir: b.dir, lockDir: realpathSync(a.dir) });
    expect(err.message).toContain(`is for ${realpathSync(a.dir)}, not held for ${b.dir}`);
  });

  it('NOT_LOCKED says so when the lock passed in was released, even for its own directory', async () => {
    const { dir, cleanup } = tempDir('lock-released');
    cleanups.push(cleanup);
    const lock = await lockDataDir(dir);
    await lock.release();
    const genesis = SyntheticChain.create(DEVNET, 1, 5).genesis();
    const err = await expectRefusal(dir, genesis, 'NOT_LOCKED', DEVNET, { lock });
    expect(err.message).toContain(`is released, not held for ${dir}`);
  });

  it('an environment that cannot open is rethrown as is, and the lock the store took is released', async () => {
    const { dir, cleanup } = tempDir('no-env');
    cleanups.push(cleanup);
    mkdirSync(join(dir, ENV_FILE)); // a directory where the LMDB file should be
    const genesis = SyntheticChain.create(DEVNET, 1, 5).genesis();
    await expect(ChainStore.open(dir, DEVNET, genesis)).rejects.toThrow(/directory/i);
    const lock = await lockDataDir(dir); // not DATADIR_LOCKED: open released its own lock
    cleanups.push(() => lock.release());
    await expect(ChainStore.open(dir, DEVNET, genesis, { lock })).rejects.toThrow(/directory/i);
    expect(lock.held).toBe(true);
  });
});
