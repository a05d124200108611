import { bytesEqual, toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { beaconInput } from './beacon-input.js';

/** A slot's beacon as a block header or a Beacon message carries it. */
export interface SlotBeacon {
  readonly slot: number;
  /** The slot's anchor: the newest block of the branch with slot < s − 1. */
  readonly anchorHash: Uint8Array;
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
}

/** What block validation asks: is (y, π) the beacon of this slot on this branch? */
export interface BeaconVerifier {
  /**
   * True iff π proves y = VDF(x, T) with x = beaconInput(chain id, slot, anchor) and T the chain's
   * vdfDelay. Never true for a wrong y; rejects (throws) only when verification could not run
   * (e.g. the pool is closed), which proves nothing about the block.
   */
  verify(beacon: SlotBeacon): Promise<boolean>;
}

/** One Wesolowski verification: the crypto pool's `vdfVerify`, or the inline `vdfVerify`. */
export type VdfVerify = (
  x: Uint8Array,
  y: Uint8Array,
  proof: Uint8Array,
  t: number,
) => boolean | Promise<boolean>;

interface Verified {
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
}

/**
 * A BeaconVerifier that remembers verified beacons per (slot, anchor), bounded by `capacity`
 * (oldest forgotten first). y is unique for (x, T), so once a y is verified for a (slot, anchor),
 * any other y for it is answered `false` without running the VDF (a ground y costs ~5× a normal
 * verification, so an attacker cannot make us pay for them); the same (y, π) is answered `true`
 * at once, so a block, its gossip copies and the Beacon message cost one verification together.
 * Concurrent requests for the same beacon share one verification. Answers are exactly those of
 * verifying every time: only the work is skipped.
 */
export class VerifiedBeacons implements BeaconVerifier {
  private readonly verified = new Map<string, Verified>();
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly params: Pick<ChainParams, 'chainId' | 'vdfDelay'>,
    private readonly verifyVdf: VdfVerify,
    readonly capacity = 1_024,
  ) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1))
      throw new RangeError(`capacity must be a positive integer: ${capacity}`);
  }

  async verify(beacon: SlotBeacon): Promise<boolean> {
    const key = slotKey(beacon);
    const known = this.verified.get(key);
    if (known) {
      if (!bytesEqual(known.y, beacon.y)) return false;
      // Another π for the verified y is checked like any proof (and not remembered).
      if (bytesEqual(known.proof, beacon.proof)) return true;
    }
    const flightKey = `${key}:${toHex(beacon.y)}:${toHex(beacon.proof)}`;
    const pending = this.inFlight.get(flightKey);
    if (pending) return pending;
    const run = (async () => {
      const x = beaconInput(this.params.chainId, beacon.slot, beacon.anchorHash);
      const ok = await this.verifyVdf(x, beacon.y, beacon.proof, this.params.vdfDelay);
      if (ok && !known) this.remember(beacon);
      return ok;
    })();
    this.inFlight.set(flightKey, run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(flightKey);
    }
  }

  /** Records a beacon this node evaluated itself (its y and π are correct by construction). */
  remember(beacon: SlotBeacon): void {
    const key = slotKey(beacon);
    this.verified.delete(key);
    this.verified.set(key, { y: beacon.y.slice(), proof: beacon.proof.slice() });
    while (this.verified.size > this.capacity) {
      const oldest = this.verified.keys().next().value as string;
      this.verified.delete(oldest);
    }
  }

  /** The verified beacon of a (slot, anchor), if remembered (a producer puts it in its header). */
  known(slot: number, anchorHash: Uint8Array): SlotBeacon | undefined {
    const v = this.verified.get(slotKey({ slot, anchorHash }));
    return v && { slot, anchorHash, y: v.y, proof: v.proof };
  }

  /** The verified y of a (slot, anchor), if remembered (e.g. to drop a rival Beacon message unverified). */
  verifiedY(slot: number, anchorHash: Uint8Array): Uint8Array | undefined {
    return this.verified.get(slotKey({ slot, anchorHash }))?.y;
  }

  get size(): number {
    return this.verified.size;
  }
}

function slotKey(b: Pick<SlotBeacon, 'slot' | 'anchorHash'>): string {
  return `${b.slot}:${toHex(b.anchorHash)}`;
}
