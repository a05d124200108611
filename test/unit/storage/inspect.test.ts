import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_FILE } from '../../../src/storage/databases.js';
import { StoreOpenError } from '../../../src/storage/errors.js';
import { inspectStore } from '../../../src/storage/inspect.js';
import { tempDir } from './temp-dir.js';

async function refusal(dataDir: string): Promise<StoreOpenError> {
  const err = await inspectStore(dataDir).then(
    () => new Error('not refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreOpenError);
  return err as StoreOpenError;
}

/**
 * inspect-db points at whatever directory an operator names: anything that is not a chain store
 * must be refused as NOT_A_STORE naming the directory (never an untyped crash), and left as it was.
 */
describe('inspectStore on something that is not a chain store', () => {
  let root: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir: root, cleanup } = tempDir('inspect-not-a-store'));
  });
  afterAll(() => cleanup());

  it('a directory without chain.mdb: says the file is missing, and creates nothing', async () => {
    for (const dataDir of [root, join(root, 'nope')]) {
      const err = await refusal(dataDir);
      expect(err.code).toBe('NOT_A_STORE');
      expect(err.details).toStrictEqual({ dataDir });
      expect(err.message).toContain(dataDir);
      expect(err.message).toMatch(/chain\.mdb is missing/);
    }
    expect(existsSync(join(root, 'nope'))).toBe(false);
    expect(existsSync(join(root, ENV_FILE))).toBe(false);
  });

  it('a chain.mdb that LMDB cannot open: says so, with the cause', async () => {
    const dataDir = join(root, 'dir-as-file');
    mkdirSync(join(dataDir, ENV_FILE), { recursive: true });
    const err = await refusal(dataDir);
    expect(err.code).toBe('NOT_A_STORE');
    expect(err.details).toStrictEqual({ dataDir });
    expect(err.message).toContain(`${dataDir}: cannot open the chain store`);
    expect(err.message).toMatch(/directory/i);
  });

  it('an LMDB file of some other program: refused, and not given the chain databases', async () => {
    const dataDir = join(root, 'foreign');
    const foreign = open({ path: join(dataDir, ENV_FILE) });
    await foreign.put('settings', { theme: 'dark' });
    await foreign.close();

    const err = await refusal(dataDir);
    expect(err.code).toBe('NOT_A_STORE');
    expect(err.details).toStrictEqual({ dataDir });
    expect(err.message).toContain(dataDir);

    const after = open({ path: join(dataDir, ENV_FILE), readOnly: true });
    expect([...after.getKeys()]).toEqual(['settings']);
    await after.close();
  });
});
