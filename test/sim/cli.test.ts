import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/command.js';
import { parseSimArgs, simCommand } from '../../src/cli/commands/sim.js';
import { runSimulation } from '../../src/sim/simulation.js';

describe('timecoin sim', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints one JSON object with the figures the issue asks for', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
    const argv =
      '--nodes 30 --byzantine 0.2 --strategy equivocate --conflicts 2 --txs 5 --seed 4 --latency-ms 40,10 --loss 0.01 --json'.split(
        ' ',
      );
    expect(await simCommand.run(argv)).toBe(0);
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    for (const key of ['safetyViolations', 'unfinalized', 'messages']) expect(typeof out[key]).toBe('number');
    for (const key of ['rounds', 'latencyMs']) {
      expect(typeof out[key].p50).toBe('number');
      expect(typeof out[key].p99).toBe('number');
    }
    expect(out.byzantineNodes).toBe(6);
    expect(out.strategy).toBe('equivocate');
    // The CLI is a thin shell: the same options give the same run.
    expect(out).toEqual(
      JSON.parse(
        JSON.stringify(
          runSimulation({
            nodes: 30,
            byzantineFraction: 0.2,
            strategy: 'equivocate',
            conflicts: 2,
            txs: 5,
            seed: 4,
            latencyMs: { mean: 40, jitter: 10 },
            loss: 0.01,
          }),
        ),
      ),
    );
  });

  it('expands a weight pattern over the nodes', () => {
    const { options } = parseSimArgs(['--nodes', '6', '--weights', '1000,1', '--split', '0.55']);
    expect(options.weights).toEqual([1000, 1, 1000, 1, 1000, 1]);
    expect(options.conflictSplit).toBe(0.55);
  });

  it('passes chains, stall cutoff and benching through to the simulator', () => {
    const { options } = parseSimArgs([
      '--chains',
      '2',
      '--chain-length',
      '3',
      '--stall-ms',
      '5000',
      '--no-bench',
    ]);
    expect(options).toMatchObject({ chains: 2, chainLength: 3, stallMs: 5_000, benchlist: null });
    expect(parseSimArgs([]).options.benchlist).toBeUndefined(); // the node's default benchlist
  });

  it.each([
    [['--strategy', 'friendly']],
    [['--nodes', 'many']],
    [['--latency-ms', '50']],
    [['--seed', '1.5']],
    [['--chain-length', 'long']],
  ])('rejects %j as a usage error', (argv) => {
    expect(() => parseSimArgs(argv)).toThrow(UsageError);
  });
});
