import { afterEach, describe, expect, it, vi } from 'vitest';
import { Benchlist } from '../../../src/consensus/snowball/benchlist.js';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { type Rng, Xoshiro128 } from '../../../src/consensus/snowball/prng.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { NodeMetrics } from '../../../src/node/node-metrics.js';
import { Poller, type PollTransport } from '../../../src/node/poller.js';
import { ValidatorSet } from '../../../src/node/validator-set.js';
import { DEVNET } from '../../../src/params/networks.js';

const params = { ...DEVNET, pollTimeoutMs: 40 };
const keys = Array.from({ length: 5 }, (_, i) => new Uint8Array(32).fill(i + 1));
const ids = keys.map(toHex);
const records = keys.map((k) => ({
  nodePubkey: k,
  tier: 1,
  collateral: null,
  rewardAddress: new Uint8Array(20),
  registeredHeight: 0,
  deregisteredHeight: null,
}));
const txid = (i: number) => new Uint8Array(32).fill(100 + i);
const outpoint = (i: number) => new Uint8Array(36).fill(200 + i);

const pollers: Poller[] = [];
afterEach(() => {
  for (const p of pollers.splice(0)) p.stop();
});

/** Validators answer from `behaviour`: yes to everything, silent (never), or a wrong vote count. */
function setup(
  behaviour: (id: string) => 'yes' | 'silent' | 'short' | 'slow',
  connected = ids.slice(1),
  pacing: {
    minPollIntervalMs?: number;
    paused?: () => boolean;
    /** Our node key (default keys[0], an active masternode). */
    selfKey?: Uint8Array;
  } = {},
  /** Votes for a request's txids (every validator and us); default: yes to all. */
  votesFor: (txids: Uint8Array) => Uint8Array = (txids) => new Uint8Array(txids.length / 32).fill(1),
) {
  const engine = new SnowballEngine(params.snowball);
  const validators = new ValidatorSet(params, pacing.selfKey ?? keys[0]!, new Benchlist([]));
  validators.setActive(records);
  for (const id of connected) validators.peerConnected(id);
  const seen = {
    /** Date.now() of the first answer from any validator (0 before). */
    firstAnswerMs: 0,
    answered: new Map<string, number>(),
    missed: new Map<string, number>(),
    malformed: [] as string[],
    /** What each malformed report said (operators read it in the log). */
    malformedDetails: [] as string[],
    /** Requests sent to each validator. */
    requests: new Map<string, number>(),
    /** Times we computed our own votes. */
    selfVotes: 0,
    /** Random numbers drawn (sampling validators). */
    draws: 0,
    /** Every validator the transport was asked to poll. */
    asked: new Set<string>(),
  };
  const transport: PollTransport = {
    poll: (id, txids, timeoutMs) => {
      seen.asked.add(id);
      seen.requests.set(id, (seen.requests.get(id) ?? 0) + 1);
      const b = behaviour(id);
      // As the transport does: a request without an answer fails at its timeout.
      if (b === 'silent')
        return new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs));
      if (b === 'short') return Promise.resolve(new Uint8Array(txids.length / 32 - 1).fill(1));
      // 'slow': every answer takes 2.5 × the network's minimum poll timeout (a loaded machine).
      if (b === 'slow') return new Promise((resolve) => setTimeout(() => resolve(votesFor(txids)), 100));
      return Promise.resolve(votesFor(txids));
    },
  };
  const metrics = new NodeMetrics();
  const poller = new Poller({
    params,
    engine,
    validators,
    transport,
    observer: {
      answered: (id, nowMs) => {
        seen.firstAnswerMs ||= nowMs;
        seen.answered.set(id, (seen.answered.get(id) ?? 0) + 1);
      },
      missed: (id) => seen.missed.set(id, (seen.missed.get(id) ?? 0) + 1),
      malformed: (id, detail) => {
        seen.malformed.push(id);
        seen.malformedDetails.push(detail);
      },
    },
    metrics,
    selfVotes: (txids) => {
      seen.selfVotes++;
      return votesFor(txids);
    },
    onApplied: () => undefined,
    rng: counting(new Xoshiro128(7), () => seen.draws++),
    now: Date.now,
    minPollIntervalMs: pacing.minPollIntervalMs ?? 0,
    paused: pacing.paused ?? (() => false),
  });
  pollers.push(poller);
  return { engine, poller, seen, metrics, validators };
}

