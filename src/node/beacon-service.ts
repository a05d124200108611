import { beaconInput } from '../beacon/beacon-input.js';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import type { VdfOutput } from '../vdf/vdf.js';

/** What the beacon service needs from the crypto pool. */
export interface VdfRunner {
  vdfEvaluate(x: Uint8Array, t: number, opts?: { signal?: AbortSignal }): Promise<VdfOutput>;
  vdfProve(x: Uint8Array, output: VdfOutput): Promise<Uint8Array>;
  vdfVerify(x: Uint8Array, y: Uint8Array, proof: Uint8Array, t: number): Promise<boolean>;
}

export interface Beacon {
  readonly slot: number;
  readonly anchorHash: Uint8Array;
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
}

export interface BeaconServiceOptions {
  readonly chainId: number;
  readonly vdfDelay: number;
  readonly vdf: VdfRunner;
  readonly now: () => number;
  /** A beacon this node evaluated (not one it received): gossip it. */
  readonly onEvaluated: (b: Beacon) => void;
  /** Slots kept (the current one, the next, and a few behind for late blocks). */
  readonly keepSlots?: number;
}

interface Entry {
  beacon?: Beacon;
  evaluating?: { promise: Promise<Beacon | undefined>; abort: AbortController; startedMs: number };
}

/**
 * The VDF beacon of each coming slot (DESIGN §6). For slot s the anchor is the newest block of our
 * chain with slot < s − 1 and x = HashToGroup(TIME:beacon:1 ‖ chain id ‖ s ‖ anchor hash); the node
 * evaluates y = x^(2^T) in the worker pool as soon as it knows the anchor (a full slot ahead), proves
 * it on all workers and gossips (s, y, π). A beacon received from a peer is verified in the pool
 * (milliseconds) and cancels the local evaluation (aborting a pool task terminates that worker, the
 * only way to stop a WASM loop; piscina replaces it).
 *
 * Beacons are kept per (slot, anchor): after a reorg the anchor of a slot may change, and then the
 * beacon is derived again. y is unique for (x, T), so a received beacon whose y differs from the one
 * already verified for that (slot, anchor) is dropped without verifying: a ground y would cost a
 * full verification each (~5× a normal one) for nothing.
 */
export class BeaconService {
  private readonly entries = new Map<string, Entry>();
  private readonly keepSlots: number;
  private closed = false;

  constructor(private readonly o: BeaconServiceOptions) {
    this.keepSlots = o.keepSlots ?? 8;
  }

  /** The verified beacon for (slot, anchor) if this node has it. */
  get(slot: number, anchorHash: Uint8Array): Beacon | undefined {
    return this.entries.get(key(slot, anchorHash))?.beacon;
  }

  /** Evaluation progress for metrics: the slot being evaluated and how long it has run. */
  progress(): { slot: number; runningMs: number } | undefined {
    for (const [k, e] of this.entries) {
      if (e.evaluating)
        return { slot: Number(k.split(':')[0]), runningMs: this.o.now() - e.evaluating.startedMs };
    }
    return undefined;
  }

  /**
   * The beacon for (slot, anchor): cached, being evaluated, or evaluated now. Resolves undefined if
   * the evaluation was cancelled (a peer's beacon arrived: then `get` has it) or the service closed.
   */
  ensure(slot: number, anchorHash: Uint8Array): Promise<Beacon | undefined> {
    const k = key(slot, anchorHash);
    const e = this.entries.get(k) ?? {};
    if (e.beacon) return Promise.resolve(e.beacon);
    if (e.evaluating) return e.evaluating.promise;
    if (this.closed) return Promise.resolve(undefined);
    const abort = new AbortController();
    const x = beaconInput(this.o.chainId, slot, anchorHash);
    const promise = (async (): Promise<Beacon | undefined> => {
      try {
        const output = await this.o.vdf.vdfEvaluate(x, this.o.vdfDelay, { signal: abort.signal });
        const proof = await this.o.vdf.vdfProve(x, output);
        const beacon: Beacon = { slot, anchorHash, y: output.y, proof };
        const now = this.entries.get(k);
        if (now?.beacon) return now.beacon; // a peer's arrived while we proved
        this.entries.set(k, { beacon });
        this.o.onEvaluated(beacon);
        return beacon;
      } catch (err) {
        if (abort.signal.aborted || this.closed) return this.entries.get(k)?.beacon;
        throw err;
      } finally {
        const now = this.entries.get(k);
        if (now?.evaluating?.abort === abort) delete now.evaluating;
      }
    })();
    this.entries.set(k, { evaluating: { promise, abort, startedMs: this.o.now() } });
    this.prune(slot);
    return promise;
  }

  /**
   * A beacon from a peer for `slot`, checked against OUR anchor for that slot. Returns true when it
   * is new and valid (the caller relays it), false otherwise (invalid for our anchor, already known,
   * or a different y than the one verified — never verified twice).
   */
  async receive(slot: number, anchorHash: Uint8Array, y: Uint8Array, proof: Uint8Array): Promise<boolean> {
    const k = key(slot, anchorHash);
    const e = this.entries.get(k);
    if (e?.beacon) return false;
    const x = beaconInput(this.o.chainId, slot, anchorHash);
    const ok = await this.o.vdf.vdfVerify(x, y, proof, this.o.vdfDelay);
    if (!ok) return false;
    const now = this.entries.get(k);
    if (now?.beacon) return false;
    now?.evaluating?.abort.abort();
    this.entries.set(k, { beacon: { slot, anchorHash, y, proof } });
    this.prune(slot);
    return true;
  }

  /** Verifies (y, π) as the beacon of (slot, anchor), using what is already verified. */
  async verify(slot: number, anchorHash: Uint8Array, y: Uint8Array, proof: Uint8Array): Promise<boolean> {
    if (!this.get(slot, anchorHash) && (await this.receive(slot, anchorHash, y, proof))) return true;
    const known = this.get(slot, anchorHash);
    // y is unique for (x, T): any other y is wrong. The proof is unique too in practice (Wesolowski
    // over a group of unknown order), but a second encoding is checked rather than assumed.
    if (!known || !bytesEqual(known.y, y)) return false;
    if (bytesEqual(known.proof, proof)) return true;
    return this.o.vdf.vdfVerify(beaconInput(this.o.chainId, slot, anchorHash), y, proof, this.o.vdfDelay);
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.evaluating?.abort.abort();
  }

  private prune(current: number): void {
    for (const [k, e] of this.entries) {
      const slot = Number(k.split(':')[0]);
      if (slot < current - this.keepSlots || slot > current + this.keepSlots) {
        e.evaluating?.abort.abort();
        this.entries.delete(k);
      }
    }
  }
}

function key(slot: number, anchorHash: Uint8Array): string {
  return `${slot}:${toHex(anchorHash)}`;
}
