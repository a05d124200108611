import { describe, expect, it } from 'vitest';
import {
  arrivedInTime,
  beaconSlotWanted,
  isFarFromTheFuture,
  isFromTheFuture,
} from '../../../src/chain/relay-policy.js';
import { rankWindow, rankWindowCount, slotAt, slotStartMs } from '../../../src/chain/slot-time.js';
import { DEVNET, MAINNET } from '../../../src/params/networks.js';

const params = {
  genesisTimeMs: 1_000_000,
  slotMs: 600_000,
  leaderFallbackStepMs: 30_000,
  futureBlockToleranceMs: 5_000,
};

describe('slot time and rank windows', () => {
  it('slot s starts at genesis + s × slot length; slotAt inverts it', () => {
    expect(slotStartMs(params, 0)).toBe(1_000_000);
    expect(slotStartMs(params, 5)).toBe(4_000_000);
    expect(slotAt(params, 4_000_000)).toBe(5);
    expect(slotAt(params, 3_999_999)).toBe(4);
    expect(slotAt(params, 999_999)).toBe(-1);
    // Genesis itself is slot 0; anything before it is −1, however far before (not −2, −3, …).
    expect(slotAt(params, 1_000_000)).toBe(0);
    expect(slotAt(params, 0)).toBe(-1);
    expect(slotAt(params, -5_000_000)).toBe(-1);
  });

  it('rank r owns [start + r·step, start + (r+1)·step); ranks with a window fit in the slot', () => {
    const start = slotStartMs(params, 5);
    expect(rankWindow(params, 5, 0)).toEqual({ startMs: start, endMs: start + 30_000 });
    expect(rankWindow(params, 5, 2)).toEqual({ startMs: start + 60_000, endMs: start + 90_000 });
    expect(rankWindowCount(params)).toBe(20);
    expect(rankWindow(params, 5, 19).endMs).toBe(slotStartMs(params, 6));
    expect(rankWindowCount(MAINNET)).toBe(20);
    expect(rankWindowCount(DEVNET)).toBe(4);
    expect(rankWindowCount({ slotMs: 1_000, leaderFallbackStepMs: 300 })).toBe(3);
    expect(() => rankWindow(params, 5, -1)).toThrow(
      new RangeError('rank must be a non-negative integer: -1'),
    );
    expect(() => rankWindow(params, 5, 1.5)).toThrow(
      new RangeError('rank must be a non-negative integer: 1.5'),
    );
  });
});

describe('relay policy (local clock, not validity)', () => {
  it('a block is from the future when its timestamp is beyond now + tolerance', () => {
    expect(isFromTheFuture({ timestampMs: 10_000 }, 5_000, params)).toBe(false);
    expect(isFromTheFuture({ timestampMs: 10_001 }, 5_000, params)).toBe(true);
    expect(isFromTheFuture({ timestampMs: 4_000 }, 5_000, params)).toBe(false);
  });

  it('a block more than two tolerances ahead proves its sender wrong; between one and two it does not', () => {
    // 5 s tolerance: 10,001 is dropped as future but not scored; 15,001 is both.
    expect(isFarFromTheFuture({ timestampMs: 10_001 }, 5_000, params)).toBe(false);
    expect(isFarFromTheFuture({ timestampMs: 15_000 }, 5_000, params)).toBe(false);
    expect(isFarFromTheFuture({ timestampMs: 15_001 }, 5_000, params)).toBe(true);
    expect(isFromTheFuture({ timestampMs: 15_001 }, 5_000, params)).toBe(true);
  });

  it('a block is timely when it arrives before its window ends plus the tolerance', () => {
    const end = rankWindow(params, 5, 2).endMs;
    expect(arrivedInTime({ slot: 5, rank: 2 }, end + 4_999, params)).toBe(true);
    expect(arrivedInTime({ slot: 5, rank: 2 }, end + 5_000, params)).toBe(false);
    expect(arrivedInTime({ slot: 5, rank: 0 }, end, params)).toBe(false);
  });

  it('a Beacon message is wanted for the current or next slot only, each edge widened by the tolerance', () => {
    // Slot 5 runs [4,000,000, 4,600,000); tolerance 5 s.
    const start = slotStartMs(params, 5);
    const next = slotStartMs(params, 6);
    // Mid slot 5: slots 5 and 6 wanted; 4, 7 and far ones not.
    const mid = start + 300_000;
    expect([3, 4, 5, 6, 7, 8, 1_000_000].map((s) => beaconSlotWanted(s, mid, params))).toEqual([
      false,
      false,
      true,
      true,
      false,
      false,
      false,
    ]);
    // Within the tolerance after slot 5 began, a late beacon of slot 4 is still wanted; not after.
    expect(beaconSlotWanted(4, start + 4_999, params)).toBe(true);
    expect(beaconSlotWanted(4, start + 5_000, params)).toBe(false);
    // Within the tolerance before slot 6 begins (a sender whose clock runs ahead), slot 7 is wanted.
    expect(beaconSlotWanted(7, next - 5_000, params)).toBe(true);
    expect(beaconSlotWanted(7, next - 5_001, params)).toBe(false);
    // Before genesis nothing but slots 0 (and −1, which no message can carry) is near.
    expect(beaconSlotWanted(0, params.genesisTimeMs - 1, params)).toBe(true);
    expect(beaconSlotWanted(1, params.genesisTimeMs - 5_001, params)).toBe(false);
  });
});
