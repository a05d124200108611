import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';

/**
 * Where the crash test SIGKILLs its writer, drawn from a seed so a failing run can be replayed
 * (`CRASH_SEED`). A kill is tied to an event of the child, never to how fast the machine is:
 * "after the n-th commit line of this run" holds on a loaded 2-core box and on a fast laptop alike;
 * the small delay after the event only spreads kills across the next write. Start-up kills are
 * the exception (there is no event to wait for before the store opens), and assert nothing about
 * what the child managed to do.
 */
export type KillTrigger =
  /** During process start, module loading, LMDB open or the re-walk of the stored chain. */
  | { readonly after: 'spawn'; readonly delayMs: number }
  /** Right after the child reopened the store: in or before its first write. */
  | { readonly after: 'ready'; readonly delayMs: number }
  /** After the child has printed `count` "committed" lines in this run. */
  | { readonly after: 'committed'; readonly count: number; readonly delayMs: number }
  /** After the child has announced `count` reverts in this run: inside or just after a revert. */
  | { readonly after: 'reverting'; readonly count: number; readonly delayMs: number };

export type KillPhase = KillTrigger['after'];

const PHASES: readonly KillPhase[] = ['spawn', 'ready', 'committed', 'reverting'];

function trigger(phase: KillPhase, rng: SeededRandom): KillTrigger {
  switch (phase) {
    case 'spawn':
      return { after: 'spawn', delayMs: rng.below(400) };
    case 'ready':
      return { after: 'ready', delayMs: rng.below(30) };
    case 'committed':
      return { after: 'committed', count: 1 + rng.below(12), delayMs: rng.below(20) };
    case 'reverting':
      // The child reverts two blocks at every fifth height once it has committed two in this run,
      // so a revert comes within ten commits of any start.
      return { after: 'reverting', count: 1 + rng.below(2), delayMs: rng.below(5) };
  }
}

/**
 * `kills` triggers: the first four cover every phase once (in a seeded order), so each phase is
 * exercised whatever the seed; the rest weigh commits 3 : 1 : 1 : 1 against the other phases.
 */
export function killPlan(seed: number, kills: number): KillTrigger[] {
  const rng = new SeededRandom(seed);
  const first = [...PHASES];
  for (let i = first.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [first[i], first[j]] = [first[j]!, first[i]!];
  }
  const weighted: KillPhase[] = ['spawn', 'ready', 'committed', 'committed', 'committed', 'reverting'];
  return Array.from({ length: kills }, (_, i) =>
    trigger(i < first.length ? first[i]! : weighted[rng.below(weighted.length)]!, rng),
  );
}

/** The seed of this run: CRASH_SEED when set (a u32), else a fresh one. */
export function crashSeed(env: string | undefined, fresh: () => number): number {
  if (env === undefined || env === '') return fresh() >>> 0;
  const seed = Number(env);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`CRASH_SEED must be an integer in [0, 2^32), got ${JSON.stringify(env)}`);
  }
  return seed;
}
