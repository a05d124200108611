/**
 * The fault network as a helper process, driven over JSON lines:
 *
 *   node dist/src/chaos/chaos-main.js --endpoint 127.0.0.1:24200 --endpoint 127.0.0.1:24202 … \
 *        [--seed N] [--host 127.0.0.1] [--max-queue-bytes N] [--latency-ms X] [--jitter-ms Y] [--bandwidth B]
 *
 * stdout: first {"event":"ready","seed":…,"links":[{"from":0,"to":1,"host":…,"port":…},…]}, then one
 * response per command (control-protocol.ts). stdin: one command per line. The network closes and
 * the process exits when stdin ends (the parent died or is done), on {"op":"close"}, or on SIGTERM,
 * so a crashed test never leaves proxies behind. Start-up failures print {"event":"error",…} and
 * exit with status 2.
 */

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ChaosError } from './chaos-error.js';
import { executeControlCommand, linkAddresses, MAX_COMMAND_BYTES } from './control-protocol.js';
import { parseEndpoint } from './endpoint.js';
import { FaultNetwork } from './fault-network.js';
import type { LinkFaultsUpdate } from './link-faults.js';

function numberOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new ChaosError('CHAOS_BAD_OPTIONS', `--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function write(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

export async function runChaosHelper(argv: string[]): Promise<void> {
  let network: FaultNetwork;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        endpoint: { type: 'string', multiple: true, default: [] },
        seed: { type: 'string' },
        host: { type: 'string' },
        'max-queue-bytes': { type: 'string' },
        'latency-ms': { type: 'string' },
        'jitter-ms': { type: 'string' },
        bandwidth: { type: 'string' },
      },
      strict: true,
    });
    const faults: LinkFaultsUpdate = {};
    const latency = numberOption('latency-ms', values['latency-ms']);
    const jitter = numberOption('jitter-ms', values['jitter-ms']);
    const bandwidth = numberOption('bandwidth', values.bandwidth);
    if (latency !== undefined) faults.latencyMs = latency;
    if (jitter !== undefined) faults.jitterMs = jitter;
    if (bandwidth !== undefined) faults.bandwidthBytesPerSec = bandwidth;
    const seed = numberOption('seed', values.seed);
    const maxQueueBytes = numberOption('max-queue-bytes', values['max-queue-bytes']);
    network = await FaultNetwork.start({
      endpoints: values.endpoint!.map(parseEndpoint),
      faults,
      ...(seed !== undefined ? { seed } : {}),
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(maxQueueBytes !== undefined ? { maxQueueBytes } : {}),
    });
  } catch (err) {
    const error =
      err instanceof ChaosError
        ? { code: err.code, message: err.message }
        : { code: 'CHAOS_BAD_OPTIONS', message: err instanceof Error ? err.message : String(err) };
    write({ event: 'error', error });
    process.exitCode = 2;
    return;
  }

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await network.close();
    process.stdin.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());

  write({ event: 'ready', seed: network.seed, links: linkAddresses(network) });

  // Lines are split by hand so a line without an end cannot grow without bound.
  let pending = '';
  let overlong = false;
  const handle = (line: string): void => {
    if (line.trim() === '' || closing) return;
    const { response, close } = executeControlCommand(network, line);
    write(response);
    if (close) void shutdown();
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text: string) => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (overlong) {
        overlong = false;
        pending = '';
        continue;
      }
      handle(pending + piece);
      pending = '';
    }
    if (overlong) return;
    pending += text.slice(start);
    if (pending.length > MAX_COMMAND_BYTES) {
      overlong = true;
      pending = '';
      write({
        ok: false,
        error: { code: 'CHAOS_BAD_COMMAND', message: `command longer than ${MAX_COMMAND_BYTES} bytes` },
      });
    }
  });
  process.stdin.on('end', () => void shutdown());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runChaosHelper(process.argv.slice(2));
}
