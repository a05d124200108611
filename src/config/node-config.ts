import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { CodedError } from '../util/coded-error.js';
import { packageRoot } from '../util/package-root.js';

/**
 * Node configuration: config/<network>.toml, then environment overrides
 * (TIMECOIN_<SECTION>_<KEY>, e.g. TIMECOIN_P2P_PORT), then command-line overrides. Every problem
 * is a ConfigError that names the file and the key, so a bad edit stops start-up with a message an
 * operator can act on instead of a stack trace.
 */

/** 0 = an ephemeral port chosen by the OS (tests and local networks; the node logs the real one). */
const port = z.number().int().min(0).max(65_535);
const host = z.string().min(1);
const positiveInt = z.number().int().min(1);

/** consensus.maxSubmitBacklog's default: two polls' worth of txids (2 × maxTxidsPerPoll). */
export const DEFAULT_MAX_SUBMIT_BACKLOG = 2_048;

export const NodeConfigSchema = z
  .object({
    network: z.enum(['mainnet', 'testnet', 'devnet']),
    datadir: z.string().min(1),
    p2p: z
      .object({
        listen: host,
        port,
        seeds: z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'host:port')),
        /** false: dial only the seeds (fault-injection harnesses route every link through a proxy). */
        peerExchange: z.boolean().default(true),
      })
      .strict(),
    rpc: z
      .object({
        bind: host,
        port,
        /** HTTP Basic credentials; when absent the node writes a fresh cookie file each start. */
        user: z.string().min(1).optional(),
        password: z.string().min(16, 'at least 16 characters').optional(),
        maxBodyBytes: positiveInt.max(64 * 1024 * 1024).default(4 * 1024 * 1024),
        /** Serve the live dashboard (page and read-only state, no credentials) at `/`: loopback only. */
        dashboard: z.boolean().default(false),
      })
      .strict()
      .refine((r) => !r.dashboard || ['127.0.0.1', '::1', 'localhost'].includes(r.bind), {
        message: 'the dashboard is served without credentials, so only on a loopback bind',
        path: ['dashboard'],
      })
      .refine((r) => (r.user === undefined) === (r.password === undefined), {
        message: 'user and password are set together',
        path: ['user'],
      }),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']) }).strict(),
    node: z
      .object({
        /** Crypto worker threads (signature verification, merkle roots, VDF); default: all cores. */
        workers: positiveInt.max(256).optional(),
      })
      .strict()
      .default({}),
    mempool: z
      .object({
        maxCount: positiveInt.default(100_000),
        maxBytes: positiveInt.default(300_000_000),
        /** A processing transaction still undecided after this long stops being polled (mempool.ts). */
        processingExpiryMs: positiveInt.default(600_000),
      })
      .strict()
      .default({ maxCount: 100_000, maxBytes: 300_000_000, processingExpiryMs: 600_000 }),
    /**
     * Slot timing, devnet only (mainnet and testnet timing is part of the chain): tests run 1 s
     * slots. Absent keys keep the network's values.
     */
    chain: z
      .object({
        slotMs: positiveInt.max(3_600_000).optional(),
        leaderFallbackStepMs: positiveInt.optional(),
        futureBlockToleranceMs: z.number().int().min(0).max(600_000).optional(),
      })
      .strict()
      .default({}),
    consensus: z
      .object({
        /**
         * Least time between two poll starts. Polls go out as soon as one is free; on a LAN that
         * is every few hundred microseconds, far more often than votes change, so this paces them.
         */
        minPollIntervalMs: z.number().int().min(0).max(10_000).default(2),
        /**
         * Local submissions (RPC) are refused with INTAKE_BUSY while this many transactions
         * await finality here. Polls take the processing set round-robin, at most
         * maxTxidsPerPoll (1,024) txids each: past a few polls' worth, a transaction misses
         * polls, so its finality time grows with the backlog while the finalized rate does not,
         * and an overloaded network slowed down as its backlog grew (docs/architecture.md,
         * "Backpressure").
         */
        maxSubmitBacklog: z.number().int().min(1).max(100_000_000).default(DEFAULT_MAX_SUBMIT_BACKLOG),
      })
      .strict()
      .default({ minPollIntervalMs: 2, maxSubmitBacklog: DEFAULT_MAX_SUBMIT_BACKLOG }),
  })
  .strict();

export type NodeConfig = z.infer<typeof NodeConfigSchema>;

export class ConfigError extends CodedError<'CONFIG_INVALID' | 'CONFIG_UNREADABLE'> {}

type Tree = Record<string, unknown>;

/** Sections whose keys TIMECOIN_<SECTION>_<KEY> addresses (the rest are top-level keys). */
const CONFIG_SECTIONS = ['p2p', 'rpc', 'log', 'node', 'mempool', 'consensus', 'chain'];

/** camelCase key from an env name part: MAX_COUNT → maxCount, PEER_EXCHANGE → peerExchange. */
function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Parses an env string the way TOML would have typed it: integers, booleans, arrays, else a string. */
function envValue(raw: string): unknown {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw.startsWith('[')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/** Applies TIMECOIN_* variables: TIMECOIN_DATADIR → datadir, TIMECOIN_RPC_PORT → rpc.port. */
export function applyEnv(tree: Tree, env: NodeJS.ProcessEnv): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('TIMECOIN_') || raw === undefined || name === 'TIMECOIN_CONFIG') continue;
    const parts = name.slice('TIMECOIN_'.length).toLowerCase().split('_');
    const path =
      parts.length > 1 && CONFIG_SECTIONS.includes(parts[0]!)
        ? [parts[0]!, camel(parts.slice(1).join('_'))]
        : [camel(parts.join('_'))];
    setPath(tree, path, envValue(raw));
  }
}

export interface LoadConfigOptions {
  network?: string;
  /** An explicit config file (otherwise config/<network>.toml in the package). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Dotted-key overrides from flags, e.g. { datadir: '/x', 'rpc.port': 1 }. */
  overrides?: Record<string, unknown>;
}

export function loadNodeConfig(opts: LoadConfigOptions = {}): NodeConfig {
  const network = opts.network ?? 'devnet';
  const file = opts.file ?? join(packageRoot(), 'config', `${network}.toml`);
  let tree: Tree;
  try {
    tree = parseToml(readFileSync(file, 'utf8')) as Tree;
  } catch (err) {
    throw new ConfigError('CONFIG_UNREADABLE', `${file}: ${(err as Error).message.split('\n')[0]}`, { file });
  }
  applyEnv(tree, opts.env ?? process.env);
  for (const [key, value] of Object.entries(opts.overrides ?? {}))
    if (value !== undefined) setPath(tree, key.split('.'), value);
  const result = NodeConfigSchema.safeParse(tree);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const key = path.join('.') || '(root)';
    throw new ConfigError('CONFIG_INVALID', `${file}: ${key}: ${issue.message}`, { file, key });
  }
  const config = result.data;
  if (config.network !== 'devnet' && Object.values(config.chain).some((v) => v !== undefined)) {
    throw new ConfigError('CONFIG_INVALID', `${file}: chain: slot timing is fixed on ${config.network}`, {
      file,
      key: 'chain',
    });
  }
  if (opts.network !== undefined && config.network !== opts.network) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${file}: network: file is for ${config.network}, asked for ${opts.network}`,
      { file, key: 'network' },
    );
  }
  return {
    ...config,
    datadir: isAbsolute(config.datadir) ? config.datadir : join(process.cwd(), config.datadir),
  };
}
