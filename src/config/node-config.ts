import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
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
/**
 * An address to listen on: a host name or an IP address, without a port (that is the port key) and
 * an IPv6 address without brackets. "127.0.0.1:24200" would otherwise reach listen() and fail there
 * (the p2p listener retrying it for 90 s) with a message that names no key.
 */
const host = z
  .string()
  .min(1)
  .superRefine((h, ctx) => {
    if (/\s/.test(h) || (h.includes(':') && !isIPv6(h)))
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(h)}: expected a host name or IP address without a port (IPv6 without brackets)`,
      });
  });
/**
 * A peer to dial, host:port with a port a peer can listen on (1–65535; 0 is "any port" only for
 * our own listener). The message quotes the entry, so the bad one of a list is found at once.
 */
const seed = z.string().superRefine((s, ctx) => {
  const m = /^[^:\s]+:(\d{1,5})$/.exec(s);
  const p = m ? Number(m[1]) : 0;
  if (!m) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)}: expected host:port` });
  else if (p < 1 || p > 65_535)
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)}: port ${m[1]} is outside 1–65535` });
});
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
        seeds: z.array(seed),
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

export class ConfigError extends CodedError<'CONFIG_INVALID' | 'CONFIG_UNREADABLE' | 'DATADIR_UNUSABLE'> {}

/** What a failed mkdir or access of the data directory means, by errno (mkdir -p semantics). */
const DATADIR_FAULTS: Readonly<Record<string, string>> = {
  // recursive mkdir: an existing directory is no error, so EEXIST is something else at the path.
  EEXIST: 'not a directory',
  ENOTDIR: 'not a directory (a part of the path is a file)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/**
 * Creates the data directory (and its parents) when missing and checks the node can write there.
 * `timecoin node init` and TimeNode.start both come here, so an unusable path is one typed error,
 * DATADIR_UNUSABLE naming the key, the path and the errno ("datadir /x: not a directory
 * (ENOTDIR)"), instead of a raw fs error and its stack.
 */
export function ensureDatadir(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, { recursive: true, ...(mode !== undefined ? { mode } : {}) });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (typeof errno !== 'string') throw err;
    const why = DATADIR_FAULTS[errno] ?? (err as Error).message.replace(/^E[A-Z0-9]+: /, '').split(',')[0];
    throw new ConfigError('DATADIR_UNUSABLE', `datadir ${dir}: ${why} (${errno})`, {
      key: 'datadir',
      path: dir,
      errno,
    });
  }
}

type Tree = Record<string, unknown>;

/** Sections whose keys TIMECOIN_<SECTION>_<KEY> addresses (the rest are top-level keys). */
const CONFIG_SECTIONS = ['p2p', 'rpc', 'log', 'node', 'mempool', 'consensus', 'chain'];

/** camelCase key from an env name part: MAX_COUNT → maxCount, PEER_EXCHANGE → peerExchange. */
function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Types an env string by the schema of the key it sets, as TOML would have typed the value there:
 * an integer only where a number is expected, true/false where a boolean is, a JSON array where an
 * array is; everything else stays the exact string (an all-digit password is a password, not a
 * number that lost digits). A string that does not fit its key stays a string for the schema to
 * refuse by name ("expected number, received string").
 */
function envValue(raw: string, schema: z.ZodType): unknown {
  if (schema instanceof z.ZodNumber) return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (schema instanceof z.ZodBoolean) return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (schema instanceof z.ZodArray && raw.startsWith('[')) {
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

/**
 * TIMECOIN_* variables that are not node configuration, so applyEnv passes over them: the wallet
 * commands' own (TIMECOIN_WALLET, TIMECOIN_WALLET_PASSPHRASE; docs/operations.md) and
 * TIMECOIN_CONFIG (reserved). Every other TIMECOIN_* variable must name a config key: a typo stops
 * start-up naming the variable instead of being ignored. The one list every command reads config
 * through (node, devnet, and the RPC client of the wallet and operator commands).
 */
export const NON_CONFIG_ENV: ReadonlySet<string> = new Set([
  'TIMECOIN_CONFIG',
  'TIMECOIN_WALLET',
  'TIMECOIN_WALLET_PASSPHRASE',
]);

/** The schema of a config key, through its .optional()/.default(); undefined when there is no such key. */
function keySchema(path: readonly string[]): z.ZodType | undefined {
  let schema: z.ZodType = NodeConfigSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (!(schema instanceof z.ZodObject) || !Object.hasOwn(schema.shape, key)) return undefined;
    schema = schema.shape[key] as z.ZodType;
  }
  return unwrap(schema);
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

/** Where each key set after the file came from ("rpc.port" → "environment variable TIMECOIN_RPC_PORT"). */
type Origins = Map<string, string>;

/**
 * Applies TIMECOIN_* variables: TIMECOIN_DATADIR → datadir, TIMECOIN_RPC_PORT → rpc.port. A
 * variable that names no config key (or a whole section) is refused by its name.
 */
export function applyEnv(tree: Tree, env: NodeJS.ProcessEnv, origins: Origins = new Map()): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('TIMECOIN_') || raw === undefined || NON_CONFIG_ENV.has(name)) continue;
    const parts = name.slice('TIMECOIN_'.length).toLowerCase().split('_');
    const path =
      parts.length > 1 && CONFIG_SECTIONS.includes(parts[0]!)
        ? [parts[0]!, camel(parts.slice(1).join('_'))]
        : [camel(parts.join('_'))];
    const key = path.join('.');
    const schema = keySchema(path);
    if (schema === undefined || schema instanceof z.ZodObject) {
      const why =
        schema === undefined
          ? `no config key ${key} (TIMECOIN_<SECTION>_<KEY> names one; docs/operations.md "Configuration")`
          : `${key} is a section: set its keys, TIMECOIN_${parts[0]!.toUpperCase()}_<KEY>`;
      throw new ConfigError('CONFIG_INVALID', `environment variable ${name}: ${why}`, { env: name, key });
    }
    setPath(tree, path, envValue(raw, schema));
    origins.set(key, `environment variable ${name}`);
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
  const origins: Origins = new Map();
  applyEnv(tree, opts.env ?? process.env, origins);
  for (const [key, value] of Object.entries(opts.overrides ?? {}))
    if (value !== undefined) {
      setPath(tree, key.split('.'), value);
      origins.set(key, 'command line');
    }
  /** A bad key is blamed on what set it: the variable, the command line, else the file. */
  const fail = (key: string, message: string): never => {
    const parts = key.split('.');
    let origin: string | undefined;
    for (let n = parts.length; n > 0 && origin === undefined; n--)
      origin = origins.get(parts.slice(0, n).join('.'));
    const env = origin?.startsWith('environment variable ')
      ? origin.slice('environment variable '.length)
      : undefined;
    throw new ConfigError('CONFIG_INVALID', `${origin ?? file}: ${key}: ${message}`, {
      file,
      key,
      ...(env !== undefined ? { env } : {}),
    });
  };
  const result = NodeConfigSchema.safeParse(tree);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    fail(path.join('.') || '(root)', issue.message);
  }
  const config = result.data!;
  if (config.network !== 'devnet') {
    const set = Object.entries(config.chain).find(([, v]) => v !== undefined);
    if (set !== undefined) {
      const key = `chain.${set[0]}`;
      // Named at the section when the file set it (the file's [chain] goes), else at the variable's key.
      fail(origins.has(key) ? key : 'chain', `slot timing is fixed on ${config.network}`);
    }
  }
  if (opts.network !== undefined && config.network !== opts.network)
    fail('network', `file is for ${config.network}, asked for ${opts.network}`);
  return {
    ...config,
    datadir: isAbsolute(config.datadir) ? config.datadir : join(process.cwd(), config.datadir),
  };
}
