import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fromHex } from '../../encoding/bytes.js';
import type { P2pNodeOptions } from '../../p2p/p2p-options.js';
import { runProbe } from '../../p2p/probe.js';
import type { RateLimit } from '../../p2p/rate-limits.js';
import { loadOrCreateTlsMaterial } from '../../p2p/tls-certificate.js';
import { paramsFor } from '../../params/networks.js';
import { PeerBanStore } from '../../storage/peer-ban-store.js';
import { devnetKeyPair, keyPairFromSecret } from '../../wallet/keys.js';
import { type MessageName, type MessageType, MSG } from '../../wire/message-types.js';
import { type CliCommand, UsageError } from '../command.js';

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}]`);
  return n;
}

function endpoint(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new UsageError(`bad --seed ${s} (host:port)`);
  return { host: s.slice(0, i), port };
}

/** --rate pollRequest=2000:4000 → per-second rate and burst for one message type. */
function rate(s: string): [MessageType, RateLimit] {
  const m = /^([a-zA-Z]+)=(\d+):(\d+)$/.exec(s);
  const type = m ? MSG[m[1] as MessageName] : undefined;
  if (!m || type === undefined) throw new UsageError(`bad --rate ${s} (type=perSec:burst)`);
  return [type, { perSec: Number(m[2]), burst: Number(m[3]) }];
}

/** Numeric P2pNodeOptions a test may set with --opt name=value (limits, slots, budgets). */
const NUMERIC_OPTIONS = new Set([
  'maxOutbound',
  'maxInbound',
  'maxInboundPerIp',
  'maxInboundPerNetgroup',
  'maxValidatorSlots',
  'maxPendingHandshakes',
  'maxPendingPerIp',
  'maxPendingPerNetgroup',
  'requestTimeoutMs',
  'maxConcurrentInboundRequests',
  'inboundBytesPerSec',
  'inboundBurstBytes',
  'maxQueuedInboundBytes',
  'totalInboundBytesPerSec',
  'peerInboundBytesPerSec',
  'peerInboundBurstBytes',
  'idleTimeoutSec',
  'pingIntervalMs',
  'maxBackpressure',
  'tipIntervalMs',
  'dedupMaxBytes',
  'dedupMaxAgeMs',
  'ipBanThreshold',
  'scoreDecayPerSec',
]);

function numericOption(s: string): [string, number] {
  const m = /^([a-zA-Z]+)=(\d+)$/.exec(s);
  if (!m || !NUMERIC_OPTIONS.has(m[1]!)) {
    throw new UsageError(`bad --opt ${s} (name=integer; names: ${[...NUMERIC_OPTIONS].join(', ')})`);
  }
  return [m[1]!, Number(m[2])];
}

export const p2pProbeCommand: CliCommand = {
  name: 'p2p-probe',
  summary: 'Run the p2p transport alone (stub answers), JSON-line events on stdout, commands on stdin',
  usage:
    'p2p-probe [--network devnet] [--host 127.0.0.1] [--port 0] [--seed HOST:PORT]… [--key-index N [--seed-phrase S] | --secret HEX] [--genesis HEX] [--data-dir DIR] [--ban-ms N] [--ban-threshold N] [--backoff-base-ms N] [--backoff-max-ms N] [--exchange-ms N] [--handshake-timeout-ms N] [--rate TYPE=PERSEC:BURST]… [--peer-rate TYPE=PERSEC:BURST]… [--handshake-rate PERSEC:BURST] [--opt NAME=INT]… [--no-peer-exchange] [--public-only] [--auto-relay] [--insecure-plaintext (benchmarks only)]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        network: { type: 'string', default: 'devnet' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        seed: { type: 'string', multiple: true, default: [] },
        'key-index': { type: 'string' },
        'seed-phrase': { type: 'string', default: 'timecoin-p2p-probe' },
        secret: { type: 'string' },
        genesis: { type: 'string', default: '00'.repeat(32) },
        'data-dir': { type: 'string' },
        'ban-ms': { type: 'string' },
        'ban-threshold': { type: 'string' },
        'backoff-base-ms': { type: 'string' },
        'backoff-max-ms': { type: 'string' },
        'exchange-ms': { type: 'string' },
        'handshake-timeout-ms': { type: 'string' },
        rate: { type: 'string', multiple: true, default: [] },
        'peer-rate': { type: 'string', multiple: true, default: [] },
        'handshake-rate': { type: 'string' },
        opt: { type: 'string', multiple: true, default: [] },
        'no-peer-exchange': { type: 'boolean', default: false },
        'public-only': { type: 'boolean', default: false },
        'auto-relay': { type: 'boolean', default: false },
        'insecure-plaintext': { type: 'boolean', default: false },
      },
      strict: true,
    });
    const params = paramsFor(values.network!);
    let key: ReturnType<typeof devnetKeyPair>;
    if (values.secret !== undefined) key = keyPairFromSecret(fromHex(values.secret, 32));
    else
      key = devnetKeyPair(
        values['seed-phrase']!,
        int('key-index', values['key-index'] ?? '0', 0, 0xffff_ffff)!,
      );
    let genesis: Uint8Array;
    try {
      genesis = fromHex(values.genesis!, 32);
    } catch {
      throw new UsageError('--genesis must be 64 hex digits');
    }
    const banMs = int('ban-ms', values['ban-ms'], 1, 2 ** 40);
    const banThreshold = int('ban-threshold', values['ban-threshold'], 1, 2 ** 40);
    const baseMs = int('backoff-base-ms', values['backoff-base-ms'], 1, 3_600_000);
    const maxMs = int('backoff-max-ms', values['backoff-max-ms'], 1, 3_600_000);
    const exchangeMs = int('exchange-ms', values['exchange-ms'], 10, 3_600_000);
    const handshakeMs = int('handshake-timeout-ms', values['handshake-timeout-ms'], 10, 600_000);
    const handshakeRate =
      values['handshake-rate'] === undefined ? undefined : rate(`ping=${values['handshake-rate']}`)[1];
    const banList = values['data-dir'] ? new PeerBanStore(join(values['data-dir'], 'p2p-bans')) : undefined;
    // The TLS certificate lives in the data directory, or in a temporary one for a throwaway probe.
    const tlsDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'timecoin-probe-tls-'));
    mkdirSync(tlsDir, { recursive: true });
    const tls = await loadOrCreateTlsMaterial(tlsDir);
    const extra = Object.fromEntries(values.opt!.map(numericOption)) as Partial<P2pNodeOptions>;
    const { done, stop } = await runProbe(
      {
        identity: {
          chainId: params.chainId,
          genesisHash: genesis,
          publicKey: key.publicKey,
          secretKey: key.secretKey,
          tip: () => ({ height: 0, hash: genesis }),
          tls,
        },
        ...extra,
        peerExchange: !values['no-peer-exchange'],
        acceptLocalAddresses: !values['public-only'],
        insecurePlaintext: values['insecure-plaintext']!,
        peerRateLimits: Object.fromEntries(values['peer-rate']!.map(rate)),
        ...(handshakeRate ? { handshakeRatePerIp: handshakeRate } : {}),
        host: values.host!,
        port: int('port', values.port, 0, 65_535)!,
        seeds: values.seed!.map(endpoint),
        rateLimits: Object.fromEntries(values.rate!.map(rate)),
        autoRelay: values['auto-relay']!,
        ...(banMs !== undefined ? { banDurationMs: banMs } : {}),
        ...(banThreshold !== undefined ? { banThreshold } : {}),
        ...(baseMs !== undefined || maxMs !== undefined
          ? { backoff: { ...(baseMs ? { baseMs } : {}), ...(maxMs ? { maxMs } : {}) } }
          : {}),
        ...(exchangeMs !== undefined ? { peerExchangeIntervalMs: exchangeMs } : {}),
        ...(handshakeMs !== undefined ? { handshakeTimeoutMs: handshakeMs } : {}),
      },
      (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
      process.stdin,
      banList,
    );
    const onSignal = () => {
      void stop().then(() => process.stdin.destroy());
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    await done;
    if (values['data-dir'] === undefined) rmSync(tlsDir, { recursive: true, force: true });
    return 0;
  },
};
