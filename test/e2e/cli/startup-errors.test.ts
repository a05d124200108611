import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/util/package-root.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

const run = promisify(execFile);
const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Runs the compiled `timecoin` CLI (`npm run build`); never throws, returns the exit code. */
async function timecoin(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const c of dirs) c();
});

/** A file where a data directory should be. */
function aFile(): string {
  const { dir, cleanup } = tempDir('cli-startup');
  dirs.push(cleanup);
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  return file;
}

/** Bad start-up input ends in one line naming the problem and a non-zero exit, never a stack. */
describe('timecoin start-up errors', () => {
  it('node init --datadir <a file>: DATADIR_UNUSABLE naming the path and EEXIST', async () => {
    const file = aFile();
    const r = await timecoin(['node', 'init', '--datadir', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`timecoin node: DATADIR_UNUSABLE: datadir ${file}: not a directory (EEXIST)\n`);
  });

  it('node --datadir <a file>/sub --devnet-index 0: DATADIR_UNUSABLE naming ENOTDIR', async () => {
    const dir = join(aFile(), 'sub');
    const r = await timecoin([
      'node',
      '--datadir',
      dir,
      '--devnet-index',
      '0',
      '--p2p-port',
      '0',
      '--rpc-port',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `timecoin node: DATADIR_UNUSABLE: datadir ${dir}: not a directory (a part of the path is a file) (ENOTDIR)\n`,
    );
  });

  it('an untyped system error from any command is one line with its errno, exit 1', async () => {
    const { dir, cleanup } = tempDir('cli-startup');
    dirs.push(cleanup);
    const missing = join(dir, 'no-such-passphrase');
    const r = await timecoin([
      'wallet',
      'create',
      '--wallet',
      join(dir, 'w.json'),
      '--passphrase-file',
      missing,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^timecoin wallet: ENOENT: no such file or directory, open '${missing}'\\n$`),
    );
  });

  it('the node starts with the wallet variables exported, and an unknown TIMECOIN_ variable is named', async () => {
    const { dir, cleanup } = tempDir('cli-startup');
    dirs.push(cleanup);
    const wallet = { TIMECOIN_WALLET: join(dir, 'w.json'), TIMECOIN_WALLET_PASSPHRASE: 'correct horse' };
    // No node key yet: refused for that, i.e. the configuration was accepted.
    const r = await timecoin(['node', '--datadir', dir], wallet);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^timecoin node: NODE_KEY_MISSING: /);
    const typo = await timecoin(['node', '--datadir', dir], { TIMECOIN_RPC_PROT: '1' });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(
      /^timecoin node: CONFIG_INVALID: environment variable TIMECOIN_RPC_PROT: no config key rpc\.prot /,
    );
  });
});
