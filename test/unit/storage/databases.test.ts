import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import { headerHash } from '../../../src/protocol/block.js';
import { ADDRESS_INDEX_FILE, ADDRESS_INDEX_VERSION } from '../../../src/storage/address-index.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { decodeChainTip } from '../../../src/storage/chain-tip.js';
import {
  ENV_FILE,
  openDatabases,
  readU32Bytes,
  SCHEMA_VERSION,
  u32Bytes,
} from '../../../src/storage/databases.js';
import { tempDir } from './temp-dir.js';

/** One devnet store at genesis, shared by the tests that only read it. */
let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir('databases'));
  await (await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET))).close();
});
afterAll(() => cleanup());

/**
 * The layout on disk is a compatibility contract (docs/architecture.md § Storage, guarded by
 * SCHEMA_VERSION): a renamed database or meta key would make every existing data directory read
 * as empty or as missing its meta. Read with plain lmdb-js, not through openDatabases.
 */
describe('the on-disk layout', () => {
  it('has exactly the documented named databases and meta keys', async () => {
    const env = open({ path: join(dir, ENV_FILE), readOnly: true });
    try {
      expect([...env.getKeys()].sort()).toEqual(
        [
          'blockIndex',
          'blocks',
          'collateral',
          'deregistrations',
          'finalized',
          'masternodes',
          'meta',
          'registrations',
          'txIndex',
          'undo',
          'utxoByHeight',
        ].sort(),
      );
      const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      expect([...meta.getKeys()].sort()).toEqual(['chainId', 'genesis', 'network', 'schema', 'tip']);
      expect(meta.get('network')?.toString('ascii')).toBe('devnet');
      expect(readU32Bytes(meta.get('chainId')!)).toBe(DEVNET.chainId);
      expect(readU32Bytes(meta.get('schema')!)).toBe(SCHEMA_VERSION);
    } finally {
      await env.close();
    }
  });
});

describe('the address index on disk (its own environment)', () => {
  it('has exactly its two databases and meta, naming the chain tip and its layout version', async () => {
    const env = open({ path: join(dir, ADDRESS_INDEX_FILE), readOnly: true });
    try {
      expect([...env.getKeys()].sort()).toEqual(['addressTotals', 'addressUtxos', 'meta']);
      const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      expect([...meta.getKeys()].sort()).toEqual(['tip', 'version']);
      expect(readU32Bytes(meta.get('version')!)).toBe(ADDRESS_INDEX_VERSION);
      const tip = decodeChainTip(new Uint8Array(meta.get('tip')!));
      const genesis = genesisBlock(DEVNET).header;
      expect([tip.height, toHex(tip.hash), tip.slot]).toEqual([0, toHex(headerHash(genesis)), genesis.slot]);
    } finally {
      await env.close();
    }
  });
});

describe('openDatabases read-only', () => {
  // inspect-db relies on it to run beside a node without ever writing to its store.
  it('refuses writes, leaving the store unchanged', async () => {
    const dbs = openDatabases(dir, { readOnly: true });
    try {
      expect(() => dbs.meta.putSync('network', new TextEncoder().encode('mainnet'))).toThrow();
      expect(dbs.meta.get('network')?.toString()).toBe('devnet');
    } finally {
      await dbs.env.close();
    }
  });
});

describe('u32 values', () => {
  it('round-trip little-endian, also from a view at an offset', () => {
    expect([...u32Bytes(0x01020304)]).toEqual([4, 3, 2, 1]);
    const framed = new Uint8Array([0xff, ...u32Bytes(0xfffffffe), 0xff]);
    expect(readU32Bytes(framed.subarray(1, 5))).toBe(0xfffffffe);
  });

  // A meta value or index entry of another length is damage, not a number to guess at.
  it.each([0, 3, 5, 8])('refuse %i bytes with a RangeError naming the length', (length) => {
    const read = () => readU32Bytes(new Uint8Array(length));
    expect(read).toThrow(RangeError);
    expect(read).toThrow(new RegExp(`4-byte u32, got ${length} bytes`));
  });
});
