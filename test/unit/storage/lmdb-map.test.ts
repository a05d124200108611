import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENV_FILE, LMDB_MAP_BYTES, openDatabases } from '../../../src/storage/databases.js';
import { tempDir } from './temp-dir.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** How many mappings of `file` this process holds, and their resident kB (Linux smaps). */
function mappingsOf(file: string): { count: number; residentKb: number } {
  let count = 0;
  let residentKb = 0;
  let current = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      current = line.split(/\s+/).slice(5).join(' ');
      if (current === file) count++;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current === file) residentKb += Number(rss[1]);
  }
  return { count, residentKb };
}

describe('the LMDB map', () => {
  it.runIf(process.platform === 'linux')(
    'is mapped once at its full size, so a growing file never leaves outgrown mappings resident',
    async () => {
      const { dir, cleanup } = tempDir('lmdb-map-');
      const dbs = openDatabases(dir);
      cleanups.push(cleanup, () => dbs.env.close());
      expect(dbs.env.getStats() as { mapSize: number }).toMatchObject({ mapSize: LMDB_MAP_BYTES });
      // 6 MB written and read back: lmdb-js's default 128 KiB map would be outgrown six times.
      const value = new Uint8Array(2_000).fill(7);
      for (let i = 0; i < 3_000; i++) {
        const key = new Uint8Array(32);
        new DataView(key.buffer).setUint32(0, i);
        dbs.env.transactionSync(() => dbs.finalized.putSync(key, value));
        expect(dbs.finalized.getBinary(key)?.length).toBe(value.length);
      }
      const file = join(dir, ENV_FILE);
      const maps = mappingsOf(file);
      expect(maps.count).toBe(1);
      // Resident pages of the file never exceed the file (each page counted once).
      expect(maps.residentKb * 1024).toBeLessThanOrEqual(readFileSync(file).length);
    },
  );
});
