import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/util/package-root.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

const run = promisify(execFile);
const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Runs the compiled `timecoin` CLI (built by `npm test`); never throws, returns the exit code. */
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

describe('timecoin CLI', () => {
  it('keygen derives the documented devnet key 0 and its address', async () => {
    const r = await timecoin(['keygen', '--devnet-seed', 'timecoin devnet', '--index', '0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      network: 'devnet',
      secretKey: 'a8c3e4a107edfa59e106c304f6c1c820252f1ec236a215074b3dce84aedee421',
      publicKey: '933b31b0ffb09c396277142ce36bb97f8fbe6d8fae314e80676f02a7ff9a7c1c',
      address: 'TIME23rzpNkFDFaF98sBovtFk2sD1CnvXHXq5B',
    });
  });

  it('address decodes a valid address and names the problem of a bad one', async () => {
    const ok = await timecoin(['address', '--decode', 'TIME13rzpNkFDFaF98sBovtFk2sD1CnvTy6HJa', '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      network: 'mainnet',
      payload: '1f64e5908cbe791395a9eff5bd1c91a1a4c39721',
    });
    const bad = await timecoin(['address', '--decode', 'TIME23rzpNkFDFaF98sBovtFk2sD1CnvXHXq5C']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/BAD_CHECKSUM/);
  });

  it('wallet import --devnet-key N writes funded devnet key N, and only on the devnet', async () => {
    const { dir, cleanup } = tempDir('cli-wallet');
    dirs.push(cleanup);
    const file = join(dir, 'funder.json');
    const r = await timecoin(['wallet', 'import', '--devnet-key', '0', '--wallet', file, '--json']);
    expect(r.code).toBe(0);
    // Funded key 0 is devnet key 0 of the public seed phrase (the keygen test above pins it).
    expect(JSON.parse(r.stdout)).toMatchObject({
      address: 'TIME23rzpNkFDFaF98sBovtFk2sD1CnvXHXq5B',
      publicKey: '933b31b0ffb09c396277142ce36bb97f8fbe6d8fae314e80676f02a7ff9a7c1c',
    });
    expect((await timecoin(['wallet', 'address', '--wallet', file])).stdout.trim()).toBe(
      'TIME23rzpNkFDFaF98sBovtFk2sD1CnvXHXq5B',
    );
    const again = await timecoin(['wallet', 'import', '--devnet-key', '9', '--wallet', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/WALLET_EXISTS/);
    const other = join(dir, 'nine.json');
    const nine = await timecoin(['wallet', 'import', '--devnet-key', '9', '--wallet', other, '--json']);
    const key9 = await timecoin(['keygen', '--devnet-seed', 'timecoin devnet', '--index', '9', '--json']);
    expect(JSON.parse(nine.stdout).address).toBe(JSON.parse(key9.stdout).address);
    for (const [args, why] of [
      [['--devnet-key', '10'], /0 to 9/],
      [['--devnet-key=-1'], /0 to 9/],
      [['--devnet-key', '1.5'], /0 to 9/],
      [['--devnet-key', '0', '--network', 'testnet'], /devnet only, not testnet/],
      [['--devnet-key', '0', 'a8c3e4a107edfa59e106c304f6c1c820252f1ec236a215074b3dce84aedee421'], /not both/],
    ] as const) {
      const bad = await timecoin(['wallet', 'import', ...args, '--wallet', join(dir, 'bad.json')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(why);
    }
  });

  it.skipIf(process.platform === 'win32')(
    'a wallet without a passphrase that others can read is refused (exit 1, the file and the chmod named); 0600 loads',
    async () => {
      const { dir, cleanup } = tempDir('cli-wallet-mode');
      dirs.push(cleanup);
      const file = join(dir, 'w.json');
      expect((await timecoin(['wallet', 'import', '--devnet-key', '1', '--wallet', file])).code).toBe(0);
      chmodSync(file, 0o644);
      // send reads the wallet's key before it asks the node: port 1 is never reached.
      const to = 'TIME23rzpNkFDFaF98sBovtFk2sD1CnvXHXq5B';
      const node = ['--rpc-host', '127.0.0.1', '--rpc-port', '1', '--rpc-user', 'u', '--rpc-password', 'p'];
      const refused = await timecoin(['send', to, '1', '--wallet', file, ...node]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`timecoin send: WALLET_UNPROTECTED: ${file} has mode 644;`);
      expect(refused.stderr).toContain(`(chmod 600 ${file})`);
      chmodSync(file, 0o600);
      // Now the key loads and send goes on to the node, which is not there (exit 3).
      const loaded = await timecoin(['send', to, '1', '--wallet', file, ...node]);
      expect(loaded.code, loaded.stderr).toBe(3);
    },
  );

  it('usage errors exit 2 with the usage line', async () => {
    expect((await timecoin(['nosuchcommand'])).code).toBe(2);
    const r = await timecoin(['keygen', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: timecoin keygen/);
  });

  it('devnet creates the data dir with genesis, reopens it, and refuses a bad config key', async () => {
    const { dir, cleanup } = tempDir('cli-devnet');
    dirs.push(cleanup);
    const first = await timecoin(['devnet', '--datadir', dir, '--json']);
    expect(first.code).toBe(0);
    const s = JSON.parse(first.stdout);
    expect(s.genesis).toBe('c5948a248f15eebe7de5701e4ffdc32e8a81e31d053a76e051a89548f0060092');
    expect(s.tip.height).toBe(0);
    expect(s.masternodes.map((m: { tier: string }) => m.tier)).toEqual(new Array(5).fill('bronze'));
    expect(s.funded).toHaveLength(10);
    const again = await timecoin(['devnet', '--datadir', dir, '--json']);
    expect(JSON.parse(again.stdout).tip).toEqual(s.tip);
    const bad = await timecoin(['devnet', '--datadir', dir], { TIMECOIN_LOG_LEVEL: 'loud' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/log\.level/);
  });
});
