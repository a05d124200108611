import { parseArgs } from 'node:util';
import { fromHex, toHex } from '../../encoding/bytes.js';
import { encodeElement } from '../../vdf/group.js';
import { hashToGroup } from '../../vdf/hash-to-group.js';
import { inlineVdf, vdfEvaluate, vdfProve, vdfVerify } from '../../vdf/vdf.js';
import { type CliCommand, UsageError } from '../command.js';

const USAGE = [
  'vdf eval (--input HEX | --x HEX) --t N [--json]',
  '       timecoin vdf verify (--input HEX | --x HEX) --y HEX --proof HEX --t N',
  '       timecoin vdf calibrate --seconds S [--sample-seconds S2]',
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

function calibrateCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string' }, 'sample-seconds': { type: 'string', default: '5' } },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const sample = Number(values['sample-seconds']);
  if (!(seconds > 0) || !(sample > 0))
    throw new UsageError('--seconds and --sample-seconds must be positive numbers');
  const vdf = inlineVdf();
  const x = hashToGroup(new TextEncoder().encode('timecoin vdf calibrate'));
  vdf.squareLoop(x, 20_000); // warm-up: let V8 tier the kernel up
  // Measure in ~50 ms chunks until the sample time has passed, showing progress.
  const measureSeconds = Math.min(seconds, sample);
  let chunk = 10_000;
  let done = 0;
  const start = performance.now();
  let lastPrint = start;
  let v = x;
  while ((performance.now() - start) / 1000 < measureSeconds) {
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
  const rate = done / ((performance.now() - start) / 1000);
  console.log(`squaringsPerSecond ${Math.round(rate)}`);
  console.log(`seconds            ${seconds}`);
  console.log(`t                  ${Math.round(rate * seconds)}`);
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
