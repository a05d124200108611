import { afterAll, describe, expect, it } from 'vitest';
import { beaconInput } from '../../src/beacon/beacon-input.js';
import { toHex } from '../../src/encoding/bytes.js';
import { type Beacon, BeaconService, type VdfRunner } from '../../src/node/beacon-service.js';
import { vdfEvaluate, vdfProve, vdfVerify } from '../../src/vdf/vdf.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';

const T = 1 << 10;
const pool = new CryptoPool({ threads: 2 });
afterAll(() => pool.close());
const anchor = (b: number) => new Uint8Array(32).fill(b);

/** The real pool, with its verifications counted. */
function counting(): VdfRunner & { verifies: number; evaluations: number } {
  const r = {
    verifies: 0,
    evaluations: 0,
    vdfEvaluate: (x: Uint8Array, t: number, o?: { signal?: AbortSignal }) => {
      r.evaluations++;
      return pool.vdfEvaluate(x, t, o);
    },
    vdfProve: (x: Uint8Array, out: Parameters<VdfRunner['vdfProve']>[1]) => pool.vdfProve(x, out),
    vdfVerify: (x: Uint8Array, y: Uint8Array, p: Uint8Array, t: number) => {
      r.verifies++;
      return pool.vdfVerify(x, y, p, t);
    },
  };
  return r;
}

function service(vdf: VdfRunner, evaluated: Beacon[] = []) {
  return new BeaconService({
    chainId: 3,
    vdfDelay: T,
    vdf,
    now: Date.now,
    onEvaluated: (b) => evaluated.push(b),
  });
}

describe('BeaconService (worker pool)', () => {
  it('evaluates a slot once per anchor, the result verifies inline, and is announced for gossip', async () => {
    const vdf = counting();
    const evaluated: Beacon[] = [];
    const s = service(vdf, evaluated);
    const [a, b] = await Promise.all([s.ensure(10, anchor(1)), s.ensure(10, anchor(1))]);
    expect(a).toBe(b);
    expect(vdf.evaluations).toBe(1);
    const x = beaconInput(3, 10, anchor(1));
    expect(vdfVerify(x, a!.y, a!.proof, T)).toBe(true);
    expect(evaluated).toHaveLength(1);
    // Another anchor for the same slot (a reorg) is another beacon.
    const c = await s.ensure(10, anchor(2));
    expect(toHex(c!.y)).not.toBe(toHex(a!.y));
    expect(vdf.evaluations).toBe(2);
  });

  it("a peer's beacon is verified once, cancels the local evaluation, and a different y is dropped unverified", async () => {
    const vdf = counting();
    const s = service(vdf);
    const x = beaconInput(3, 20, anchor(3));
    const out = vdfEvaluate(x, T);
    const proof = vdfProve(x, out);
    // A long evaluation is running locally (T much larger) when the peer's beacon arrives.
    const slow = new BeaconService({
      chainId: 3,
      vdfDelay: T,
      vdf: { ...vdf, vdfEvaluate: (xx, _t, o) => pool.vdfEvaluate(xx, 1 << 22, o) },
      now: Date.now,
      onEvaluated: () => undefined,
    });
    const local = slow.ensure(20, anchor(3));
    expect(await slow.receive(20, anchor(3), out.y, proof)).toBe(true);
    expect(await local).toMatchObject({ y: out.y });
    expect(await s.receive(20, anchor(3), out.y, proof)).toBe(true);
    const before = vdf.verifies;
    expect(await s.receive(20, anchor(3), out.y, proof)).toBe(false); // known: no second verification
    const wrongY = new Uint8Array(out.y);
    wrongY[255] = wrongY[255]! ^ 1;
    expect(await s.verify(20, anchor(3), wrongY, proof)).toBe(false);
    expect(vdf.verifies).toBe(before);
    expect(await s.verify(20, anchor(3), out.y, proof)).toBe(true);
    expect(vdf.verifies).toBe(before);
    // For another anchor the same (y, π) is not a beacon.
    expect(await s.receive(20, anchor(4), out.y, proof)).toBe(false);
  });
});
