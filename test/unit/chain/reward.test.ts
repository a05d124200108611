import { createHash, randomBytes } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { coinbaseOutputs, type RewardRecipient, rotationOffset } from '../../../src/chain/reward.js';
import { DEVNET } from '../../../src/params/networks.js';
import { TAG } from '../../../src/protocol/domain-tags.js';

const params = DEVNET;

function masternodes(counts: [number, number, number, number]): RewardRecipient[] {
  const out: RewardRecipient[] = [];
  counts.forEach((n, tier) => {
    for (let i = 0; i < n; i++)
      out.push({ nodePubkey: randomBytes(32), tier, rewardAddress: randomBytes(20) });
  });
  return out;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32LE() % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const sum = (xs: { value: bigint }[]) => xs.reduce((s, o) => s + o.value, 0n);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('reward rule', () => {
  it('outputs sum exactly to block reward + fees for many random sets and fee amounts', () => {
    for (let trial = 0; trial < 300; trial++) {
      const counts = [0, 1, 2, 3].map(() => randomBytes(1)[0]! % 40) as [number, number, number, number];
      const fees = BigInt(randomBytes(4).readUInt32LE()) * 997n;
      const outs = coinbaseOutputs(params, {
        height: trial + 1,
        beaconY: randomBytes(256),
        producerRewardAddress: randomBytes(20),
        fees,
        activeMasternodes: masternodes(counts),
      });
      expect(sum(outs)).toBe(params.blockReward + fees);
      expect(outs.every((o) => o.value >= params.dustLimit)).toBe(true);
      const expectedPayouts = counts.reduce((s, n) => s + Math.min(n, params.maxPaidPerTier), 0);
      expect(outs).toHaveLength(2 + expectedPayouts);
    }
  });

  it('is deterministic and independent of the order of its inputs', () => {
    const set = masternodes([30, 7, 3, 2]);
    const inputs = {
      height: 9,
      beaconY: randomBytes(256),
      producerRewardAddress: randomBytes(20),
      fees: 12_345n,
    };
    const a = coinbaseOutputs(params, { ...inputs, activeMasternodes: set });
    for (let i = 0; i < 20; i++) {
      const b = coinbaseOutputs(params, { ...inputs, activeMasternodes: shuffle(set) });
      expect(b.map((o) => [o.value, hex(o.address)])).toEqual(a.map((o) => [o.value, hex(o.address)]));
    }
  });

  it('pays treasury first and the producer its share, fees, empty pools and dust', () => {
    const producer = randomBytes(20);
    // Only 3 free-tier nodes: gold, silver and bronze pools go to the producer; free pool 8 TIME / 3 leaves dust.
    const outs = coinbaseOutputs(params, {
      height: 1,
      beaconY: new Uint8Array(0),
      producerRewardAddress: producer,
      fees: 777n,
      activeMasternodes: masternodes([3, 0, 0, 0]),
    });
    expect(outs[0]).toEqual({ value: params.treasuryReward, address: params.treasuryAddress });
    const freePool = params.tiers[0]!.rewardPool;
    const share = freePool / 3n;
    const emptyPools =
      params.tiers[1]!.rewardPool + params.tiers[2]!.rewardPool + params.tiers[3]!.rewardPool;
    expect(outs[1]).toEqual({
      value: params.producerReward + 777n + emptyPools + (freePool - share * 3n),
      address: producer,
    });
    expect(outs.slice(2).map((o) => o.value)).toEqual([share, share, share]);
  });

  it('pays at most maxPaidPerTier per tier and the rotation visits every member over many beacons', () => {
    const set = masternodes([60, 0, 0, 0]);
    const paid = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const outs = coinbaseOutputs(params, {
        height: i + 1,
        beaconY: randomBytes(32),
        producerRewardAddress: randomBytes(20),
        fees: 0n,
        activeMasternodes: set,
      });
      expect(outs).toHaveLength(2 + params.maxPaidPerTier);
      for (const o of outs.slice(2)) paid.add(hex(o.address));
    }
    expect(paid.size).toBe(60);
  });
});

describe('reward rotation offset (DESIGN: SHA-256(TAG.reward ‖ u8 tier ‖ y) as u64 LE mod n)', () => {
  /** The same preimage hashed by @noble/hashes, its first 8 bytes read little-endian by hand. */
  function expected(y: Uint8Array, tier: number, members: number): number {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(y.length);
    const digest = nobleSha256(Buffer.concat([TAG.reward, Buffer.from([tier]), len, y]));
    let x = 0n;
    for (let i = 7; i >= 0; i--) x = (x << 8n) | BigInt(digest[i]!);
    return Number(x % BigInt(members));
  }

  it('matches an independent computation for random beacons, every tier and several set sizes', () => {
    for (let trial = 0; trial < 50; trial++) {
      const y = randomBytes(256);
      for (let tier = 0; tier < 4; tier++)
        for (const n of [1, 2, 3, 7, 1_000, 65_537])
          expect(rotationOffset(y, tier, n)).toBe(expected(y, tier, n));
    }
  });
  it('known answer: y = 0, 1, …, 255, tier 1 (Bronze) — little-endian, where big-endian would differ', () => {
    const y = Uint8Array.from({ length: 256 }, (_, i) => i);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(y.length);
    const digest = createHash('sha256')
      .update(Buffer.concat([TAG.reward, Buffer.from([1]), len, y]))
      .digest();
    expect(digest.subarray(0, 8).toString('hex')).toBe('f82465dfe440da3a');
    // u64 LE of those bytes mod 7 is 4 and mod 1,000 is 216; read big-endian they would give 6 and 546.
    expect([digest.readBigUInt64LE(0) % 7n, digest.readBigUInt64BE(0) % 7n]).toEqual([4n, 6n]);
    expect(rotationOffset(y, 1, 7)).toBe(4);
    expect(rotationOffset(y, 1, 1_000)).toBe(216);
    // In the coinbase: seven Bronze members (all paid), the first payout is the member at offset 4
    // of the pubkey-sorted list.
    const bronze = Array.from({ length: 7 }, (_, i) => ({
      nodePubkey: new Uint8Array(32).fill(0x10 + i),
      tier: 1,
      rewardAddress: new Uint8Array(20).fill(0xa0 + i),
    }));
    const outs = coinbaseOutputs(params, {
      height: 1,
      beaconY: y,
      producerRewardAddress: new Uint8Array(20),
      fees: 0n,
      activeMasternodes: shuffle(bronze),
    });
    expect(outs.slice(2).map((o) => o.address[0])).toEqual([4, 5, 6, 0, 1, 2, 3].map((i) => 0xa0 + i));
  });
});
