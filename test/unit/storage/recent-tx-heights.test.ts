import { describe, expect, it } from 'vitest';
import { RecentTxHeights } from '../../../src/storage/recent-tx-heights.js';

const txid = (h: number, i: number) => {
  const t = new Uint8Array(32);
  new DataView(t.buffer).setUint32(0, h);
  t[31] = i;
  return t;
};
const block = (h: number, n = 3) => Array.from({ length: n }, (_, i) => txid(h, i));

describe('RecentTxHeights', () => {
  it('answers the height of every txid of the newest `depth` blocks, and nothing older', () => {
    const r = new RecentTxHeights(3);
    for (let h = 10; h <= 14; h++) r.added(h, block(h));
    for (let h = 12; h <= 14; h++) for (const t of block(h)) expect(r.get(t)).toBe(h);
    for (let h = 10; h <= 11; h++) for (const t of block(h)) expect(r.get(t)).toBeUndefined();
    expect(r.size).toBe(9);
    // A copy of a txid (another array, same bytes) finds it: keys are the bytes.
    expect(r.get(Uint8Array.from(txid(13, 1)))).toBe(13);
    expect(r.get(txid(13, 9))).toBeUndefined();
  });

  it('a revert drops exactly the newest block, and a later block at that height replaces it', () => {
    const r = new RecentTxHeights(4);
    for (let h = 1; h <= 3; h++) r.added(h, block(h));
    r.reverted(3);
    for (const t of block(3)) expect(r.get(t)).toBeUndefined();
    for (const t of block(2)) expect(r.get(t)).toBe(2);
    const other = [txid(99, 1)];
    r.added(3, other);
    expect(r.get(other[0]!)).toBe(3);
    expect(r.size).toBe(7);
    // Reverts past every block kept leave nothing, and the next block starts again.
    for (let h = 3; h >= 0; h--) r.reverted(h);
    expect(r.size).toBe(0);
    r.added(1, block(1));
    expect(r.get(txid(1, 0))).toBe(1);
  });

  it('forgets everything when told of a block that is not the next, or a revert of another height', () => {
    const r = new RecentTxHeights(4);
    r.added(5, block(5));
    r.added(7, block(7)); // a gap: 6 was never seen
    for (const t of block(5)) expect(r.get(t)).toBeUndefined();
    expect(r.get(txid(7, 0))).toBe(7);
    r.added(8, block(8));
    r.reverted(7); // not the newest (8): nothing kept can be trusted to be on the main chain
    expect(r.size).toBe(0);
  });

  it('a txid seen again in a later block is dropped with either block (a miss is always safe)', () => {
    const r = new RecentTxHeights(2);
    const dup = txid(1, 0);
    r.added(1, [dup]);
    r.added(2, [dup]);
    expect(r.get(dup)).toBe(2);
    r.added(3, block(3)); // evicts block 1, whose key is dup
    expect(r.get(dup)).toBeUndefined();
  });

  it('refuses a depth that is not a positive integer', () => {
    for (const d of [0, -1, 1.5, Number.NaN]) expect(() => new RecentTxHeights(d)).toThrow(RangeError);
    expect(() => new RecentTxHeights(0)).toThrow(new RangeError('depth must be a positive integer, got 0'));
    expect(new RecentTxHeights(1).size).toBe(0);
  });
});
