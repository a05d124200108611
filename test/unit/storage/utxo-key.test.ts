import { describe, expect, it } from 'vitest';
import { compareBytes, toHex } from '../../../src/encoding/bytes.js';
import { readUtxoKey, scratchUtxoKey, UTXO_KEY_BYTES, utxoKey } from '../../../src/storage/utxo-key.js';

const txid = (b: number) => new Uint8Array(32).fill(b);

describe('UTXO keys (height u32 BE ‖ txid ‖ vout u32 BE)', () => {
  it('lay out exactly as documented', () => {
    const t = Uint8Array.from({ length: 32 }, (_, i) => i);
    const key = utxoKey(0x0102_0304, t, 0xa0b0_c0d0);
    expect(UTXO_KEY_BYTES).toBe(40);
    expect(toHex(key)).toBe(`01020304${toHex(t)}a0b0c0d0`);
  });

  it('sort by height, then txid, then vout, across byte boundaries of each number', () => {
    // Listed in the order the keys must sort; little-endian numbers would put 256 before 255.
    const ordered = [
      utxoKey(255, txid(0xff), 0xffff_ffff),
      utxoKey(256, txid(0), 0),
      utxoKey(256, txid(0), 255),
      utxoKey(256, txid(0), 256),
      utxoKey(256, txid(1), 0),
      utxoKey(65_536, txid(0), 0),
      utxoKey(0xffff_ffff, txid(0), 0),
    ];
    const sorted = [...ordered].sort(compareBytes);
    expect(sorted.map(toHex)).toEqual(ordered.map(toHex));
  });

  it('read back to their height and outpoint, as copies of the key', () => {
    const key = utxoKey(70_000, txid(9), 300);
    const read = readUtxoKey(key);
    expect(read).toEqual({ height: 70_000, outpoint: { txid: txid(9), vout: 300 } });
    key.fill(0);
    expect(read.outpoint.txid).toEqual(txid(9));
    // Also from a Buffer (lmdb-js's keys), whose `slice` would be a view of the reused buffer.
    const buf = Buffer.from(utxoKey(70_000, txid(9), 300));
    const fromBuf = readUtxoKey(buf);
    buf.fill(0);
    expect(fromBuf.outpoint.txid).toEqual(txid(9));
    // A view into a larger buffer (lmdb-js hands keys out that way) reads at its own offset.
    const big = new Uint8Array(50);
    big.set(utxoKey(5, txid(3), 7), 6);
    expect(readUtxoKey(big.subarray(6, 46))).toEqual({ height: 5, outpoint: { txid: txid(3), vout: 7 } });
  });

  it('refuse a txid or a key of another length', () => {
    expect(() => utxoKey(1, new Uint8Array(33), 0)).toThrow(new RangeError('a txid is 32 bytes, got 33'));
    expect(() => scratchUtxoKey(1, new Uint8Array(31), 0)).toThrow(RangeError);
    expect(() => readUtxoKey(new Uint8Array(39))).toThrow(new RangeError('a UTXO key is 40 bytes, got 39'));
    expect(() => readUtxoKey(new Uint8Array(41))).toThrow(RangeError);
  });

  it('scratch keys equal fresh ones and share one buffer', () => {
    const a = scratchUtxoKey(12, txid(4), 1);
    expect(a).toEqual(utxoKey(12, txid(4), 1));
    const b = scratchUtxoKey(13, txid(5), 2);
    expect(b).toBe(a);
    expect(b).toEqual(utxoKey(13, txid(5), 2));
  });
});
