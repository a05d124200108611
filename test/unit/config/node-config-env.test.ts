import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCommand } from '../../../src/cli/commands/node.js';
import { RpcClient } from '../../../src/cli/rpc-client.js';
import { ConfigError, loadNodeConfig, NON_CONFIG_ENV } from '../../../src/config/node-config.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const devnetFile = join(process.cwd(), 'config', 'devnet.toml');

/**
 * Every TIMECOIN_* variable of the environment is node config, except the few that belong to
 * something else (the wallet commands' own, documented in docs/operations.md): one list,
 * NON_CONFIG_ENV, read by the node and by the RPC client alike. A variable that is neither is
 * refused by its name, and a bad value from a variable is blamed on the variable, not the file.
 */
describe('node config from the environment: which variables are config', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  });

  it('`timecoin node` starts with the wallet’s TIMECOIN_WALLET and TIMECOIN_WALLET_PASSPHRASE exported', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'rev-env-'));
    process.env['TIMECOIN_WALLET_PASSPHRASE'] = 'correct horse battery staple';
    process.env['TIMECOIN_WALLET'] = join(datadir, 'wallet.json');
    // Without a node key the command stops at loadNodeKey: that is the expected refusal here,
    // i.e. the configuration itself was accepted.
    const err = (await nodeCommand.run(['--datadir', datadir]).catch((e: unknown) => e)) as {
      code?: string;
      message: string;
    };
    expect(err.code, err.message).toBe('NODE_KEY_MISSING');
  });

  it('passes over exactly the names of NON_CONFIG_ENV', () => {
    expect([...NON_CONFIG_ENV].sort()).toEqual([
      'TIMECOIN_CONFIG',
      'TIMECOIN_WALLET',
      'TIMECOIN_WALLET_PASSPHRASE',
    ]);
    const env = Object.fromEntries([...NON_CONFIG_ENV].map((n) => [n, 'x']));
    expect(loadNodeConfig({ network: 'devnet', env }).rpc.port).toBe(24201);
  });

  it('the RPC client reads the same environment as the node (wallet variables passed over)', () => {
    process.env['TIMECOIN_WALLET_PASSPHRASE'] = 'p';
    process.env['TIMECOIN_RPC_PORT'] = '25001';
    const client = RpcClient.fromFlags({ 'rpc-user': 'u', 'rpc-password': 'p' });
    expect(client.url).toBe('http://127.0.0.1:25001/');
    // And a variable that is not config stops the client as it stops the node, by its name.
    process.env['TIMECOIN_WALLET_FILE'] = 'x';
    expect(() => RpcClient.fromFlags({ 'rpc-user': 'u', 'rpc-password': 'p' })).toThrow(
      /environment variable TIMECOIN_WALLET_FILE: no config key walletFile/,
    );
  });

  it('refuses an unknown TIMECOIN_* variable by its name, not the config file', () => {
    const err = errorOf(() => loadNodeConfig({ network: 'devnet', env: { TIMECOIN_RPC_PROT: '1' } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(
      /^CONFIG_INVALID: environment variable TIMECOIN_RPC_PROT: no config key rpc\.prot /,
    );
    expect(err.message).not.toContain(devnetFile);
    expect(err.details).toEqual({ env: 'TIMECOIN_RPC_PROT', key: 'rpc.prot' });
    // A whole section is not a value.
    const section = errorOf(() => loadNodeConfig({ network: 'devnet', env: { TIMECOIN_MEMPOOL: '1' } }));
    expect(section.message).toBe(
      'CONFIG_INVALID: environment variable TIMECOIN_MEMPOOL: mempool is a section: set its keys, TIMECOIN_MEMPOOL_<KEY>',
    );
  });

  it("refuses a variable named after an Object.prototype member: the schema's shape has no such own key", () => {
    for (const [name, key] of [
      ['TIMECOIN_CONSTRUCTOR', 'constructor'],
      ['TIMECOIN_TO_STRING', 'toString'],
      ['TIMECOIN_P2P_CONSTRUCTOR', 'p2p.constructor'],
      ['TIMECOIN_RPC_HAS_OWN_PROPERTY', 'rpc.hasOwnProperty'],
    ] as const) {
      const err = errorOf(() => loadNodeConfig({ network: 'devnet', env: { [name]: '1' } }));
      expect(err.message).toBe(
        `CONFIG_INVALID: environment variable ${name}: no config key ${key} (TIMECOIN_<SECTION>_<KEY> names one; docs/operations.md "Configuration")`,
      );
      expect(err.details).toStrictEqual({ env: name, key });
    }
  });

  it('blames a bad value on what set it: the variable, the command line, else the file', () => {
    const env = errorOf(() => loadNodeConfig({ network: 'devnet', env: { TIMECOIN_RPC_PORT: '70000' } }));
    expect(env.message).toMatch(
      /^CONFIG_INVALID: environment variable TIMECOIN_RPC_PORT: rpc\.port: Too big/,
    );
    expect(env.details).toEqual({ file: devnetFile, key: 'rpc.port', env: 'TIMECOIN_RPC_PORT' });
    const seed = errorOf(() =>
      loadNodeConfig({ network: 'devnet', env: { TIMECOIN_P2P_SEEDS: '["bad seed"]' } }),
    );
    expect(seed.message).toMatch(/^CONFIG_INVALID: environment variable TIMECOIN_P2P_SEEDS: p2p\.seeds\.0: /);
    const flag = errorOf(() => loadNodeConfig({ network: 'devnet', env: {}, overrides: { 'rpc.port': -1 } }));
    expect(flag.message).toMatch(/^CONFIG_INVALID: command line: rpc\.port: /);
    // Not set by a variable: no env detail at all (not one that is undefined).
    expect(flag.details).toStrictEqual({ file: devnetFile, key: 'rpc.port' });
    // Slot timing outside devnet set by a variable names the variable and its key.
    const timing = errorOf(() =>
      loadNodeConfig({ network: 'testnet', env: { TIMECOIN_CHAIN_SLOT_MS: '1000' } }),
    );
    expect(timing.message).toBe(
      'CONFIG_INVALID: environment variable TIMECOIN_CHAIN_SLOT_MS: chain.slotMs: slot timing is fixed on testnet',
    );
    const network = errorOf(() =>
      loadNodeConfig({ network: 'devnet', env: { TIMECOIN_NETWORK: 'testnet' } }),
    );
    expect(network.details['env']).toBe('TIMECOIN_NETWORK');
  });
});

/**
 * An env value is typed by the key it sets: all-digit, "true"/"false" or bracketed strings stay
 * strings where the schema expects a string (they used to become numbers, booleans and arrays, so
 * an all-digit password was refused as "not a string" after Number() had lost its digits).
 */
describe('node config from the environment: values typed by their key', () => {
  const devnet = (env: Record<string, string>) => loadNodeConfig({ network: 'devnet', env });

  it('an all-digit RPC password from TIMECOIN_RPC_PASSWORD is a password, digit for digit', () => {
    const c = devnet({ TIMECOIN_RPC_USER: 'alice', TIMECOIN_RPC_PASSWORD: '12345678901234567890' });
    expect(c.rpc.password).toBe('12345678901234567890');
  });

  it('keeps strings exact where the schema expects a string', () => {
    const c = devnet({ TIMECOIN_RPC_USER: '007', TIMECOIN_RPC_PASSWORD: '[1234567890123456]' });
    expect([c.rpc.user, c.rpc.password]).toEqual(['007', '[1234567890123456]']);
    expect(devnet({ TIMECOIN_RPC_USER: 'true', TIMECOIN_RPC_PASSWORD: 'false-false-false' }).rpc.user).toBe(
      'true',
    );
    expect(devnet({ TIMECOIN_DATADIR: '/srv/2024' }).datadir).toBe('/srv/2024');
    expect(devnet({ TIMECOIN_DATADIR: '0012' }).datadir).toBe(join(process.cwd(), '0012'));
    expect(devnet({ TIMECOIN_P2P_LISTEN: '0' }).p2p.listen).toBe('0');
  });

  it('numbers, booleans and arrays only where the key takes one; a misfit is refused by its key', () => {
    expect(devnet({ TIMECOIN_RPC_PORT: '25001' }).rpc.port).toBe(25001);
    expect(devnet({ TIMECOIN_P2P_PEER_EXCHANGE: 'false' }).p2p.peerExchange).toBe(false);
    expect(devnet({ TIMECOIN_P2P_SEEDS: '["a:1"]' }).p2p.seeds).toEqual(['a:1']);
    const bool = errorOf(() => devnet({ TIMECOIN_P2P_PEER_EXCHANGE: '1' }));
    expect(bool.message).toMatch(
      /TIMECOIN_P2P_PEER_EXCHANGE: p2p\.peerExchange: .*expected boolean, received string/,
    );
    const num = errorOf(() => devnet({ TIMECOIN_RPC_PORT: 'true' }));
    expect(num.message).toMatch(/rpc\.port: .*expected number, received string/);
    // Only a value that starts with '[' is read as JSON for an array key: 5 stays the string "5".
    expect(errorOf(() => devnet({ TIMECOIN_P2P_SEEDS: '5' })).message).toBe(
      'CONFIG_INVALID: environment variable TIMECOIN_P2P_SEEDS: p2p.seeds: Invalid input: expected array, received string',
    );
    // An integer past 2^53 is refused as too big, not rounded into a different value.
    expect(errorOf(() => devnet({ TIMECOIN_MEMPOOL_MAX_BYTES: '12345678901234567890' })).details['key']).toBe(
      'mempool.maxBytes',
    );
  });
});

/** What loadNodeConfig's overrides may hold besides the CLI's dotted keys: whole sections. */
describe('node config overrides that set whole sections', () => {
  it('a section cleared to null and then given one key holds that key only, refused by the key it misses', () => {
    const err = errorOf(() =>
      loadNodeConfig({ network: 'devnet', env: {}, overrides: { rpc: null, 'rpc.port': 5 } }),
    );
    expect(err.details).toStrictEqual({ file: devnetFile, key: 'rpc.bind' });
    expect(err.message).toBe(
      'CONFIG_INVALID: command line: rpc.bind: Invalid input: expected string, received undefined',
    );
  });

  it('a chain section whose keys are undefined sets no slot timing, so testnet takes it', () => {
    const c = loadNodeConfig({ network: 'testnet', env: {}, overrides: { chain: { slotMs: undefined } } });
    expect(c.network).toBe('testnet');
    expect(c.chain.slotMs).toBeUndefined();
    // A defined key in the same shape is refused, naming it.
    const err = errorOf(() =>
      loadNodeConfig({
        network: 'testnet',
        env: {},
        overrides: { chain: { slotMs: undefined, leaderFallbackStepMs: 5 } },
      }),
    );
    expect(err.message).toBe('CONFIG_INVALID: command line: chain: slot timing is fixed on testnet');
  });
});
