import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MAX_SUBMIT_BACKLOG, loadNodeConfig } from '../../../src/config/node-config.js';
import { NETWORKS } from '../../../src/params/networks.js';

function fileWith(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'timecoin-config-')), 'node.toml');
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('node configuration', () => {
  it('loads every shipped network file with its chain ports', () => {
    for (const network of ['mainnet', 'testnet', 'devnet'] as const) {
      const c = loadNodeConfig({ network, env: {} });
      expect(c.network).toBe(network);
      expect(c.p2p.port).toBe(NETWORKS[network].p2pPort);
      expect(c.rpc.port).toBe(NETWORKS[network].rpcPort);
      expect(c.rpc.bind).toBe('127.0.0.1');
    }
  });

  it('environment overrides file, flags override environment', () => {
    const env = {
      TIMECOIN_RPC_PORT: '25001',
      TIMECOIN_DATADIR: '/tmp/x',
      TIMECOIN_P2P_SEEDS: '["a:1","b:2"]',
    };
    const c = loadNodeConfig({ network: 'devnet', env });
    expect(c.rpc.port).toBe(25001);
    expect(c.datadir).toBe('/tmp/x');
    expect(c.p2p.seeds).toEqual(['a:1', 'b:2']);
    expect(loadNodeConfig({ network: 'devnet', env, overrides: { 'rpc.port': 26001 } }).rpc.port).toBe(26001);
  });

  it.each([
    ['a port out of range', 'rpc.port', { TIMECOIN_RPC_PORT: '70000' }],
    ['a non-numeric port', 'p2p.port', { TIMECOIN_P2P_PORT: 'abc' }],
    ['a bad log level', 'log.level', { TIMECOIN_LOG_LEVEL: 'loud' }],
    ['a malformed seed', 'p2p.seeds.0', { TIMECOIN_P2P_SEEDS: '["nohost"]' }],
    ['an unknown key', 'rpc.password', { TIMECOIN_RPC_PASSWORD: 'x' }],
  ])('names the bad key for %s', (_what, key, env) => {
    const err = errorOf(() => loadNodeConfig({ network: 'devnet', env }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details['key']).toBe(key);
    expect(err.message).toContain(`: ${key}:`);
  });

  it('refuses a file that does not parse, naming the file', () => {
    const file = fileWith('network = "devnet"\n[p2p\nport = 1');
    const err = errorOf(() => loadNodeConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.message).toContain(file);
  });

  it('refuses a file for another network than asked', () => {
    const err = errorOf(() => loadNodeConfig({ network: 'mainnet', file: loadPath('devnet'), env: {} }));
    expect(err.details['key']).toBe('network');
  });
});

function loadPath(network: string): string {
  return join(process.cwd(), 'config', `${network}.toml`);
}

describe('node configuration: node sections', () => {
  it('maps TIMECOIN_<SECTION>_<SNAKE_KEY> to camelCase keys and fills documented defaults', () => {
    const c = loadNodeConfig({
      network: 'devnet',
      env: {
        TIMECOIN_MEMPOOL_MAX_COUNT: '5',
        TIMECOIN_P2P_PEER_EXCHANGE: 'false',
        TIMECOIN_NODE_WORKERS: '3',
      },
    });
    expect(c.mempool.maxCount).toBe(5);
    expect(c.mempool.maxBytes).toBe(300_000_000);
    expect(c.p2p.peerExchange).toBe(false);
    expect(c.node.workers).toBe(3);
    expect(c.consensus.minPollIntervalMs).toBe(2);
    expect(c.consensus.maxSubmitBacklog).toBe(DEFAULT_MAX_SUBMIT_BACKLOG);
    const limited = loadNodeConfig({
      network: 'devnet',
      env: { TIMECOIN_CONSENSUS_MAX_SUBMIT_BACKLOG: '7' },
    });
    expect(limited.consensus.maxSubmitBacklog).toBe(7);
    const zero = errorOf(() =>
      loadNodeConfig({ network: 'devnet', env: { TIMECOIN_CONSENSUS_MAX_SUBMIT_BACKLOG: '0' } }),
    );
    expect(zero.details['key']).toBe('consensus.maxSubmitBacklog');
    expect(loadNodeConfig({ network: 'devnet', env: {} }).p2p.peerExchange).toBe(true);
  });

  it('accepts port 0 (ephemeral) and refuses a user without a password, naming the key', () => {
    expect(loadNodeConfig({ network: 'devnet', env: {}, overrides: { 'p2p.port': 0 } }).p2p.port).toBe(0);
    const err = errorOf(() => loadNodeConfig({ network: 'devnet', env: { TIMECOIN_RPC_USER: 'alice' } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details['key']).toBe('rpc.user');
    const short = errorOf(() =>
      loadNodeConfig({
        network: 'devnet',
        env: { TIMECOIN_RPC_USER: 'alice', TIMECOIN_RPC_PASSWORD: 'short' },
      }),
    );
    expect(short.details['key']).toBe('rpc.password');
  });
});

describe('node configuration: each rule names its key', () => {
  const devnet = (env: Record<string, string>, overrides?: Record<string, unknown>) =>
    loadNodeConfig({ network: 'devnet', env, ...(overrides ? { overrides } : {}) });
  const keyOf = (env: Record<string, string>, overrides?: Record<string, unknown>) =>
    errorOf(() => devnet(env, overrides)).details['key'];

  it('serves the dashboard only on a loopback bind', () => {
    for (const bind of ['127.0.0.1', '::1', 'localhost'])
      expect(devnet({ TIMECOIN_RPC_DASHBOARD: 'true', TIMECOIN_RPC_BIND: bind }).rpc.dashboard).toBe(true);
    const err = errorOf(() => devnet({ TIMECOIN_RPC_DASHBOARD: 'true', TIMECOIN_RPC_BIND: '0.0.0.0' }));
    expect(err.details['key']).toBe('rpc.dashboard');
    expect(err.message).toMatch(/rpc\.dashboard: the dashboard is served without credentials/);
    // Off by default, and off is fine on any bind.
    expect(devnet({}).rpc.dashboard).toBe(false);
    expect(devnet({ TIMECOIN_RPC_BIND: '0.0.0.0' }).rpc.dashboard).toBe(false);
  });

  it('takes user and password together: either alone is refused, both are kept', () => {
    const both = devnet({ TIMECOIN_RPC_USER: 'alice', TIMECOIN_RPC_PASSWORD: 'sixteen-chars-ok' });
    expect([both.rpc.user, both.rpc.password]).toEqual(['alice', 'sixteen-chars-ok']);
    const alone = errorOf(() => devnet({ TIMECOIN_RPC_PASSWORD: 'sixteen-chars-ok' }));
    expect(alone.details['key']).toBe('rpc.user');
    expect(alone.message).toMatch(/user and password are set together/);
    expect(
      errorOf(() => devnet({ TIMECOIN_RPC_USER: 'a', TIMECOIN_RPC_PASSWORD: '15-characters-x' })).message,
    ).toMatch(/rpc\.password: at least 16 characters/);
  });

  it('types environment values as TOML would: integers, booleans, JSON arrays, else strings', () => {
    expect(keyOf({ TIMECOIN_P2P_PORT: '-1' })).toBe('p2p.port'); // a number, out of range
    expect(keyOf({ TIMECOIN_P2P_PORT: '1x' })).toBe('p2p.port'); // not an integer: a string
    expect(keyOf({ TIMECOIN_P2P_PORT: 'x1' })).toBe('p2p.port');
    expect(keyOf({ TIMECOIN_P2P_PEER_EXCHANGE: 'yes' })).toBe('p2p.peerExchange');
    expect(devnet({ TIMECOIN_P2P_PEER_EXCHANGE: 'true' }).p2p.peerExchange).toBe(true);
    expect(devnet({ TIMECOIN_RPC_DASHBOARD: 'false' }).rpc.dashboard).toBe(false);
    // A bracketed value that is not JSON stays a string, and the schema names the key.
    expect(keyOf({ TIMECOIN_P2P_SEEDS: '[a:1' })).toBe('p2p.seeds');
    expect(keyOf({ TIMECOIN_P2P_SEEDS: 'a:1' })).toBe('p2p.seeds');
    expect(devnet({ TIMECOIN_LOG_LEVEL: 'debug' }).log.level).toBe('debug');
    expect(devnet({ TIMECOIN_RPC_BIND: '::1' }).rpc.bind).toBe('::1');
  });

  it('reads only TIMECOIN_ variables, never TIMECOIN_CONFIG, and maps top-level keys', () => {
    const c = devnet({ RPC_PORT: '1', XTIMECOIN_RPC_PORT: '2', TIMECOIN_CONFIG: '/elsewhere.toml' });
    expect(c.rpc.port).toBe(24201);
    expect(devnet({ TIMECOIN_DATADIR: '/d' }).datadir).toBe('/d');
    // A name without a known section is a top-level key, refused by name.
    expect(keyOf({ TIMECOIN_WALLET_PATH: 'x' })).toBe('walletPath');
    expect(keyOf({ TIMECOIN_PORT: '1' })).toBe('port');
    // A known section name alone is a top-level key too, and the section is not an object.
    expect(keyOf({ TIMECOIN_RPC: '1' })).toBe('rpc');
  });

  it('parses only bracketed values as JSON, and an unparsable one stays text for the schema to name', () => {
    // JSON that is not an array stays the string it is: '"debug"' is not the level debug.
    expect(errorOf(() => devnet({ TIMECOIN_LOG_LEVEL: '"debug"' })).details['key']).toBe('log.level');
    expect(errorOf(() => devnet({ TIMECOIN_CONSENSUS_MIN_POLL_INTERVAL_MS: '1.5' })).message).toMatch(
      /received string/,
    );
    expect(errorOf(() => devnet({ TIMECOIN_P2P_SEEDS: '[a:1' })).message).toMatch(
      /p2p\.seeds: .*received string/,
    );
    expect(errorOf(() => devnet({ TIMECOIN_P2P_SEEDS: '["bad seed"]' })).message).toMatch(
      /p2p\.seeds\.0: "bad seed": expected host:port$/,
    );
  });

  it('skips variables without a value', () => {
    expect(loadNodeConfig({ network: 'devnet', env: { TIMECOIN_RPC_PORT: undefined } }).rpc.port).toBe(24201);
  });

  it('accepts every documented log level and refuses others', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
      expect(devnet({ TIMECOIN_LOG_LEVEL: level }).log.level).toBe(level);
    expect(keyOf({ TIMECOIN_LOG_LEVEL: 'verbose' })).toBe('log.level');
  });

  it('bounds seeds, body size, slot length and poll pacing', () => {
    expect(devnet({ TIMECOIN_P2P_SEEDS: '["h:1","h.example:65535"]' }).p2p.seeds).toHaveLength(2);
    for (const bad of ['x h:1', 'h:1 ', 'h:', ':1', 'h:123456', 'a:b:1'])
      expect(keyOf({ TIMECOIN_P2P_SEEDS: JSON.stringify([bad]) }), bad).toBe('p2p.seeds.0');
    expect(devnet({}).rpc.maxBodyBytes).toBe(4 * 1024 * 1024);
    expect(devnet({ TIMECOIN_RPC_MAX_BODY_BYTES: String(64 * 1024 * 1024) }).rpc.maxBodyBytes).toBe(
      64 * 1024 * 1024,
    );
    expect(keyOf({ TIMECOIN_RPC_MAX_BODY_BYTES: String(64 * 1024 * 1024 + 1) })).toBe('rpc.maxBodyBytes');
    expect(devnet({ TIMECOIN_CHAIN_SLOT_MS: '3600000' }).chain.slotMs).toBe(3_600_000);
    expect(keyOf({ TIMECOIN_CHAIN_SLOT_MS: '3600001' })).toBe('chain.slotMs');
    expect(devnet({ TIMECOIN_CHAIN_FUTURE_BLOCK_TOLERANCE_MS: '600000' }).chain.futureBlockToleranceMs).toBe(
      600_000,
    );
    expect(devnet({ TIMECOIN_CHAIN_FUTURE_BLOCK_TOLERANCE_MS: '0' }).chain.futureBlockToleranceMs).toBe(0);
    expect(keyOf({ TIMECOIN_CHAIN_FUTURE_BLOCK_TOLERANCE_MS: '600001' })).toBe(
      'chain.futureBlockToleranceMs',
    );
    expect(devnet({ TIMECOIN_CONSENSUS_MIN_POLL_INTERVAL_MS: '10000' }).consensus.minPollIntervalMs).toBe(
      10_000,
    );
    expect(devnet({ TIMECOIN_CONSENSUS_MIN_POLL_INTERVAL_MS: '0' }).consensus.minPollIntervalMs).toBe(0);
    expect(keyOf({ TIMECOIN_CONSENSUS_MIN_POLL_INTERVAL_MS: '10001' })).toBe('consensus.minPollIntervalMs');
  });

  it('fills the mempool section when the file has none, with the documented defaults', () => {
    expect(devnet({}).mempool).toEqual({
      maxCount: 100_000,
      maxBytes: 300_000_000,
      processingExpiryMs: 600_000,
    });
    expect(devnet({}).chain).toEqual({});
    expect(devnet({}).node).toEqual({});
  });

  it('fixes slot timing outside devnet, naming the chain section', () => {
    const file = fileWith(
      [
        'network = "testnet"',
        'datadir = "d"',
        '[p2p]\nlisten = "127.0.0.1"\nport = 1\nseeds = []',
        '[rpc]\nbind = "127.0.0.1"\nport = 2',
        '[log]\nlevel = "info"',
        '[chain]\nslotMs = 1000',
      ].join('\n'),
    );
    const err = errorOf(() => loadNodeConfig({ file, env: {} }));
    expect(err.details).toEqual({ file, key: 'chain' });
    expect(err.message).toBe(`CONFIG_INVALID: ${file}: chain: slot timing is fixed on testnet`);
    // The same file without the chain section loads, and so does devnet with one.
    expect(
      loadNodeConfig({ file: fileWith(readFileSync(file, 'utf8').replace('slotMs = 1000', '')), env: {} })
        .network,
    ).toBe('testnet');
    expect(devnet({ TIMECOIN_CHAIN_SLOT_MS: '1000' }).chain.slotMs).toBe(1000);
  });

  it('checks the asked network only when one was asked, and names both in the message', () => {
    const file = loadPath('testnet');
    expect(loadNodeConfig({ file, env: {} }).network).toBe('testnet');
    const err = errorOf(() => loadNodeConfig({ network: 'devnet', file, env: {} }));
    expect(err.message).toBe(`CONFIG_INVALID: ${file}: network: file is for testnet, asked for devnet`);
    expect(err.details).toEqual({ file, key: 'network' });
  });

  it('reads the shipped file of the asked network, devnet by default, and names an unreadable one', () => {
    expect(loadNodeConfig({ env: {} }).network).toBe('devnet');
    const missing = join(tmpdir(), 'timecoin-no-such-config.toml');
    const err = errorOf(() => loadNodeConfig({ file: missing, env: {} }));
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.details).toEqual({ file: missing });
    expect(err.message).toMatch(new RegExp(`^CONFIG_UNREADABLE: ${missing}: ENOENT`));
  });

  it('skips undefined overrides and names an unknown key at its full path', () => {
    expect(
      loadNodeConfig({ network: 'devnet', env: {}, overrides: { 'rpc.port': undefined } }).rpc.port,
    ).toBe(24201);
    const err = errorOf(() => devnet({}, { 'rpc.color': 'blue' }));
    expect(err.details['key']).toBe('rpc.color');
    const root = errorOf(() => loadNodeConfig({ file: fileWith('= broken'), env: {} }));
    expect(root.code).toBe('CONFIG_UNREADABLE');
  });

  it('names the first missing key of an empty file', () => {
    const err = errorOf(() => loadNodeConfig({ file: fileWith(''), env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details['key']).toBe('network');
  });
});
