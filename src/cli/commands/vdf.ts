import { parseArgs } from 'node:util';
import { fromHex, toHex } from '../../encoding/bytes.js';
import type { ChainParams } from '../../params/chain-params.js';
import { paramsFor } from '../../params/networks.js';
import { encodeElement } from '../../vdf/group.js';
import { hashToGroup } from '../../vdf/hash-to-group.js';
import { opensslSquaringsPerSecond } from '../../vdf/openssl-evaluator.js';
import { inlineVdf, vdfEvaluate, vdfProve, vdfVerify } from '../../vdf/vdf.js';
import { CUSTOM_HARDWARE_FACTOR } from '../../vdf/vdf-delay.js';
import { type CliCommand, UsageError } from '../command.js';

const USAGE = [
  'vdf eval (--input HEX | --x HEX) --t N [--json]',
  '       timecoin vdf verify (--input HEX | --x HEX) --y HEX --proof HEX --t N',
  '       timecoin vdf calibrate --seconds S [--sample-seconds S2] [--network NAME] [--factor F] [--json]',
  '  --input: any bytes, mapped with HashToGroup; --x: a 256-byte canonical element',
].join('\n');

function parseT(v: string | undefined): number {
  const t = Number(v);
  if (v === undefined || !/^[0-9]+$/.test(v) || !Number.isSafeInteger(t) || t < 1)
    throw new UsageError('--t must be a positive integer');
  return t;
}

function parseHex(v: string, name: string, length?: number): Uint8Array {
  try {
    return fromHex(v, length);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

function inputElement(values: { input?: string | undefined; x?: string | undefined }): Uint8Array {
  if ((values.input === undefined) === (values.x === undefined))
    throw new UsageError('give exactly one of --input, --x');
  if (values.x !== undefined) return parseHex(values.x, 'x', 256);
  return encodeElement(hashToGroup(parseHex(values.input as string, 'input')));
}

/** Prints "done/total, rate, ETA" to stderr at most once a second (long runs show progress). */
function progressPrinter(label: string): (done: number, total: number) => void {
  const start = performance.now();
  let last = start;
  return (done, total) => {
    const now = performance.now();
    if (now - last < 1000 && done < total) return;
    last = now;
    const rate = done / ((now - start) / 1000);
    const eta = (total - done) / rate;
    process.stderr.write(
      `${label}: ${done}/${total} squarings (${((100 * done) / total).toFixed(1)}%), ${Math.round(rate)}/s, ETA ${eta.toFixed(1)} s\n`,
    );
  };
}

function evalCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      input: { type: 'string' },
      x: { type: 'string' },
      t: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const x = inputElement(values);
  const t = parseT(values.t);
  const start = performance.now();
  const out = vdfEvaluate(x, t, { onProgress: progressPrinter('eval') });
  const evalSeconds = (performance.now() - start) / 1000;
  const proof = vdfProve(x, out);
  const totalSeconds = (performance.now() - start) / 1000;
  const result = {
    t,
    x: toHex(x),
    y: toHex(out.y),
    proof: toHex(proof),
    evalSeconds: Number(evalSeconds.toFixed(3)),
    proveSeconds: Number((totalSeconds - evalSeconds).toFixed(3)),
    squaringsPerSecond: Math.round(t / evalSeconds),
  };
  if (values.json) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(18)} ${v}`);
  return 0;
}

function verifyCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      input: { type: 'string' },
      x: { type: 'string' },
      y: { type: 'string' },
      proof: { type: 'string' },
      t: { type: 'string' },
    },
    strict: true,
  });
  const x = inputElement(values);
  if (values.y === undefined || values.proof === undefined)
    throw new UsageError('--y and --proof are required');
  const ok = vdfVerify(x, parseHex(values.y, 'y'), parseHex(values.proof, 'proof'), parseT(values.t));
  console.log(ok ? 'valid' : 'INVALID');
  return ok ? 0 : 1;
}

/** Our WASM kernel's sequential squaring rate, measured in ~50 ms chunks for `sampleSeconds`. */
function wasmSquaringsPerSecond(sampleSeconds: number): number {
  const vdf = inlineVdf();
  const x = hashToGroup(new TextEncoder().encode('timecoin vdf calibrate'));
  vdf.squareLoop(x, 20_000); // warm-up: let V8 tier the kernel up
  let chunk = 10_000;
  let done = 0;
  const start = performance.now();
  let lastPrint = start;
  let v = x;
  while ((performance.now() - start) / 1000 < sampleSeconds) {
    const t0 = performance.now();
    v = vdf.squareLoop(v, chunk);
    done += chunk;
    const dt = performance.now() - t0;
    chunk = Math.max(1000, Math.round((chunk * 50) / Math.max(dt, 1)));
    if (performance.now() - lastPrint > 1000) {
      lastPrint = performance.now();
      process.stderr.write(`calibrate: ${done} squarings in ${((lastPrint - start) / 1000).toFixed(1)} s\n`);
    }
  }
  return done / ((performance.now() - start) / 1000);
}

function positive(v: string | undefined, name: string): number {
  const n = Number(v);
  if (v === undefined || !(n > 0) || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a positive number`);
  return n;
}

/**
 * Measures our WASM kernel and the fastest evaluator we know (OpenSSL's modexp through
 * node:crypto) on this machine, one after the other. Prints the T our kernel evaluates in
 * `--seconds`, and how long OpenSSL, and OpenSSL × `--factor` (custom hardware), need for it in
 * seconds and in publishing windows of `--network` (docs/protocol.md, "Choosing T").
 */
function calibrateCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      'sample-seconds': { type: 'string', default: '5' },
      network: { type: 'string', default: 'mainnet' },
      factor: { type: 'string', default: String(CUSTOM_HARDWARE_FACTOR) },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const seconds = positive(values.seconds, 'seconds');
  const sample = positive(values['sample-seconds'], 'sample-seconds');
  const factor = positive(values.factor, 'factor');
  let params: ChainParams;
  try {
    params = paramsFor(values.network);
  } catch (err) {
    throw new UsageError(`--network: ${(err as Error).message}`);
  }
  const measure = Math.min(seconds, sample);
  const wasm = wasmSquaringsPerSecond(measure);
  const openssl = opensslSquaringsPerSecond(measure);
  const t = Math.round(wasm * seconds);
  const step = params.leaderFallbackStepMs / 1000;
  const r = (x: number, d = 1) => Number(x.toFixed(d));
  const result = {
    wasmSquaringsPerSecond: Math.round(wasm),
    opensslSquaringsPerSecond: Math.round(openssl),
    opensslOverWasm: r(openssl / wasm, 2),
    seconds,
    t,
    opensslSeconds: r(t / openssl),
    factor,
    fastestSeconds: r(t / (openssl * factor)),
    network: params.network,
    networkT: params.vdfDelay,
    networkWasmSeconds: r(params.vdfDelay / wasm),
    networkOpensslSeconds: r(params.vdfDelay / openssl),
    networkFastestWindows: r(params.vdfDelay / (openssl * factor) / step, 2),
  };
  if (values.json) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(26)} ${v}`);
  return 0;
}

export const vdfCommand: CliCommand = {
  name: 'vdf',
  summary: 'Evaluate, prove and verify the VDF beacon function; calibrate T for this machine',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'eval') return evalCommand(rest);
    if (sub === 'verify') return verifyCommand(rest);
    if (sub === 'calibrate') return calibrateCommand(rest);
    throw new UsageError(`unknown subcommand ${JSON.stringify(sub ?? '')}: eval, verify or calibrate`);
  },
};
