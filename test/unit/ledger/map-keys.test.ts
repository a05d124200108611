import { describe, expect, it } from 'vitest';
import { bytesKey, outpointStringKey } from '../../../src/ledger/map-keys.js';
import { outpointKey } from '../../../src/protocol/tx-codec.js';
import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';

describe('map keys', () => {
  it('an outpoint key string is the latin1 form of the 36-byte outpointKey(), for every vout byte', () => {
    const rng = new SeededRandom(5);
    const vouts = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x8000, 0x01020304, 0x80808080, 0xfffffffe, 0xffffffff];
    for (let i = 0; i < 200; i++) vouts.push(rng.nextU32());
    for (const vout of vouts) {
      const o = { txid: rng.bytes(32), vout };
      const key = outpointStringKey(o);
      expect(key).toHaveLength(36);
      expect(Buffer.from(key, 'latin1')).toEqual(Buffer.from(outpointKey(o)));
      expect(key).toBe(bytesKey(outpointKey(o)));
    }
  });

  it('a txid that is a view into a larger buffer keys by its own bytes only', () => {
    const big = new Uint8Array(100).fill(9);
    big.set(new Uint8Array(32).fill(1), 10);
    expect(bytesKey(big.subarray(10, 42))).toBe(bytesKey(new Uint8Array(32).fill(1)));
  });

  it('a malformed outpoint (txid not 32 bytes) keys by all of its bytes and never borrows an earlier key', () => {
    const full = { txid: new Uint8Array(32).fill(7), vout: 0x01020304 };
    const fullKey = outpointStringKey(full);
    const short = { txid: new Uint8Array(31).fill(7), vout: 0x01020304 };
    const shortKey = outpointStringKey(short);
    expect(shortKey).toHaveLength(35);
    expect(shortKey).not.toBe(fullKey);
    expect(Buffer.from(shortKey, 'latin1')).toEqual(Buffer.from([...short.txid, 1, 2, 3, 4]));
    // The 32-byte path reuses one scratch array: a key made before is still its own bytes.
    outpointStringKey({ txid: new Uint8Array(32).fill(8), vout: 9 });
    expect(Buffer.from(fullKey, 'latin1')).toEqual(Buffer.from(outpointKey(full)));
  });
});
