import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET, TESTNET } from '../../../src/params/networks.js';
import { type Block, encodeBlock, headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import {
  type ChainDatabases,
  openDatabases,
  SCHEMA_VERSION,
  u32Bytes,
} from '../../../src/storage/databases.js';
import { StoreOpenError } from '../../../src/storage/errors.js';
import {
  checkNetwork,
  checkTipConsistent,
  readStoredMeta,
  readStoredTip,
} from '../../../src/storage/store-checks.js';
import { SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { tempDir } from './temp-dir.js';

/*
 * The checks `ChainStore.open` and `inspect-db` run, called directly on one stored chain (genesis +
 * 2 blocks). Each test damages it inside a write transaction that is then aborted, so the next
 * test starts from the same healthy chain.
 */
const { dir, cleanup } = tempDir('store-checks');
let dbs: ChainDatabases;
let blocks: Block[];

beforeAll(async () => {
  const gen = SyntheticChain.create(DEVNET, 5, 4);
  blocks = [gen.genesis()];
  const store = await ChainStore.open(dir, DEVNET, blocks[0]!);
  for (let i = 0; i < 2; i++) {
    blocks.push(gen.nextBlock({ spends: 1 }));
    await store.applyBlock(blocks[i + 1]!);
  }
  await store.close();
  dbs = openDatabases(dir);
});
afterAll(async () => {
  await dbs.env.close();
  cleanup();
});
// The damage of each test was rolled back: the chain still passes every check.
afterEach(() => checkTipConsistent(dbs, DEVNET, readStoredMeta(dbs).tip));

const ABORT = new Error('roll the damage back');
const hashOf = (height: number) => headerHash(blocks[height]!.header);

/** What `check` returns or throws while `damage` is in place (then undone). */
function underDamage(damage: (d: ChainDatabases) => void, check: (d: ChainDatabases) => unknown): unknown {
  let outcome: unknown;
  expect(() =>
    dbs.env.transactionSync(() => {
      damage(dbs);
      try {
        outcome = check(dbs);
      } catch (e) {
        outcome = e;
      }
      throw ABORT;
    }),
  ).toThrow(ABORT);
  return outcome;
}

function refusal(damage: (d: ChainDatabases) => void, check: (d: ChainDatabases) => unknown): StoreOpenError {
  const err = underDamage(damage, check);
  expect(err).toBeInstanceOf(StoreOpenError);
  return err as StoreOpenError;
}

describe('stored meta', () => {
  it('reads back what the store wrote: schema, network, chain id, genesis hash and tip', () => {
    const meta = readStoredMeta(dbs);
    expect(meta).toEqual({
      schema: SCHEMA_VERSION,
      network: 'devnet',
      chainId: DEVNET.chainId,
      genesisHash: hashOf(0),
      tip: { height: 2, hash: hashOf(2), slot: blocks[2]!.header.slot },
    });
    expect(readStoredTip(dbs)).toEqual(meta.tip);
  });

  it.each(['schema', 'network', 'chainId', 'genesis', 'tip'])(
    'a missing %s entry is META_MISSING naming it',
    (key) => {
      const err = refusal((d) => d.meta.removeSync(key), readStoredMeta);
      expect(err.code).toBe('META_MISSING');
      expect(err.details).toEqual({ key });
      expect(err.message).toMatch(new RegExp(`"${key}" is missing`));
    },
  );

  it('readStoredTip alone refuses a missing tip entry the same way', () => {
    const err = refusal((d) => d.meta.removeSync('tip'), readStoredTip);
    expect(err.code).toBe('META_MISSING');
    expect(err.details).toEqual({ key: 'tip' });
    expect(err.message).toMatch(/"tip" is missing/);
  });

  it.each([
    { key: 'schema', bytes: [3] },
    { key: 'chainId', bytes: [1, 2, 3] },
    { key: 'tip', bytes: [3, 0, 0] },
  ])('a $key entry that does not decode is META_CORRUPT naming it and the cause', ({ key, bytes }) => {
    const err = refusal((d) => d.meta.putSync(key, Uint8Array.from(bytes)), readStoredMeta);
    expect(err.code).toBe('META_CORRUPT');
    expect(err.details).toEqual({ key });
    expect(err.message).toMatch(new RegExp(`meta entry "${key}" does not decode \\(.+\\)`));
  });

  it('another schema version is refused before anything else is read, telling the operator what to do', () => {
    const err = refusal((d) => {
      d.meta.putSync('schema', u32Bytes(SCHEMA_VERSION + 1));
      d.meta.removeSync('network');
    }, readStoredMeta);
    expect(err.code).toBe('SCHEMA_MISMATCH');
    expect(err.details).toEqual({ found: SCHEMA_VERSION + 1, expected: SCHEMA_VERSION });
    expect(err.message).toMatch(/nothing was changed/);
    expect(err.message).toMatch(/matching version or a new data directory/);
  });
});

describe('checkNetwork', () => {
  const named = (network: ChainParams['network']): ChainParams => Object.freeze({ ...DEVNET, network });
  it.each([
    { why: 'another network and chain id', params: TESTNET },
    {
      why: 'the chain id alone differing',
      params: Object.freeze({ ...DEVNET, chainId: DEVNET.chainId + 40 }),
    },
    { why: 'the network name alone differing', params: named('testnet') },
  ])('refuses $why, naming both networks and chain ids', ({ params }) => {
    const meta = readStoredMeta(dbs);
    let err: unknown;
    try {
      checkNetwork(meta, params);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreOpenError);
    const e = err as StoreOpenError;
    expect(e.code).toBe('NETWORK_MISMATCH');
    expect(e.details).toEqual({ found: 'devnet', expected: params.network });
    expect(e.message).toContain(`devnet (chain id ${DEVNET.chainId})`);
    expect(e.message).toContain(`${params.network} (chain id ${params.chainId})`);
  });

  it('accepts the network the data directory was created for', () => {
    expect(() => checkNetwork(readStoredMeta(dbs), DEVNET)).not.toThrow();
  });
});

describe('checkTipConsistent (startup recovery)', () => {
  it('passes on the chain as written', () => {
    expect(() => checkTipConsistent(dbs, DEVNET, readStoredTip(dbs))).not.toThrow();
  });

  const tipHash = () => toHex(hashOf(2));
  it.each([
    {
      damage: 'the tip block removed',
      apply: (d: ChainDatabases) => d.blocks.removeSync(2),
      code: 'TIP_BLOCK_MISSING',
      details: () => ({ height: 2 }),
      message: /no block stored at tip height 2/,
    },
    {
      damage: 'the tip block overwritten with junk',
      apply: (d: ChainDatabases) => d.blocks.putSync(2, Uint8Array.of(1, 2, 3)),
      code: 'TIP_BLOCK_CORRUPT',
      details: () => ({ height: 2 }),
      message: /block at tip height 2 does not decode/,
    },
    {
      damage: 'another block at the tip height',
      apply: (d: ChainDatabases) => d.blocks.putSync(2, encodeBlock(blocks[1]!)),
      code: 'TIP_HASH_MISMATCH',
      details: () => ({ height: 2, tipHash: tipHash(), storedHash: toHex(hashOf(1)) }),
      message: /block at tip height 2 is not the tip/,
    },
    {
      damage: 'the tip missing from the block index',
      apply: (d: ChainDatabases) => d.blockIndex.removeSync(hashOf(2)),
      code: 'TIP_HASH_MISMATCH',
      details: () => ({ height: 2, tipHash: tipHash(), storedHash: tipHash() }),
      message: /tip height 2/,
    },
    {
      damage: 'the block index placing the tip at another height',
      apply: (d: ChainDatabases) => d.blockIndex.putSync(hashOf(2), u32Bytes(1)),
      code: 'TIP_HASH_MISMATCH',
      details: () => ({ height: 2, tipHash: tipHash(), storedHash: tipHash() }),
      message: /tip height 2/,
    },
    {
      damage: 'a block stored above the tip',
      apply: (d: ChainDatabases) => d.blocks.putSync(3, encodeBlock(blocks[1]!)),
      code: 'BLOCK_ABOVE_TIP',
      details: () => ({ height: 3 }),
      message: /height 3, above tip 2/,
    },
    {
      damage: 'the tip undo record removed',
      apply: (d: ChainDatabases) => d.undo.removeSync(2),
      code: 'UNDO_MISSING',
      details: () => ({ height: 2 }),
      message: /no undo record for tip height 2/,
    },
    {
      damage: 'the tip undo record overwritten with junk',
      apply: (d: ChainDatabases) => d.undo.putSync(2, new Uint8Array(50).fill(0xff)),
      code: 'UNDO_CORRUPT',
      details: () => ({ height: 2 }),
      message: /undo record of tip height 2 does not decode/,
    },
  ])('$damage: $code', ({ apply, code, details, message }) => {
    const err = refusal(apply, (d) => checkTipConsistent(d, DEVNET, readStoredTip(d)));
    expect(err.code).toBe(code);
    expect(err.details).toEqual(details());
    expect(err.message).toMatch(message);
  });
});
