import { afterAll, describe, expect, it } from 'vitest';
import { beaconInput } from '../../src/beacon/beacon-input.js';
import { type SlotBeacon, VerifiedBeacons } from '../../src/beacon/verified-beacons.js';
import { toHex } from '../../src/encoding/bytes.js';
import { BeaconService, type VdfEvaluator } from '../../src/node/beacon-service.js';
import { vdfEvaluate, vdfProve, vdfVerify } from '../../src/vdf/vdf.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';

const T = 1 << 10;
const pool = new CryptoPool({ threads: 2 });
afterAll(() => pool.close());
const anchor = (b: number) => new Uint8Array(32).fill(b);

/** The real pool, evaluations and verifications counted. */
function setup(evalT = T, cancelAboveSquarings?: number) {
  const counts = { evaluations: 0, verifies: 0 };
  const vdf: VdfEvaluator = {
    vdfEvaluate: (x, _t, o) => {
      counts.evaluations++;
      return pool.vdfEvaluate(x, evalT, o);
    },
    vdfProve: (x, out) => pool.vdfProve(x, out),
  };
  const verified = new VerifiedBeacons({ chainId: 3, vdfDelay: T }, (x, y, p, t) => {
    counts.verifies++;
    return pool.vdfVerify(x, y, p, t);
  });
  const evaluated: SlotBeacon[] = [];
  const service = new BeaconService({
    chainId: 3,
    vdfDelay: T,
    vdf,
    verified,
    now: Date.now,
    onEvaluated: (b) => evaluated.push(b),
    ...(cancelAboveSquarings !== undefined ? { cancelAboveSquarings } : {}),
  });
  return { service, verified, counts, evaluated };
}

describe('BeaconService (worker pool)', () => {
  it('evaluates a slot once per anchor; the beacon verifies inline, is remembered as verified and announced', async () => {
    const { service, verified, counts, evaluated } = setup();
    const [a, b] = await Promise.all([service.ensure(10, anchor(1)), service.ensure(10, anchor(1))]);
    expect(a).toBe(b);
    expect(counts.evaluations).toBe(1);
    const x = beaconInput(3, 10, anchor(1));
    expect(vdfVerify(x, a!.y, a!.proof, T)).toBe(true);
    expect(evaluated).toHaveLength(1);
    // Block validation then needs no VDF run for it.
    expect(await verified.verify(a!)).toBe(true);
    expect(counts.verifies).toBe(0);
    // Another anchor for the same slot (after a reorg) is another beacon.
    const c = await service.ensure(10, anchor(2));
    expect(toHex(c!.y)).not.toBe(toHex(a!.y));
    expect(counts.evaluations).toBe(2);
  });

  it("a peer's beacon is verified once and cancels a running evaluation; a wrong one is refused", async () => {
    // The local evaluation would take many seconds; cancelling is allowed for any T here.
    const { service, counts } = setup(1 << 22, 0);
    const x = beaconInput(3, 20, anchor(3));
    const out = vdfEvaluate(x, T);
    const proof = vdfProve(x, out);
    const local = service.ensure(20, anchor(3));
    expect(await service.receive(20, anchor(3), out.y, proof, 'peer')).toBe(true);
    expect(await local).toMatchObject({ y: out.y });
    expect(counts.verifies).toBe(1);
    expect(await service.receive(20, anchor(3), out.y, proof, 'peer')).toBe(false); // known: not verified again
    expect(counts.verifies).toBe(1);
    expect(await service.receive(20, anchor(4), out.y, proof, 'peer')).toBe(false); // not the beacon of another anchor
    const wrong = new Uint8Array(out.y);
    wrong[0] = wrong[0]! ^ 1;
    expect(await service.receive(21, anchor(3), wrong, proof, 'peer')).toBe(false);
  });

  it('a peer whose beacons for a slot keep failing is not verified again for that slot; others still are', async () => {
    const { service, counts } = setup();
    const x = beaconInput(3, 30, anchor(5));
    const out = vdfEvaluate(x, T);
    const proof = vdfProve(x, out);
    const junk = (b: number) => new Uint8Array(out.y.length).fill(b);
    // Two wrong beacons from the peer are verified (and fail) …
    expect(await service.receive(30, anchor(5), junk(1), proof, 'mallory')).toBe(false);
    expect(await service.receive(30, anchor(5), junk(2), proof, 'mallory')).toBe(false);
    expect(counts.verifies).toBe(2);
    // … later ones for that slot are dropped unverified, even the right one.
    expect(await service.receive(30, anchor(5), junk(3), proof, 'mallory')).toBe(false);
    expect(await service.receive(30, anchor(5), out.y, proof, 'mallory')).toBe(false);
    expect(counts.verifies).toBe(2);
    // Its beacons for another slot are verified; so are other peers' for this slot.
    expect(await service.receive(31, anchor(5), junk(4), proof, 'mallory')).toBe(false);
    expect(counts.verifies).toBe(3);
    expect(await service.receive(30, anchor(5), out.y, proof, 'alice')).toBe(true);
    expect(counts.verifies).toBe(4);
  });
});
