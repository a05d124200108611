import { describe, expect, it } from 'vitest';
import { beaconInput } from '../../../src/beacon/beacon-input.js';
import { type SlotBeacon, VerifiedBeacons } from '../../../src/beacon/verified-beacons.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { BeaconService, type VdfEvaluator } from '../../../src/node/beacon-service.js';
import { vdfEvaluate, vdfProve, vdfVerify } from '../../../src/vdf/vdf.js';
import { gate } from '../../support/gate.js';

/**
 * The beacon service's bookkeeping with the VDF run inline (WASM, T = 2^12: milliseconds): one
 * evaluation per (slot, anchor), what a peer's beacon does to ours, cancellation, progress and
 * shutdown. The evaluator can be held at either step (evaluate, prove) so a test decides what
 * happens in between; an aborted evaluation rejects, as a pool task does.
 */

const T = 4_096;
const CHAIN = 3;
const anchor = (b: number) => new Uint8Array(32).fill(b);

/** The real beacon of (slot, anchor) at T. */
function beaconOf(slot: number, anchorHash: Uint8Array): { y: Uint8Array; proof: Uint8Array } {
  const x = beaconInput(CHAIN, slot, anchorHash);
  const out = vdfEvaluate(x, T);
  return { y: out.y, proof: vdfProve(x, out) };
}

interface Setup {
  readonly cancelAboveSquarings?: number;
  /** Held before the squarings / before the proof. */
  readonly evaluateGate?: Promise<void>;
  readonly proveGate?: Promise<void>;
  /** The evaluation fails (not aborted). */
  readonly failWith?: Error;
}

function setup(o: Setup = {}) {
  let nowMs = 1_000;
  const counts = { evaluations: 0, verifies: 0 };
  const signals: AbortSignal[] = [];
  const vdf: VdfEvaluator = {
    vdfEvaluate: async (x, t, opts) => {
      counts.evaluations++;
      if (opts?.signal) signals.push(opts.signal);
      await o.evaluateGate;
      opts?.signal?.throwIfAborted();
      if (o.failWith) throw o.failWith;
      return vdfEvaluate(x, t);
    },
    vdfProve: async (x, out) => {
      await o.proveGate;
      return vdfProve(x, out);
    },
  };
  const verified = new VerifiedBeacons({ chainId: CHAIN, vdfDelay: T }, async (x, y, p, t) => {
    counts.verifies++;
    return vdfVerify(x, y, p, t);
  });
  const evaluated: SlotBeacon[] = [];
  const service = new BeaconService({
    chainId: CHAIN,
    vdfDelay: T,
    vdf,
    verified,
    now: () => nowMs,
    onEvaluated: (b) => evaluated.push(b),
    ...(o.cancelAboveSquarings === undefined ? {} : { cancelAboveSquarings: o.cancelAboveSquarings }),
  });
  return {
    service,
    verified,
    counts,
    evaluated,
    signals,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('BeaconService.ensure', () => {
  it('a beacon already verified is answered at once, without evaluating', async () => {
    const s = setup();
    const b = beaconOf(5, anchor(1));
    s.verified.remember({ slot: 5, anchorHash: anchor(1), ...b });
    expect(toHex((await s.service.ensure(5, anchor(1)))!.y)).toBe(toHex(b.y));
    expect(s.counts.evaluations).toBe(0);
    expect(s.evaluated).toEqual([]);
  });

  it('evaluates once per (slot, anchor), announces and remembers what it evaluated', async () => {
    const s = setup();
    const [a, b] = await Promise.all([s.service.ensure(5, anchor(1)), s.service.ensure(5, anchor(1))]);
    expect(a).toBe(b);
    expect(s.counts.evaluations).toBe(1);
    expect(toHex(a!.y)).toBe(toHex(beaconOf(5, anchor(1)).y));
    expect(s.evaluated.map((e) => [e.slot, toHex(e.y)])).toEqual([[5, toHex(a!.y)]]);
    expect(s.verified.known(5, anchor(1))).toBeDefined();
    await s.service.ensure(5, anchor(2));
    await s.service.ensure(6, anchor(1));
    expect(s.counts.evaluations).toBe(3);
  });

  it('after close(), evaluates nothing and answers undefined', async () => {
    const s = setup();
    s.service.close();
    expect(await s.service.ensure(5, anchor(1))).toBeUndefined();
    expect(s.counts.evaluations).toBe(0);
  });

  it('closed while evaluating: undefined, nothing announced', async () => {
    const g = gate();
    const s = setup({ evaluateGate: g.wait });
    const pending = s.service.ensure(5, anchor(1));
    s.service.close();
    g.release();
    expect(await pending).toBeUndefined();
    expect(s.evaluated).toEqual([]);
    expect(s.signals[0]!.aborted).toBe(true);
  });

  it('an evaluation that fails (not cancelled) rejects, and a later ensure tries again', async () => {
    const s = setup({ failWith: new Error('worker crashed') });
    await expect(s.service.ensure(5, anchor(1))).rejects.toThrow('worker crashed');
    expect(s.service.progress()).toBeUndefined();
    await expect(s.service.ensure(5, anchor(1))).rejects.toThrow('worker crashed');
    expect(s.counts.evaluations).toBe(2);
  });

  it('a peer’s beacon that arrives while ours is being proved wins: ours is neither kept nor announced', async () => {
    const g = gate();
    const s = setup({ proveGate: g.wait });
    const pending = s.service.ensure(5, anchor(1));
    const theirs = beaconOf(5, anchor(1));
    expect(await s.service.receive(5, anchor(1), theirs.y, theirs.proof, 'peer-a')).toBe(true);
    g.release();
    const got = await pending;
    expect(toHex(got!.proof)).toBe(toHex(theirs.proof));
    expect(s.evaluated).toEqual([]);
  });
});

describe('BeaconService.progress', () => {
  it('reports the evaluation running longest, and nothing once all have ended', async () => {
    const g = gate();
    const s = setup({ evaluateGate: g.wait });
    expect(s.service.progress()).toBeUndefined();
    const first = s.service.ensure(7, anchor(1));
    s.advance(250);
    const second = s.service.ensure(8, anchor(1));
    s.advance(100);
    expect(s.service.progress()).toEqual({ slot: 7, runningMs: 350 });
    g.release();
    await Promise.all([first, second]);
    expect(s.service.progress()).toBeUndefined();
  });

  it('the same start time: the first one started is reported', async () => {
    const g = gate();
    const s = setup({ evaluateGate: g.wait });
    const a = s.service.ensure(9, anchor(1));
    const b = s.service.ensure(8, anchor(1));
    expect(s.service.progress()).toEqual({ slot: 9, runningMs: 0 });
    g.release();
    await Promise.all([a, b]);
  });
});

describe('BeaconService.receive: a peer’s beacon', () => {
  it('a valid one is verified once and remembered; known, it is not verified again', async () => {
    const s = setup();
    const b = beaconOf(5, anchor(1));
    expect(await s.service.receive(5, anchor(1), b.y, b.proof, 'peer-a')).toBe(true);
    expect(s.counts.verifies).toBe(1);
    expect(s.service.get(5, anchor(1))).toBeDefined();
    expect(await s.service.receive(5, anchor(1), b.y, b.proof, 'peer-b')).toBe(false);
    expect(s.counts.verifies).toBe(1);
    // With no running evaluation there is nothing to cancel (and no error).
    expect(s.counts.evaluations).toBe(0);
  });

  it('a wrong one is refused; a peer is refused unverified after 2 failures for a slot, others are not', async () => {
    const s = setup();
    const b = beaconOf(5, anchor(1));
    const wrong = b.y.slice();
    wrong[0] = wrong[0]! ^ 1;
    for (let i = 0; i < 2; i++)
      expect(await s.service.receive(5, anchor(1), wrong, b.proof, 'peer-a')).toBe(false);
    expect(s.counts.verifies).toBe(2);
    expect(await s.service.receive(5, anchor(1), b.y, b.proof, 'peer-a')).toBe(false);
    expect(s.counts.verifies).toBe(2);
    // Another peer is still verified.
    expect(await s.service.receive(5, anchor(1), b.y, b.proof, 'peer-b')).toBe(true);
    expect(s.counts.verifies).toBe(3);
  });
});

describe('BeaconService.receive: the failure budget holds for beacons verified at once', () => {
  it('ten garbage beacons of one peer at once: 2 verified, the rest dropped; a valid one is not counted', async () => {
    const s = setup();
    const b = beaconOf(5, anchor(1));
    let n = 0;
    const garbage = () => {
      const y = b.y.slice();
      y[n % y.length] = y[n++ % y.length]! ^ 1;
      return y;
    };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => s.service.receive(5, anchor(1), garbage(), b.proof, 'peer-a')),
    );
    expect(answers.every((a) => a === false)).toBe(true);
    expect(s.counts.verifies).toBe(2);
    // A valid beacon is counted only while it is being verified: a peer that sends one valid and
    // one garbage beacon of another slot still has a verification left for that slot.
    const c = beaconOf(6, anchor(1));
    expect(await s.service.receive(6, anchor(2), garbage(), c.proof, 'peer-b')).toBe(false);
    expect(await s.service.receive(6, anchor(1), c.y, c.proof, 'peer-b')).toBe(true);
    expect(await s.service.receive(6, anchor(3), garbage(), c.proof, 'peer-b')).toBe(false);
    expect(s.counts.verifies).toBe(5);
  });
});

