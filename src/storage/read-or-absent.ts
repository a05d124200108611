import type { Database, Key } from 'lmdb';

/**
 * The decoded value at `key`, or undefined when there is none or its bytes do not decode (outside
 * damage: lmdb-js throws on bytes that are not msgpack). For stores whose records are advisory
 * (bans, double-sign evidence): one damaged record must hide only itself, never fail the read
 * that asked for it or stop a scan at it, so such stores iterate keys and read each value here.
 */
export function readOrAbsent<K extends Key>(db: Database<unknown, K>, key: K): unknown {
  try {
    return db.get(key);
  } catch {
    return undefined;
  }
}