function counting(rng: Rng, onDraw: () => void): Rng {
  return {
    nextU32: () => {
      onDraw();
      return rng.nextU32();
    },
    below: (n) => {
      onDraw();
      return rng.below(n);
    },
  };
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('Poller', () => {
  it('drives a transaction to acceptance in about β polls when every validator says yes', async () => {
    const { engine, poller, metrics, seen } = setup(() => 'yes');
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted');
    const started = (await metrics.pollsStarted.get()).values[0]!.value;
    expect(started).toBeGreaterThanOrEqual(params.snowball.beta);
    expect(started).toBeLessThanOrEqual(params.snowball.beta + params.concurrentPolls);
    expect(poller.inFlight).toBe(0);
    // Our own vote is answered locally, never requested over the network; every peer was asked.
    expect(seen.asked.has(ids[0]!)).toBe(false);
    expect([...seen.asked].sort()).toEqual(ids.slice(1).sort());
    // Answers that come back at once keep the adaptive timeout far below its ceiling (a round trip
    // measured wrongly, e.g. as a clock reading, would pin it there).
    expect(poller.timeout.currentMs).toBeLessThan(poller.timeout.ceilingMs);
  });

  it('never has more than concurrentPolls in flight', async () => {
    const { engine, poller } = setup((id) => (id === ids[1] ? 'silent' : 'yes'));
    for (let i = 0; i < 3; i++) engine.add(txid(i), [outpoint(i)]);
    poller.wake();
    let max = 0;
    const end = Date.now() + 300;
    while (Date.now() < end) {
      max = Math.max(max, poller.inFlight);
      await new Promise((r) => setImmediate(r));
    }
    expect(max).toBe(params.concurrentPolls);
  });

  it('a silent validator is reported as missed at the timeout; the others as answered; finality still comes', async () => {
    const silent = ids[2]!;
    const { engine, poller, seen, metrics } = setup((id) => (id === silent ? 'silent' : 'yes'));
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted');
    // Polls complete early (80 % yes settles every outcome), but the silent validator's own requests
    // still time out, and that is what benching hears about.
    await until(() => (seen.missed.get(silent) ?? 0) > 0);
    expect([...seen.missed.keys()]).toEqual([silent]);
    expect(seen.answered.has(silent)).toBe(false);
    expect(seen.answered.get(ids[1]!) ?? 0).toBeGreaterThan(0);
    expect((await metrics.pollRequestsFailed.get()).values[0]!.value).toBeGreaterThan(0);
  });

  it('answers slower than pollTimeoutMs: the timeout adapts to the round trips and finality comes', async () => {
    // With a fixed 40 ms timeout every poll would time out with only our own vote: nothing final.
    const { engine, poller, metrics, seen } = setup(() => 'slow');
    const startMs = Date.now();
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted', 20_000);
    // Adapted to the ~100 ms round trips, far above the 40 ms floor. Not "> 100": a 100 ms timer
    // measured in whole milliseconds can read 99, and once the trips agree the variance term decays,
    // so an idle run may settle at exactly 100 (seen under load in a mutation run's dry run).
    expect(poller.timeout.currentMs).toBeGreaterThan(params.pollTimeoutMs * 2);
    expect(poller.timeout.currentMs).toBeLessThanOrEqual(params.pollTimeoutMs * 8);
    // Only polls started before the first answer came back timed out (100 ms on an idle machine: 4
    // rounds of 40 ms timeouts, concurrentPolls each); every later one waited long enough. The
    // rounds are counted from when the first answer really came: on a loaded CI box timers fire late.
    // Two more rounds: the polls in flight when it came, and one round more for a timer that fired
    // late while the answer waited its turn (seen once at load 8: 20 timeouts against a bound of 16).
    // Without adaptation every poll times out, hundreds of them, so the bound still bites.
    const rounds = Math.ceil((seen.firstAnswerMs - startMs) / params.pollTimeoutMs) + 2;
    const timedOut = (await metrics.pollsTimedOut.get()).values[0]!.value;
    expect(timedOut).toBeLessThanOrEqual(params.concurrentPolls * rounds);
    const started = (await metrics.pollsStarted.get()).values[0]!.value;
    expect(started - timedOut).toBeGreaterThanOrEqual(params.snowball.beta);
  }, 30_000);

  it('each PollRequest carries the polled txids in 32-byte slots, and vote i counts for txid i', async () => {
    // Validators that read the request: yes for txid(1), no for anything else. Only a request whose
    // slots hold the engine's txids in order, with answers applied by position, accepts txid(1)
    // and never txid(2).
    const sent: Uint8Array[] = [];
    const byBytes = (txids: Uint8Array) => {
      sent.push(txids.slice());
      const votes = new Uint8Array(txids.length / 32);
      for (let i = 0; i < votes.length; i++)
        votes[i] = Buffer.from(txids.subarray(i * 32, i * 32 + 32)).equals(txid(1)) ? 1 : 0;
      return votes;
    };
    const { engine, poller } = setup(() => 'yes', undefined, {}, byBytes);
    engine.add(txid(2), [outpoint(2)]);
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted');
    expect(engine.statusOf(txid(2))).toBe('processing');
    // Every request named both transactions, each in a whole 32-byte slot.
    expect(sent.length).toBeGreaterThan(0);
    for (const t of sent) {
      expect(t.length % 32).toBe(0);
      const slots = Array.from({ length: t.length / 32 }, (_, i) => toHex(t.subarray(i * 32, i * 32 + 32)));
      expect(slots.length).toBeGreaterThan(0);
      for (const slot of slots) expect([toHex(txid(1)), toHex(txid(2))]).toContain(slot);
    }
    expect(sent.some((t) => t.length === 64)).toBe(true);
  });

  it('a validator answering the wrong number of votes is reported malformed, not counted', async () => {
    const bad = ids[3]!;
    const { engine, poller, seen } = setup((id) => (id === bad ? 'short' : 'yes'));
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => seen.malformed.length > 0);
    expect(new Set(seen.malformed)).toEqual(new Set([bad]));
    expect(seen.answered.has(bad)).toBe(false);
  });

  it('starts no poll while the reachable weight is below α/k of the active weight', async () => {
    // Us and one peer: 2 of 5 equal weights, 2·20 < 14·5.
    const { engine, poller, metrics, validators } = setup(() => 'yes', ids.slice(1, 2));
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await new Promise((r) => setTimeout(r, 150));
    expect((await metrics.pollsStarted.get()).values[0]?.value ?? 0).toBe(0);
    // Two more peers connect: 4 of 5, 4·20 ≥ 14·5.
    validators.peerConnected(ids[2]!);
    validators.peerConnected(ids[3]!);
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted');
  });

  it('every started poll is settled exactly once, as answered or as timed out', async () => {
    // One silent validator and one slow one: some polls complete early, some at their timeout.
    const { engine, poller, metrics } = setup((id) =>
      id === ids[1] ? 'silent' : id === ids[2] ? 'slow' : 'yes',
    );
    for (let i = 0; i < 3; i++) engine.add(txid(i), [outpoint(i)]);
    poller.wake();
    await until(() => [0, 1, 2].every((i) => engine.statusOf(txid(i)) === 'accepted'), 20_000);
    await until(() => poller.inFlight === 0);
    const value = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
      (await c.get()).values[0]?.value ?? 0;
    const started = await value(metrics.pollsStarted);
    const answered = await value(metrics.pollsAnswered);
    const timedOut = await value(metrics.pollsTimedOut);
    expect(started).toBeGreaterThan(0);
    expect(answered + timedOut).toBe(started);
  }, 30_000);

  it('starts polls no faster than minPollIntervalMs', async () => {
    const { engine, poller, metrics } = setup(() => 'yes', ids.slice(1), { minPollIntervalMs: 100 });
    for (let i = 0; i < 3; i++) engine.add(txid(i), [outpoint(i)]);
    const t0 = Date.now();
    poller.wake();
    await new Promise((r) => setTimeout(r, 350));
    const started = (await metrics.pollsStarted.get()).values[0]!.value;
    // One at once, then one per 100 ms: at most 1 + elapsed / 100 (answers come at once, so without
    // pacing hundreds would have started).
    expect(started).toBeGreaterThanOrEqual(1);
    expect(started).toBeLessThanOrEqual(1 + Math.floor((Date.now() - t0) / 100));
  });

  it('starts nothing while paused (finality halted), and resumes when woken after', async () => {
    let paused = true;
    const { engine, poller, metrics } = setup(() => 'yes', ids.slice(1), { paused: () => paused });
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await new Promise((r) => setTimeout(r, 150)); // the 100 ms heartbeat has looked again too
    expect((await metrics.pollsStarted.get()).values[0]?.value ?? 0).toBe(0);
    paused = false;
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted');
  });

  it('stop() cancels the polls in flight in the engine and starts no more', async () => {
    // Every peer silent: polls stay open until their timeout.
    const { engine, poller, metrics } = setup(() => 'silent');
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => poller.inFlight > 0);
    const open = [...Array(100).keys()].filter((id) => engine.isPollOpen(id));
    expect(open.length).toBeGreaterThan(0);
    const timedOutBefore = (await metrics.pollsTimedOut.get()).values[0]?.value ?? 0;
    poller.stop();
    expect(poller.inFlight).toBe(0);
    expect(open.filter((id) => engine.isPollOpen(id))).toEqual([]);
    const started = (await metrics.pollsStarted.get()).values[0]!.value;
    poller.wake();
    await new Promise((r) => setTimeout(r, 250)); // past a poll timeout and two heartbeats
    expect((await metrics.pollsStarted.get()).values[0]!.value).toBe(started);
    expect((await metrics.pollsTimedOut.get()).values[0]?.value ?? 0).toBe(timedOutBefore);
  });
});

