import { randomInt } from 'node:crypto';
import { ChaosError } from './chaos-error.js';

/**
 * The seed of a fault-injection run. Every delay draw derives from it, so a failing run is replayed
 * by passing the same seed (or CHAOS_SEED=<n> when the caller chose none). A seed that was not given
 * explicitly is always reported, since it is the only way back to that run.
 */
export function chaosSeed(
  explicit: number | undefined,
  report: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): number {
  if (explicit !== undefined) return checkSeed(explicit, 'seed');
  const env = process.env['CHAOS_SEED'];
  const seed = env !== undefined && env !== '' ? checkSeed(Number(env), 'CHAOS_SEED') : randomInt(2 ** 32);
  report(`chaos: seed ${seed} (CHAOS_SEED=${seed} replays this run)`);
  return seed;
}

function checkSeed(seed: number, name: string): number {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new ChaosError('CHAOS_BAD_OPTIONS', `${name} must be a non-negative safe integer, got ${seed}`);
  return seed;
}
