import { parseArgs } from 'node:util';
import { type ByzantineStrategy, STRATEGIES } from '../../sim/byzantine.js';
import type { SimOptions } from '../../sim/scenario.js';
import { runSimulation } from '../../sim/simulation.js';
import { type CliCommand, UsageError } from '../command.js';

function num(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}`,
    );
  return v;
}

/** Turns the command line into simulator options (exported for tests). */
export function parseSimArgs(argv: string[]): { options: SimOptions; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '100' },
      byzantine: { type: 'string', default: '0' },
      strategy: { type: 'string', default: 'silent' },
      conflicts: { type: 'string', default: '1' },
      chains: { type: 'string', default: '0' },
      'chain-length': { type: 'string', default: '1' },
      txs: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      'latency-ms': { type: 'string', default: '50,20' },
      loss: { type: 'string', default: '0' },
      weights: { type: 'string' },
      split: { type: 'string' },
      'max-ms': { type: 'string' },
      'stall-ms': { type: 'string' },
      'no-bench': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const strategy = values.strategy!;
  if (!(STRATEGIES as readonly string[]).includes(strategy))
    throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}`);
  const latency = values['latency-ms']!.split(',');
  if (latency.length !== 2) throw new UsageError('--latency-ms is MEAN,JITTER in milliseconds');
  const nodes = num('nodes', values.nodes, true)!;
  let weights: number[] | undefined;
  if (values.weights !== undefined) {
    // A repeating pattern, e.g. "1000,100,10,1" for a tier mix.
    const pattern = values.weights.split(',').map((w) => num('weights', w, true)!);
    weights = Array.from({ length: nodes }, (_, i) => pattern[i % pattern.length]!);
  }
  const maxTimeMs = num('max-ms', values['max-ms'], true);
  const stallMs = num('stall-ms', values['stall-ms'], true);
  const conflictSplit = num('split', values.split, false);
  const options: SimOptions = {
    nodes,
    byzantineFraction: num('byzantine', values.byzantine, false)!,
    strategy: strategy as ByzantineStrategy,
    conflicts: num('conflicts', values.conflicts, true)!,
    chains: num('chains', values.chains, true)!,
    chainLength: num('chain-length', values['chain-length'], true)!,
    txs: num('txs', values.txs, true)!,
    seed: num('seed', values.seed, true)!,
    latencyMs: { mean: num('latency-ms', latency[0], true)!, jitter: num('latency-ms', latency[1], true)! },
    loss: num('loss', values.loss, false)!,
    ...(weights ? { weights } : {}),
    ...(maxTimeMs !== undefined ? { maxTimeMs } : {}),
    ...(stallMs !== undefined ? { stallMs } : {}),
    ...(values['no-bench'] ? { benchlist: null } : {}),
    ...(conflictSplit !== undefined ? { conflictSplit } : {}),
  };
  return { options, json: values.json! };
}

export const simCommand: CliCommand = {
  name: 'sim',
  summary:
    'Run the seeded Snowball network simulator (virtual time, loss, Byzantine voters) and print its figures',
  usage:
    'sim --nodes N --byzantine FRACTION --strategy silent|always-no|equivocate|balance --conflicts C [--chains H --chain-length L] --txs M --seed X [--latency-ms MEAN,JITTER] [--loss P] [--weights W1,W2,...] [--split S] [--max-ms T] [--stall-ms T] [--no-bench] [--json]',
  async run(argv) {
    const { options, json } = parseSimArgs(argv);
    const r = runSimulation(options);
    if (json) console.log(JSON.stringify(r));
    else {
      console.log(
        `nodes ${r.nodes} (${r.byzantineNodes} Byzantine, ${r.byzantineWeightPct} % of weight, ${r.strategy})`,
      );
      console.log(
        `safety violations ${r.safetyViolations}   unfinalized ${r.unfinalized}   messages ${r.messages}`,
      );
      console.log(
        `conflicts resolved ${r.conflictsResolved}/${r.conflicts}   chains resolved ${r.chainsResolved}/${r.chains}   benchings ${r.benchings}   reopened sets ${r.reopenedSets}`,
      );
      console.log(
        `rounds p50 ${r.rounds.p50} p99 ${r.rounds.p99}   latency p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms (virtual)`,
      );
    }
    return 0;
  },
};
