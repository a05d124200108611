import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, open, type RootDatabase } from 'lmdb';

/**
 * Bump on any change to a key or value layout below; `open` refuses other versions.
 * 2: the active-set indexes `registrations` and `deregistrations` (active-set-index.ts).
 * 3: the address index `addressUtxos` and `addressTotals` (address-index.ts).
 * 4: the address index moves to an environment of its own (addresses.mdb); 3's two databases go.
 * 5: UTXO keys start with the creating height (utxo-key.ts), in `utxoByHeight`; 4's `utxo` goes.
 */
export const SCHEMA_VERSION = 5;

/** The environment file inside the data directory (lmdb-js adds `<name>-lock` beside it). */
export const ENV_FILE = 'chain.mdb';

export type BinaryDb<K extends number | Uint8Array> = Database<Uint8Array, K>;

/**
 * The named databases of the one LMDB environment (layouts in docs/architecture.md § Storage).
 * Every value is raw bytes in a layout of our own; integer keys use LMDB's native u32 keys so
 * blocks iterate in height order, byte keys compare lexicographically.
 */
export interface ChainDatabases {
  readonly env: RootDatabase;
  /** height u32 → encodeBlock bytes */
  readonly blocks: BinaryDb<number>;
  /** header hash 32 B → height u32 LE */
  readonly blockIndex: BinaryDb<Uint8Array>;
  /** (named `utxoByHeight`) height u32 BE ‖ txid ‖ vout u32 BE, 40 B (utxo-key.ts) → UtxoEntry (33 B) */
  readonly utxo: BinaryDb<Uint8Array>;
  /** txid 32 B → height u32 LE */
  readonly txIndex: BinaryDb<Uint8Array>;
  /** txid 32 B → serialized transaction (final, not yet in a block) */
  readonly finalized: BinaryDb<Uint8Array>;
  /** height u32 → UndoRecord */
  readonly undo: BinaryDb<number>;
  /** node pubkey 32 B → MasternodeRecord */
  readonly masternodes: BinaryDb<Uint8Array>;
  /** collateral outpoint key 36 B → node pubkey 32 B */
  readonly collateral: BinaryDb<Uint8Array>;
  /** class u8 ‖ registeredHeight u32 BE ‖ pubkey → MasternodeRecord, not deregistered (active-set-index.ts) */
  readonly registrations: BinaryDb<Uint8Array>;
  /** deregisteredHeight u32 BE ‖ pubkey → MasternodeRecord (active-set-index.ts) */
  readonly deregistrations: BinaryDb<Uint8Array>;
  /** ASCII name → value (see META_KEYS) */
  readonly meta: Database<Uint8Array, string>;
}

/** The UTXO set's named database since schema 5 (schema 2-4 kept it, keyed by outpoint, in `utxo`). */
export const UTXO_DB = 'utxoByHeight';

/** The named database of META_KEYS: a chain store has it from its first transaction on. */
export const META_DB = 'meta';

export const META_KEYS = Object.freeze({
  schema: 'schema',
  network: 'network',
  chainId: 'chainId',
  genesis: 'genesis',
  tip: 'tip',
});

/**
 * Address space reserved for the LMDB map: 1 TiB, not memory and not disk (the file grows as data
 * is written; mainnet's largest blocks fill ~105 GB a year). Without it lmdb-js starts with a
 * 128 KiB map and doubles it as the file grows, and every outgrown mapping stays mapped with the
 * pages it touched resident: a soak node held 40 MB of mappings of its 19 MB file. With one map
 * of fixed size the resident file pages never exceed the file.
 */
export const LMDB_MAP_BYTES = 2 ** 40;

/**
 * Opens (creating when `create`) the environment. Sync commits stay on: every commit this module
 * makes is a synchronous, fdatasync'ed transaction (see chain-store.ts for why not async ones).
 */
export function openDatabases(dataDir: string, opts: { readOnly?: boolean } = {}): ChainDatabases {
  if (!opts.readOnly) mkdirSync(dataDir, { recursive: true });
  const env = open<Uint8Array, string>({
    path: join(dataDir, ENV_FILE),
    maxDbs: 16,
    mapSize: LMDB_MAP_BYTES,
    encoding: 'binary',
    ...(opts.readOnly ? { readOnly: true } : {}),
  });
  const bytesKeyed = (name: string): BinaryDb<Uint8Array> =>
    env.openDB<Uint8Array, Uint8Array>({ name, keyEncoding: 'binary', encoding: 'binary' });
  const heightKeyed = (name: string): BinaryDb<number> =>
    env.openDB<Uint8Array, number>({ name, keyEncoding: 'uint32', encoding: 'binary' });
  return {
    env,
    blocks: heightKeyed('blocks'),
    blockIndex: bytesKeyed('blockIndex'),
    utxo: bytesKeyed(UTXO_DB),
    txIndex: bytesKeyed('txIndex'),
    finalized: bytesKeyed('finalized'),
    undo: heightKeyed('undo'),
    masternodes: bytesKeyed('masternodes'),
    collateral: bytesKeyed('collateral'),
    registrations: bytesKeyed('registrations'),
    deregistrations: bytesKeyed('deregistrations'),
    meta: env.openDB<Uint8Array, string>({ name: META_DB, encoding: 'binary' }),
  };
}

/** Entry counts of the named databases (LMDB keeps them; reading them costs nothing). */
export interface StoreCounts {
  readonly blocks: number;
  readonly utxos: number;
  readonly txs: number;
  readonly finalized: number;
  readonly masternodes: number;
  readonly collateral: number;
}

export function storeCounts(dbs: ChainDatabases): StoreCounts {
  const n = (db: { getStats(): unknown }): number => (db.getStats() as { entryCount: number }).entryCount;
  return {
    blocks: n(dbs.blocks),
    utxos: n(dbs.utxo),
    txs: n(dbs.txIndex),
    finalized: n(dbs.finalized),
    masternodes: n(dbs.masternodes),
    collateral: n(dbs.collateral),
  };
}

/** u32 little-endian, the value layout of blockIndex, txIndex and meta.schema/chainId. */
export function u32Bytes(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
}

/**
 * Reads u32Bytes' layout by indexing, without a view: every UTXO lookup reads its height from
 * txIndex this way, and indexing also reads lmdb-js's getBinaryFast buffer (a Buffer over a larger
 * array whose `length` is patched to the value's size) correctly.
 */
export function readU32Bytes(b: Uint8Array): number {
  if (b.length !== 4) throw new RangeError(`expected a 4-byte u32, got ${b.length} bytes`);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1_00_00_00;
}

/**
 * A get that returns a plain Uint8Array copy. lmdb-js returns Node Buffers, whose `slice` makes
 * views rather than copies, and our decoders slice; copying once here keeps decoded objects from
 * aliasing LMDB-owned memory and makes them compare equal to Uint8Arrays.
 */
export function read<K extends number | string | Uint8Array>(
  db: { get(key: K): Uint8Array | undefined },
  key: K,
): Uint8Array | undefined {
  const v = db.get(key);
  return v === undefined ? undefined : new Uint8Array(v);
}
