import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ensureDatadir, loadNodeConfig } from '../../config/node-config.js';
import { toHex } from '../../encoding/bytes.js';
import { TimeNode } from '../../node/node.js';
import { createNodeKey, devnetNodeKey, loadNodeKey, nodeKeyPath } from '../../node/node-key.js';
import { devnetParams, paramsFor } from '../../params/networks.js';
import { probeStoreOpen } from '../../storage/open-probe.js';
import type { KeyPair } from '../../wallet/keys.js';
import { type CliCommand, UsageError } from '../command.js';

/** How long a clean shutdown may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5_000;

const OPTIONS = {
  network: { type: 'string' },
  datadir: { type: 'string' },
  config: { type: 'string' },
  'p2p-port': { type: 'string' },
  'rpc-port': { type: 'string' },
  seeds: { type: 'string' },
  'devnet-index': { type: 'string' },
  'log-level': { type: 'string' },
  workers: { type: 'string' },
  'no-peer-exchange': { type: 'boolean', default: false },
  'test-switches': { type: 'boolean', default: false },
  dashboard: { type: 'boolean', default: false },
  'test-clock-offset-ms': { type: 'string' },
} as const;

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v))
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * `timecoin node` runs a masternode (or full node) in this process until SIGINT/SIGTERM or RPC
 * `stop`; `timecoin node init` creates the data directory and the node key. Logs are JSON lines on
 * stdout; the line `node ready` carries the bound ports, which is what tests and scripts wait for.
 */
export const nodeCommand: CliCommand = {
  name: 'node',
  summary: 'Run a node (validator if its key is an active masternode), or `node init` a data dir',
  usage:
    'node [init] [--network N] [--datadir D] [--config F] [--p2p-port P] [--rpc-port R] [--seeds host:port,…] ' +
    '[--devnet-index I] [--workers W] [--log-level L] [--no-peer-exchange] [--test-switches] [--test-clock-offset-ms MS] [--dashboard]',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
    });
    const sub = positionals[0];
    if (sub !== undefined && sub !== 'init')
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
    const network = values.network ?? 'devnet';
    const overrides: Record<string, unknown> = {
      datadir: values.datadir,
      'p2p.port': intFlag('p2p-port', values['p2p-port']),
      'rpc.port': intFlag('rpc-port', values['rpc-port']),
      ...(values.dashboard ? { 'rpc.dashboard': true } : {}),
      'log.level': values['log-level'],
      'node.workers': intFlag('workers', values.workers),
      'p2p.seeds':
        values.seeds === undefined ? undefined : values.seeds.split(',').filter((s) => s.length > 0),
      ...(values['no-peer-exchange'] ? { 'p2p.peerExchange': false } : {}),
    };
    const config = loadNodeConfig({ network, ...(values.config ? { file: values.config } : {}), overrides });
    const timing = Object.fromEntries(Object.entries(config.chain).filter(([, v]) => v !== undefined));
    const params = config.network === 'devnet' ? devnetParams(timing) : paramsFor(config.network);
    const devnetIndex = intFlag('devnet-index', values['devnet-index']);
    if (devnetIndex !== undefined && params.network !== 'devnet')
      throw new UsageError('--devnet-index uses the public devnet keys: devnet only');
    if (values['test-switches'] && params.network !== 'devnet')
      throw new UsageError('--test-switches exists for devnet tests only');
    // A skewed clock for the clock-skew tests: the node's every notion of now (slots, rank windows,
    // timeliness, block timestamps) runs this far ahead (or behind, negative) of the host's.
    // Digits only: Number() would also read '' as 0 and '1e3' or '0x10' as some other offset.
    const offsetFlag = values['test-clock-offset-ms'];
    const clockOffsetMs =
      offsetFlag === undefined ? 0 : /^-?\d{1,6}$/.test(offsetFlag) ? Number(offsetFlag) : Number.NaN;
    if (!Number.isSafeInteger(clockOffsetMs) || Math.abs(clockOffsetMs) > 600_000)
      throw new UsageError('--test-clock-offset-ms takes an integer within ±600,000');
    if (clockOffsetMs !== 0 && params.network !== 'devnet')
      throw new UsageError('--test-clock-offset-ms exists for devnet tests only');

    if (sub === 'init') {
      ensureDatadir(config.datadir, 0o700);
      if (devnetIndex !== undefined) {
        console.log(
          JSON.stringify({
            datadir: config.datadir,
            nodeKey: 'devnet',
            pubkey: toHex(devnetNodeKey(devnetIndex).publicKey),
          }),
        );
        return 0;
      }
      const pubkey = createNodeKey(config.datadir);
      console.log(
        JSON.stringify({
          datadir: config.datadir,
          nodeKeyFile: nodeKeyPath(config.datadir),
          pubkey: toHex(pubkey),
        }),
      );
      return 0;
    }

    const key: KeyPair = devnetIndex !== undefined ? devnetNodeKey(devnetIndex) : loadNodeKey(config.datadir);
    const logOptions = { level: config.log.level, base: { node: toHex(key.publicKey).slice(0, 12) } };
    // JSON lines for machines (a pipe, a file, the test harness); readable lines for a person at a TTY.
    const log = process.stdout.isTTY
      ? pino(logOptions, (await import('pino-pretty')).default({ colorize: true, sync: true }))
      : pino(logOptions);
    // A damaged chain.mdb would crash this process inside LMDB with no message: open it in a
    // child first (DATA_CORRUPT naming the file instead).
    const probe = await probeStoreOpen(config.datadir, params.network);
    if (probe.indexDiscarded)
      log.warn({ file: 'addresses.mdb' }, 'the address index was damaged and is deleted: it is rebuilt now');
    const node = await TimeNode.start({
      params,
      config,
      key,
      log,
      testSwitches: values['test-switches'],
      ...(clockOffsetMs !== 0 ? { now: () => Date.now() + clockOffsetMs } : {}),
    });
    // The ready line is printed at every log level (a child at info at least): scripts and
    // supervisors wait for it to learn the ports, and `--log-level warn` must not hide it.
    const readyLog = log.isLevelEnabled('info') ? log : log.child({}, { level: 'info' });
    readyLog.info(
      {
        network: params.network,
        datadir: config.datadir,
        p2pPort: node.p2pPort,
        rpcPort: node.rpcPort,
        role: node.role,
        pubkey: node.nodeId,
        tip: node.store.tip().height,
      },
      'node ready',
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (why: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ why }, 'node stopping');
        const deadline = setTimeout(() => {
          log.error('clean shutdown took longer than 5 s; exiting anyway');
          process.exit(1);
        }, STOP_DEADLINE_MS);
        deadline.unref();
        node.stop().then(
          () => {
            log.info('node stopped');
            resolve();
          },
          (err: Error) => {
            log.error({ err: err.message }, 'error while stopping');
            resolve();
          },
        );
      };
      node.onStopRequested = () => stop('rpc stop');
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
};
