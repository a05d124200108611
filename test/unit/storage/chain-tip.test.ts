import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import { decodeChainTip, encodeChainTip } from '../../../src/storage/chain-tip.js';
import { thrownAs } from '../../support/thrown.js';

/*
 * A damaged tip entry is refused at open as META_CORRUPT with the decoder's reason in the message
 * (store-checks.ts), so the reason must name the field that is cut short or the trailing bytes.
 */
describe('chain tip: a damaged entry names what is wrong with it', () => {
  const bytes = encodeChainTip({ height: 9, hash: new Uint8Array(32).fill(7), slot: 12 });

  it.each([
    { what: 'cut inside the height', length: 3, reason: /tip height: need 4 bytes at offset 0/ },
    { what: 'cut inside the hash', length: 20, reason: /tip hash: need 32 bytes at offset 4/ },
    { what: 'cut inside the slot', length: 40, reason: /tip slot: need 8 bytes at offset 36/ },
  ])('$what: TRUNCATED naming the field', ({ length, reason }) => {
    const err = thrownAs(() => decodeChainTip(bytes.subarray(0, length)), DecodeError);
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toMatch(reason);
  });

  it('one byte too many: TRAILING_BYTES naming the chain tip', () => {
    const err = thrownAs(() => decodeChainTip(Uint8Array.from([...bytes, 0])), DecodeError);
    expect(err.code).toBe('TRAILING_BYTES');
    expect(err.message).toMatch(/chain tip: 1 trailing bytes/);
  });
});
