/**
 * `npm run bench -- snowball`: the Snowball engine on the coordinator's hot path and the simulator.
 *
 * - snowball.recordPoll1024 (hz = polls of 1,024 transactions applied per second): open a poll over
 *   1,024 processing transactions with a k = 20 stake-weighted sample, feed every sampled
 *   validator's 1,024 votes until the poll completes (early termination included), apply it. β is
 *   set out of reach so the same 1,024 transactions stay processing for the whole run; the work per
 *   poll is the same as with β = 20. Target >= 2,000/s.
 * - snowball.lifecycle1024: 1,024 transactions (including 64 conflicting pairs) added and polled to
 *   acceptance with the chain's k/α/β (hz = transactions decided per second).
 * - snowball.sample20: stake-weighted k = 20 draws over 1,000 validators of mixed tiers.
 * - sim.run50: one seeded 50-node simulation (2 conflicts, 4 transactions), runs per second.
 */
import { SnowballEngine } from '../../src/consensus/snowball/engine.js';
import { Vote } from '../../src/consensus/snowball/poll.js';
import { Xoshiro128 } from '../../src/consensus/snowball/prng.js';
import { StakeSampler } from '../../src/consensus/snowball/sampler.js';
import { MAINNET } from '../../src/params/networks.js';
import { outpointKey } from '../../src/protocol/tx-codec.js';
import { runSimulation } from '../../src/sim/simulation.js';
import { BenchSuite } from '../harness.js';

const N = 1_024;
const TIER_WEIGHTS = [1, 10, 100, 1000];

function txid(i: number, tag: number): Uint8Array {
  const t = new Uint8Array(32);
  t[0] = tag;
  new DataView(t.buffer).setUint32(28, i, false);
  return t;
}

function validators(n: number): StakeSampler {
  return new StakeSampler(
    Array.from({ length: n }, (_, i) => ({
      id: `v${String(i).padStart(4, '0')}`,
      weight: TIER_WEIGHTS[i % 4]!,
    })),
  );
}

/** Per validator, a fixed vote vector: ~80 % yes, different items per validator. */
function voteVectors(ids: readonly string[], n: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  ids.forEach((id, v) => {
    const votes = new Uint8Array(n);
    for (let i = 0; i < n; i++) votes[i] = (i * 7 + v * 13) % 10 < 8 ? Vote.YES : Vote.NO;
    out.set(id, votes);
  });
  return out;
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('snowball');
  const { k } = MAINNET.snowball;
  const sampler = validators(50);
  const votes = voteVectors(sampler.ids, N);
  const rng = new Xoshiro128(1);

  const steady = new SnowballEngine({ ...MAINNET.snowball, beta: 1_000_000_000 });
  for (let i = 0; i < N; i++) steady.add(txid(i, 1), [outpointKey({ txid: txid(i, 2), vout: i & 3 })]);
  let responses = 0;
  let polls = 0;
  const pollOnce = () => {
    const req = steady.startPoll(sampler.sample(k, rng))!;
    polls++;
    for (const v of req.validators) {
      responses++;
      if (steady.recordResponse(req.requestId, v, votes.get(v)!)) return;
    }
    steady.timeoutPoll(req.requestId);
  };
  const r = await suite.task('snowball.recordPoll1024', pollOnce);
  suite.note('snowball.recordPoll1024.target', 2_000);
  suite.note('snowball.recordPoll1024.responsesPerPoll', Math.round((responses / polls) * 10) / 10);
  suite.note('snowball.recordPoll1024.voteUpdatesPerSec', Math.round((r.hz * N * responses) / polls));

  const lifecycle = () => {
    const e = new SnowballEngine(MAINNET.snowball);
    for (let i = 0; i < N; i++) {
      // The first 128 transactions are 64 conflicting pairs.
      const spent = i < 128 ? i >>> 1 : i;
      e.add(txid(i, 3), [outpointKey({ txid: txid(spent, 4), vout: 0 })]);
    }
    while (e.processingCount > 0) {
      const req = e.startPoll(sampler.sample(k, rng))!;
      // Honest responders: yes where they prefer (here: the engine's own preference).
      const answer = Uint8Array.from(req.txids, (t) => (e.preferred(t) ? Vote.YES : Vote.NO));
      for (const v of req.validators) if (e.recordResponse(req.requestId, v, answer)) break;
    }
  };
  await suite.task('snowball.lifecycle1024', lifecycle, { itemsPerOp: N });

  const big = validators(1_000);
  await suite.task('snowball.sample20', () => big.sample(k, rng));

  let seed = 0;
  await suite.task('sim.run50', () => {
    runSimulation({ nodes: 50, conflicts: 2, txs: 4, seed: ++seed });
  });
  suite.write();
}