/** A counter's value (0 before its first increment). */
async function count(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values[0]?.value ?? 0;
}

// When work happens, on a fake clock: setImmediate, timers and Date.now all advance only when told.
describe('Poller scheduling', () => {
  afterEach(() => {
    for (const p of pollers.splice(0)) p.stop();
    vi.useRealTimers();
  });

  it('the next paced poll starts exactly minPollIntervalMs after the last, not at the next heartbeat', async () => {
    vi.useFakeTimers();
    const { engine, poller, metrics } = setup(() => 'yes', ids.slice(1), { minPollIntervalMs: 30 });
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(await count(metrics.pollsStarted)).toBe(1);
    // Answers come at once, so only pacing holds the next poll back: it is due at 30 ms, well
    // before the 100 ms heartbeat would look again.
    await vi.advanceTimersByTimeAsync(29);
    expect(await count(metrics.pollsStarted)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await count(metrics.pollsStarted)).toBe(2);
    await vi.advanceTimersByTimeAsync(30);
    expect(await count(metrics.pollsStarted)).toBe(3);
  });

  it('the heartbeat starts a poll that no wake announced (quorum reached by peers connecting)', async () => {
    vi.useFakeTimers();
    const { engine, poller, metrics, validators } = setup(() => 'yes', ids.slice(1, 2));
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await vi.advanceTimersByTimeAsync(10);
    expect(await count(metrics.pollsStarted)).toBe(0); // below quorum
    validators.peerConnected(ids[2]!);
    validators.peerConnected(ids[3]!);
    await vi.advanceTimersByTimeAsync(89);
    expect(await count(metrics.pollsStarted)).toBe(0);
    // The heartbeat, 100 ms after the poller was made, wakes it (the fill runs a tick later).
    await vi.advanceTimersByTimeAsync(10);
    expect(await count(metrics.pollsStarted)).toBeGreaterThan(0);
  });

  it('an idle poller (nothing processing) draws no sample', async () => {
    vi.useFakeTimers();
    const { engine, poller, seen } = setup(() => 'yes');
    poller.wake();
    await vi.advanceTimersByTimeAsync(350); // a wake and three heartbeats
    expect(seen.draws).toBe(0);
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.draws).toBeGreaterThanOrEqual(params.snowball.k);
  });

  it('stop() leaves no timer behind (pacing timer, pending wake), and a wake after stop schedules none', async () => {
    vi.useFakeTimers();
    // A long pacing interval: after the first poll the next one waits on a timer.
    const { engine, poller, metrics } = setup(() => 'yes', ids.slice(1), { minPollIntervalMs: 1_000 });
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(await count(metrics.pollsStarted)).toBe(1);
    expect(poller.inFlight).toBe(0);
    poller.wake(); // pending when stop() comes
    poller.stop();
    expect(vi.getTimerCount()).toBe(0);
    poller.wake();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an answer that arrives after its poll completed early is still reported as answered', async () => {
    vi.useFakeTimers();
    // The slow validator answers after 100 ms; the others settle every poll at once, so most of
    // its answers are late. Benching must still hear that it answered every request.
    const slow = ids[4]!;
    const { engine, poller, seen } = setup((id) => (id === slow ? 'slow' : 'yes'));
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(poller.inFlight).toBe(0); // completed without the slow answers
    const sent = seen.requests.get(slow) ?? 0;
    expect(sent).toBeGreaterThan(0);
    poller.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(seen.answered.get(slow)).toBe(sent);
    expect(seen.malformed).toEqual([]);
    expect(seen.missed.size).toBe(0);
  });
});

describe('Poller answers', () => {
  it('a malformed answer is reported with the vote and txid counts', async () => {
    const bad = ids[3]!;
    const { engine, poller, seen } = setup((id) => (id === bad ? 'short' : 'yes'));
    engine.add(txid(1), [outpoint(1)]);
    engine.add(txid(2), [outpoint(2)]);
    poller.wake();
    await until(() => seen.malformed.length > 0);
    // Both transactions in one request, one vote short.
    expect(seen.malformedDetails[0]).toMatch(/\b1 votes? for 2 txids\b/);
  });

  it('a node that is not an active masternode never computes its own votes', async () => {
    const { engine, poller, seen } = setup(() => 'yes', ids, { selfKey: new Uint8Array(32).fill(99) });
    engine.add(txid(1), [outpoint(1)]);
    poller.wake();
    await until(() => engine.statusOf(txid(1)) === 'accepted');
    expect(seen.selfVotes).toBe(0);
    expect([...seen.asked].sort()).toEqual([...ids].sort());
  });
});
