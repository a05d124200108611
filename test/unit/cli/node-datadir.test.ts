import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { nodeCommand } from '../../../src/cli/commands/node.js';
import { ConfigError, loadNodeConfig } from '../../../src/config/node-config.js';
import { TimeNode } from '../../../src/node/node.js';
import { devnetNodeKey } from '../../../src/node/node-key.js';
import { devnetParams } from '../../../src/params/networks.js';

/** A file where a data directory should be: `<tmp>/not-a-dir`. */
function aFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rev-dd-')), 'not-a-dir');
  writeFileSync(file, 'x');
  return file;
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof ConfigError) return err;
  throw new Error(`expected a ConfigError, got ${String(err)}`);
}

/**
 * (ensureDatadir's own cases, errno by errno, are test/unit/config/datadir.test.ts, which the
 * config module's mutation run covers.)
 *
 * A data directory the node cannot use ends in DATADIR_UNUSABLE naming the key, the path and the
 * errno, from `node init` and from TimeNode.start alike (ensureDatadir), not in a raw fs error that
 * main.ts printed with its stack.
 */
describe('an unusable data directory', () => {
  it('`timecoin node init` on a datadir that is a file: DATADIR_UNUSABLE … (EEXIST)', async () => {
    const file = aFile();
    const err = await rejection(nodeCommand.run(['init', '--datadir', file]));
    expect(err.code).toBe('DATADIR_UNUSABLE');
    expect(err.message).toBe(`DATADIR_UNUSABLE: datadir ${file}: not a directory (EEXIST)`);
    expect(err.details).toEqual({ key: 'datadir', path: file, errno: 'EEXIST' });
  });

  it('`timecoin node init` on a datadir under a file: DATADIR_UNUSABLE … (ENOTDIR)', async () => {
    const dir = join(aFile(), 'sub');
    const err = await rejection(nodeCommand.run(['init', '--datadir', dir, '--devnet-index', '0']));
    expect(err.message).toBe(
      `DATADIR_UNUSABLE: datadir ${dir}: not a directory (a part of the path is a file) (ENOTDIR)`,
    );
  });

  it('TimeNode.start on a datadir under a file: the same error, before anything opens', async () => {
    const dir = join(aFile(), 'sub');
    const config = loadNodeConfig({ network: 'devnet', env: {}, overrides: { datadir: dir } });
    const err = await rejection(
      TimeNode.start({
        params: devnetParams(),
        config,
        key: devnetNodeKey(0),
        log: pino({ level: 'silent' }),
      }),
    );
    expect(err.details).toEqual({ key: 'datadir', path: dir, errno: 'ENOTDIR' });
  });
});
