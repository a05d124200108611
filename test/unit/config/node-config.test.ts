import { mkdtempSync, writeFileSync } from 'node:fs';
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
