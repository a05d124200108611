import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadNodeConfig, NodeConfigSchema } from '../../../src/config/node-config.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const devnet = (env: Record<string, string>, overrides?: Record<string, unknown>) =>
  loadNodeConfig({ network: 'devnet', env, ...(overrides ? { overrides } : {}) });

/** Values the schema took although the node could never use them. */
describe('config values the node cannot use', () => {
  it('refuses a seed whose port is not a TCP port, naming p2p.seeds and the entry', () => {
    // The schema's regex was ^[^:\s]+:\d{1,5}$: 99999 passed, the node kept a seed it can never dial.
    const env = errorOf(() => devnet({ TIMECOIN_P2P_SEEDS: '["10.0.0.2:24200","10.0.0.2:99999"]' }));
    expect(env.details['key']).toBe('p2p.seeds.1');
    expect(env.message).toBe(
      'CONFIG_INVALID: environment variable TIMECOIN_P2P_SEEDS: p2p.seeds.1: "10.0.0.2:99999": port 99999 is outside 1–65535',
    );
    for (const bad of ['h:0', 'h:65536', 'h:00000'])
      expect(errorOf(() => devnet({ TIMECOIN_P2P_SEEDS: JSON.stringify([bad]) })).message).toContain(
        `p2p.seeds.0: "${bad}": port`,
      );
    expect(devnet({ TIMECOIN_P2P_SEEDS: '["h:1","h:65535"]' }).p2p.seeds).toEqual(['h:1', 'h:65535']);
  });

  it("the schema's own issues for a bad seed or host: custom issues at the entry, with the exact message", () => {
    const base = loadNodeConfig({ network: 'devnet', env: {} });
    const issues = (p2p: Record<string, unknown>) =>
      NodeConfigSchema.safeParse({ ...base, p2p: { ...base.p2p, ...p2p } }).error?.issues;
    expect(issues({ seeds: ['h:1', 'nohost'] })).toEqual([
      { code: 'custom', path: ['p2p', 'seeds', 1], message: '"nohost": expected host:port' },
    ]);
    expect(issues({ seeds: ['h:70000'] })).toEqual([
      { code: 'custom', path: ['p2p', 'seeds', 0], message: '"h:70000": port 70000 is outside 1–65535' },
    ]);
    expect(issues({ listen: 'h:1' })).toEqual([
      {
        code: 'custom',
        path: ['p2p', 'listen'],
        message: '"h:1": expected a host name or IP address without a port (IPv6 without brackets)',
      },
    ]);
    // Through loadNodeConfig, the same texts after the key.
    expect(errorOf(() => devnet({ TIMECOIN_P2P_SEEDS: '["nohost"]' })).message).toBe(
      'CONFIG_INVALID: environment variable TIMECOIN_P2P_SEEDS: p2p.seeds.0: "nohost": expected host:port',
    );
  });

  it('refuses the same seed from the config file and from --seeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rev-seeds-'));
    const file = join(dir, 'node.toml');
    writeFileSync(
      file,
      [
        'network = "devnet"',
        'datadir = "d"',
        '[p2p]\nlisten = "127.0.0.1"\nport = 1\nseeds = ["10.0.0.2:99999"]',
        '[rpc]\nbind = "127.0.0.1"\nport = 2',
        '[log]\nlevel = "info"',
      ].join('\n'),
    );
    const fromFile = errorOf(() => loadNodeConfig({ file, env: {} }));
    expect(fromFile.message).toBe(
      `CONFIG_INVALID: ${file}: p2p.seeds.0: "10.0.0.2:99999": port 99999 is outside 1–65535`,
    );
    const flag = errorOf(() => devnet({}, { 'p2p.seeds': ['10.0.0.2:70000'] }));
    expect(flag.message).toMatch(/^CONFIG_INVALID: command line: p2p\.seeds\.0: "10\.0\.0\.2:70000": port/);
  });

  it('refuses a listen or bind address that carries a port, spaces or brackets, naming the key', () => {
    for (const [name, key] of [
      ['TIMECOIN_P2P_LISTEN', 'p2p.listen'],
      ['TIMECOIN_RPC_BIND', 'rpc.bind'],
    ] as const) {
      for (const bad of ['127.0.0.1:24200', 'localhost:1', '[::1]', 'my host', ' 127.0.0.1']) {
        const err = errorOf(() => devnet({ [name]: bad }));
        expect(err.details['key'], bad).toBe(key);
        expect(err.message).toContain(`${key}: ${JSON.stringify(bad)}: expected a host name or IP address`);
      }
      for (const good of ['0.0.0.0', '::', '::1', 'fe80::1', 'node-1.example', 'localhost']) {
        const c = devnet({ [name]: good });
        expect(key === 'p2p.listen' ? c.p2p.listen : c.rpc.bind).toBe(good);
      }
    }
  });
});
