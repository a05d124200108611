import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { beaconInput, beaconPreimage, selectAnchor } from '../../../src/beacon/beacon-input.js';
import { RSA_2048 } from '../../../src/vdf/rsa2048.js';

const anchor = new Uint8Array(32).map((_, i) => i);

describe('beacon input', () => {
  it('lays out TIME:beacon:1\\0 ‖ u32le chain id ‖ u64le slot ‖ anchor hash', () => {
    const p = beaconPreimage(0x01020304, 0x0506070809, anchor);
    expect(Buffer.from(p).toString('hex')).toBe(
      `${Buffer.from('TIME:beacon:1\0').toString('hex')}04030201` +
        `0908070605000000${Buffer.from(anchor).toString('hex')}`,
    );
  });

  it('is HashToGroup of the preimage: 9 counter-mode SHA-256 blocks mod N, canonical (independent re-implementation)', () => {
    const p = beaconPreimage(7, 12345, anchor);
    const blocks = Array.from({ length: 9 }, (_, i) => {
      const ctr = Buffer.alloc(4);
      ctr.writeUInt32LE(i);
      return createHash('sha256')
        .update(Buffer.concat([p, ctr]))
        .digest();
    });
    const v = BigInt(`0x${Buffer.concat(blocks).toString('hex')}`) % RSA_2048;
    const canon = v < RSA_2048 - v ? v : RSA_2048 - v;
    expect(Buffer.from(beaconInput(7, 12345, anchor)).toString('hex')).toBe(
      canon.toString(16).padStart(512, '0'),
    );
  });

  it('changes with chain id, slot and anchor', () => {
    const base = Buffer.from(beaconInput(1, 10, anchor)).toString('hex');
    expect(Buffer.from(beaconInput(2, 10, anchor)).toString('hex')).not.toBe(base);
    expect(Buffer.from(beaconInput(1, 11, anchor)).toString('hex')).not.toBe(base);
    expect(
      Buffer.from(
        beaconInput(
          1,
          10,
          anchor.map((b) => b ^ 1),
        ),
      ).toString('hex'),
    ).not.toBe(base);
  });

  it('anchors slot s on the newest block with slot < s − 1', () => {
    const chain = [9, 7, 6, 3, 0].map((slot) => ({ slot, hash: new Uint8Array(32).fill(slot) }));
    expect(selectAnchor(chain, 10).slot).toBe(7);
    expect(selectAnchor(chain, 9).slot).toBe(7);
    expect(selectAnchor(chain, 8).slot).toBe(6);
    expect(selectAnchor(chain, 11).slot).toBe(9);
    expect(selectAnchor(chain, 1).slot).toBe(0);
  });
});