describe('BeaconService: cancelling our evaluation when a peer’s beacon arrives', () => {
  async function peerArrivesWhileEvaluating(cancelAboveSquarings?: number) {
    const g = gate();
    const s = setup({
      evaluateGate: g.wait,
      ...(cancelAboveSquarings === undefined ? {} : { cancelAboveSquarings }),
    });
    const ours = s.service.ensure(5, anchor(1));
    const theirs = beaconOf(5, anchor(1));
    expect(await s.service.receive(5, anchor(1), theirs.y, theirs.proof, 'peer-a')).toBe(true);
    const cancelled = s.signals[0]!.aborted;
    const progressAfter = s.service.progress();
    g.release();
    const got = await ours;
    return { s, cancelled, progressAfter, got, theirs };
  }

  it('by default a short evaluation (devnet’s 2^12) is left to finish: restarting a worker costs more', async () => {
    const r = await peerArrivesWhileEvaluating();
    expect(r.cancelled).toBe(false);
    expect(r.progressAfter).toMatchObject({ slot: 5 });
    expect(toHex(r.got!.y)).toBe(toHex(r.theirs.y));
  });

  it('cancelled when T reaches cancelAboveSquarings; the peer’s beacon is the answer', async () => {
    const r = await peerArrivesWhileEvaluating(T);
    expect(r.cancelled).toBe(true);
    expect(r.progressAfter).toBeUndefined();
    expect(toHex(r.got!.proof)).toBe(toHex(r.theirs.proof));
    expect(r.s.evaluated).toEqual([]);
  });

  it('left to finish when T is below cancelAboveSquarings', async () => {
    const r = await peerArrivesWhileEvaluating(T + 1);
    expect(r.cancelled).toBe(false);
  });
});
