import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { activeSetAt, isActiveAt } from '../../../src/chain/active-set.js';
import type { MasternodeRecord } from '../../../src/ledger/ledger-state.js';

const pk = (label: string) => new Uint8Array(createHash('sha256').update(label).digest());
const hex = (m: MasternodeRecord) => Buffer.from(m.nodePubkey).toString('hex');

function record(
  label: string,
  tier: number,
  registeredHeight: number,
  deregisteredHeight: number | null = null,
): MasternodeRecord {
  return {
    nodePubkey: pk(label),
    tier,
    collateral: tier === 0 ? null : { txid: pk(`c${label}`), vout: 0 },
    rewardAddress: pk(`r${label}`).subarray(0, 20),
    registeredHeight,
    deregisteredHeight,
  };
}

describe('active set (the Free-tier cap)', () => {
  it('active at h: registered at or before h, not deregistered at or before h', () => {
    const m = record('a', 1, 5, 9);
    expect([4, 5, 8, 9, 10].map((h) => isActiveAt(m, h))).toEqual([false, true, true, false, false]);
    expect(isActiveAt(record('b', 0, 0), 1_000_000)).toBe(true);
  });

  it('keeps every collateral tier and only the most senior Free nodes, sorted by pubkey', () => {
    const paid = [1, 2, 3].flatMap((tier) =>
      Array.from({ length: 4 }, (_, i) => record(`p${tier}/${i}`, tier, i)),
    );
    // Free nodes registered at heights 0..9, two per height (tie broken by pubkey).
    const free = Array.from({ length: 20 }, (_, i) => record(`f${i}`, 0, i >> 1));
    const set = activeSetAt([...free, ...paid], 9, { maxActiveFreeMasternodes: 5 });
    expect(
      set
        .filter((m) => m.tier > 0)
        .map(hex)
        .sort(),
    ).toEqual(paid.map(hex).sort());
    const seniorFree = [...free]
      .sort((a, b) => a.registeredHeight - b.registeredHeight || Buffer.compare(a.nodePubkey, b.nodePubkey))
      .slice(0, 5);
    expect(
      set
        .filter((m) => m.tier === 0)
        .map(hex)
        .sort(),
    ).toEqual(seniorFree.map(hex).sort());
    for (let i = 1; i < set.length; i++)
      expect(Buffer.compare(set[i - 1]!.nodePubkey, set[i]!.nodePubkey)).toBeLessThan(0);
    // Input order does not matter.
    expect(activeSetAt([...paid, ...free].reverse(), 9, { maxActiveFreeMasternodes: 5 })).toEqual(set);
  });

  it('a senior Free node leaving lets the next in line in; the cap applies at each height', () => {
    const free = [record('x', 0, 1), record('y', 0, 2, 6), record('z', 0, 3), record('w', 0, 4)];
    const at = (h: number) =>
      activeSetAt(free, h, { maxActiveFreeMasternodes: 2 })
        .map((m) => free.indexOf(m))
        .sort();
    expect(at(0)).toEqual([]);
    expect(at(2)).toEqual([0, 1]);
    expect(at(5)).toEqual([0, 1]); // z and w wait
    expect(at(6)).toEqual([0, 2]); // y left at 6: z moves up, w still waits
    expect(activeSetAt(free, 6, { maxActiveFreeMasternodes: 100 })).toHaveLength(3);
  });
});
