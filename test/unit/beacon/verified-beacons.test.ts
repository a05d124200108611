import { describe, expect, it } from 'vitest';
import { beaconInput } from '../../../src/beacon/beacon-input.js';
import { type VdfVerify, VerifiedBeacons } from '../../../src/beacon/verified-beacons.js';
import { DEVNET } from '../../../src/params/networks.js';
import { vdfVerify } from '../../../src/vdf/vdf.js';
import { realBeacon } from '../../support/block-builder.js';

const anchor = new Uint8Array(32).fill(3);
const params = DEVNET;

/** The real inline verifier, counting how often the VDF actually ran. */
function counting(): { verify: VdfVerify; runs: () => number } {
  let runs = 0;
  return {
    verify: (x, y, proof, t) => {
      runs++;
      return vdfVerify(x, y, proof, t);
    },
    runs: () => runs,
  };
}

describe('VerifiedBeacons', () => {
  const b5 = realBeacon(params, 5, anchor);
  const b6 = realBeacon(params, 6, anchor);

  it('verifies against x of (chain id, slot, anchor) and T = vdfDelay, and answers exactly as the VDF', async () => {
    const c = counting();
    const beacons = new VerifiedBeacons(params, c.verify);
    expect(await beacons.verify({ slot: 5, anchorHash: anchor, ...b5 })).toBe(true);
    expect(vdfVerify(beaconInput(params.chainId, 5, anchor), b5.y, b5.proof, params.vdfDelay)).toBe(true);
    // The same (y, π) for another slot or anchor is not that slot's beacon.
    expect(await beacons.verify({ slot: 6, anchorHash: anchor, ...b5 })).toBe(false);
    expect(await beacons.verify({ slot: 5, anchorHash: new Uint8Array(32), ...b5 })).toBe(false);
    // Under another T the same bytes are not a beacon either (T is part of the statement).
    const otherT = new VerifiedBeacons({ ...params, vdfDelay: params.vdfDelay + 1 }, vdfVerify);
    expect(await otherT.verify({ slot: 5, anchorHash: anchor, ...b5 })).toBe(false);
  });

  it('a verified beacon costs nothing again; another y for the slot is refused without running the VDF', async () => {
    const c = counting();
    const beacons = new VerifiedBeacons(params, c.verify);
    expect(await beacons.verify({ slot: 5, anchorHash: anchor, ...b5 })).toBe(true);
    expect(await beacons.verify({ slot: 5, anchorHash: anchor, ...b5 })).toBe(true);
    expect(c.runs()).toBe(1);
    expect(beacons.verifiedY(5, anchor)).toEqual(b5.y);
    expect(await beacons.verify({ slot: 5, anchorHash: anchor, y: b6.y, proof: b6.proof })).toBe(false);
    expect(c.runs()).toBe(1);
    // The right y with a wrong π is checked (and refused), never waved through.
    expect(await beacons.verify({ slot: 5, anchorHash: anchor, y: b5.y, proof: b6.proof })).toBe(false);
    expect(c.runs()).toBe(2);
  });

  it('shares one verification among concurrent requests, and never caches failures or errors', async () => {
    const c = counting();
    const beacons = new VerifiedBeacons(params, async (...a) => c.verify(...a));
    const all = await Promise.all(
      [1, 2, 3].map(() => beacons.verify({ slot: 5, anchorHash: anchor, ...b5 })),
    );
    expect(all).toEqual([true, true, true]);
    expect(c.runs()).toBe(1);
    const bad = { slot: 6, anchorHash: anchor, y: b6.y, proof: b5.proof };
    expect(await beacons.verify(bad)).toBe(false);
    expect(await beacons.verify(bad)).toBe(false);
    expect(c.runs()).toBe(3);
    const broken = new VerifiedBeacons(params, () => Promise.reject(new Error('pool closed')));
    await expect(broken.verify({ slot: 5, anchorHash: anchor, ...b5 })).rejects.toThrow(/pool closed/);
    expect(broken.size).toBe(0);
  });

  it('is bounded: the oldest slot is forgotten first', async () => {
    const c = counting();
    const beacons = new VerifiedBeacons(params, c.verify, 2);
    for (const slot of [5, 6, 7])
      beacons.remember({ slot, anchorHash: anchor, ...realBeacon(params, slot, anchor) });
    expect(beacons.size).toBe(2);
    expect(beacons.verifiedY(5, anchor)).toBeUndefined();
    expect(beacons.verifiedY(7, anchor)).toBeDefined();
    expect(await beacons.verify({ slot: 5, anchorHash: anchor, ...b5 })).toBe(true);
    expect(c.runs()).toBe(1);
    expect(() => new VerifiedBeacons(params, vdfVerify, 0)).toThrow(RangeError);
  });

  it('keeps concurrent requests for different beacons apart: each gets its own answer', async () => {
    const c = counting();
    const beacons = new VerifiedBeacons(params, async (...a) => c.verify(...a));
    const good = { slot: 5, anchorHash: anchor, ...b5 };
    const wrongProof = { slot: 5, anchorHash: anchor, y: b5.y, proof: b6.proof };
    const otherSlot = { slot: 6, anchorHash: anchor, ...b6 };
    const answers = await Promise.all([
      beacons.verify(wrongProof),
      beacons.verify(good),
      beacons.verify(otherSlot),
    ]);
    expect(answers).toEqual([false, true, true]);
    expect(c.runs()).toBe(3);
  });

  it('a capacity of one is allowed and keeps the newest slot; a bad capacity is named', () => {
    const beacons = new VerifiedBeacons(params, vdfVerify, 1);
    beacons.remember({ slot: 5, anchorHash: anchor, ...b5 });
    beacons.remember({ slot: 6, anchorHash: anchor, ...b6 });
    expect(beacons.size).toBe(1);
    expect(beacons.verifiedY(6, anchor)).toEqual(b6.y);
    expect(() => new VerifiedBeacons(params, vdfVerify, 1.5)).toThrow(
      'capacity must be a positive integer: 1.5',
    );
  });

  it('remembers its own copy: a caller reusing its buffers cannot change a verified beacon', () => {
    const beacons = new VerifiedBeacons(params, vdfVerify);
    const y = b5.y.slice();
    const proof = b5.proof.slice();
    beacons.remember({ slot: 5, anchorHash: anchor, y, proof });
    y.fill(0);
    proof.fill(0);
    expect(beacons.known(5, anchor)).toEqual({ slot: 5, anchorHash: anchor, y: b5.y, proof: b5.proof });
  });
});
