import { describe, expect, it } from 'vitest';
import {
  BeaconFailureBudget,
  MAX_FAILED_BEACONS_PER_PEER_SLOT,
  REMEMBERED_BEACON_SLOTS,
} from '../../../src/node/beacon-failure-budget.js';

describe('BeaconFailureBudget: failed beacon verifications per peer and slot', () => {
  it(`allows ${MAX_FAILED_BEACONS_PER_PEER_SLOT} failures per (peer, slot), then refuses that pair only`, () => {
    const b = new BeaconFailureBudget();
    expect(MAX_FAILED_BEACONS_PER_PEER_SLOT).toBe(2);
    expect(b.allows(10, 'p')).toBe(true);
    b.failed(10, 'p');
    expect(b.allows(10, 'p')).toBe(true);
    b.failed(10, 'p');
    expect(b.allows(10, 'p')).toBe(false);
    // Another peer, another slot: untouched.
    expect(b.allows(10, 'q')).toBe(true);
    expect(b.allows(11, 'p')).toBe(true);
    expect(b.allows(9, 'p')).toBe(true);
  });

  it('forgive takes one failure back, and forgets a pair and a slot left with none', () => {
    const b = new BeaconFailureBudget();
    b.failed(10, 'p');
    b.failed(10, 'p');
    b.failed(10, 'q');
    b.failed(10, 'q');
    expect(b.allows(10, 'p')).toBe(false);
    // One back of two: one more failure refuses again.
    b.forgive(10, 'p');
    expect(b.allows(10, 'p')).toBe(true);
    b.failed(10, 'p');
    expect(b.allows(10, 'p')).toBe(false);
    b.forgive(10, 'p');
    b.forgive(10, 'p');
    b.forgive(10, 'p'); // nothing left to forgive: no credit, and no broken count
    b.failed(10, 'p');
    expect(b.allows(10, 'p')).toBe(true);
    b.failed(10, 'p');
    expect(b.allows(10, 'p')).toBe(false);
    // Forgiving p entirely keeps q's failures of the same slot.
    b.forgive(10, 'p');
    b.forgive(10, 'p');
    expect(b.allows(10, 'q')).toBe(false);
    expect(b.slots).toBe(1);
    b.forgive(10, 'q');
    b.forgive(10, 'q');
    expect(b.slots).toBe(0);
    b.forgive(11, 'p'); // unknown slot: nothing happens
    expect(b.slots).toBe(0);
  });

  it('takes its limit from the constructor', () => {
    const b = new BeaconFailureBudget(1);
    b.failed(3, 'p');
    expect(b.allows(3, 'p')).toBe(false);
    expect(new BeaconFailureBudget(0).allows(3, 'p')).toBe(false);
  });

  it(`forgets slots ${REMEMBERED_BEACON_SLOTS} or more behind the newest failure, and ignores failures there`, () => {
    // Received beacons are for the current or next slot: four slots cover a late one and a margin.
    expect(REMEMBERED_BEACON_SLOTS).toBe(4);
    const b = new BeaconFailureBudget(1);
    b.failed(100, 'p');
    b.failed(101, 'p');
    expect(b.slots).toBe(2);
    // 100 + REMEMBERED_BEACON_SLOTS - 1 = 103 keeps slot 100 …
    b.failed(100 + REMEMBERED_BEACON_SLOTS - 1, 'q');
    expect(b.allows(100, 'p')).toBe(false);
    expect(b.slots).toBe(3);
    // … 104 drops it.
    b.failed(100 + REMEMBERED_BEACON_SLOTS, 'q');
    expect(b.allows(100, 'p')).toBe(true);
    expect(b.allows(101, 'p')).toBe(false);
    expect(b.slots).toBe(3);
    // A failure for a forgotten slot is not recorded (it would never be pruned again).
    b.failed(100, 'r');
    expect(b.allows(100, 'r')).toBe(true);
    expect(b.slots).toBe(3);
    // A late failure for a remembered older slot still counts.
    b.failed(102, 'r');
    expect(b.allows(102, 'r')).toBe(false);
  });
});
