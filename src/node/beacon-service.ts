import { beaconInput } from '../beacon/beacon-input.js';
import type { SlotBeacon, VerifiedBeacons } from '../beacon/verified-beacons.js';
import { toHex } from '../encoding/bytes.js';
import type { VdfOutput } from '../vdf/vdf.js';
import { BeaconFailureBudget } from './beacon-failure-budget.js';

/** What the beacon service needs from the crypto pool to evaluate. */
export interface VdfEvaluator {
  vdfEvaluate(x: Uint8Array, t: number, opts?: { signal?: AbortSignal }): Promise<VdfOutput>;
  vdfProve(x: Uint8Array, output: VdfOutput): Promise<Uint8Array>;
}

export interface BeaconServiceOptions {
  readonly chainId: number;
  readonly vdfDelay: number;
  readonly vdf: VdfEvaluator;
  /** Verification and the cache of verified beacons, shared with block validation. */
  readonly verified: VerifiedBeacons;
  readonly now: () => number;
  /** A beacon this node evaluated (not one it received): gossip it. */
  readonly onEvaluated: (b: SlotBeacon) => void;
  /**
   * Evaluations shorter than this many squarings are never cancelled: stopping one terminates a
   * pool worker, and starting its replacement (a thread, the WASM module) costs more than a short
   * evaluation finishing. Default 10,000,000 (seconds of work); devnet's 2^12 always finishes.
   */
  readonly cancelAboveSquarings?: number;
}

interface Evaluation {
  readonly promise: Promise<SlotBeacon | undefined>;
  readonly abort: AbortController;
  readonly startedMs: number;
  readonly slot: number;
}

/**
 * The VDF beacon of each coming slot (DESIGN §6). For slot s the anchor is the newest block of our
 * chain with slot < s − 1 and x = HashToGroup(TIME:beacon:1 ‖ chain id ‖ s ‖ anchor hash); the node
 * evaluates y = x^(2^T) in the worker pool as soon as it knows the anchor (a full slot ahead), proves
 * it on all workers and gossips (s, y, π). A beacon received from a peer is verified (the shared
 * `VerifiedBeacons`: milliseconds, and a second y for a verified (slot, anchor) is refused without
 * running the VDF) and cancels the local evaluation — aborting a pool task terminates that worker,
 * the only way to stop a WASM loop; piscina replaces it.
 *
 * Beacons are keyed by (slot, anchor): after a reorg the anchor of a slot may change and the beacon
 * is derived again; after a restart nothing is assumed, each is evaluated or received again.
 */
export class BeaconService {
  private readonly evaluations = new Map<string, Evaluation>();
  private readonly failures = new BeaconFailureBudget();
  private closed = false;

  constructor(private readonly o: BeaconServiceOptions) {}

  /** The verified beacon of (slot, anchor), if this node has it. */
  get(slot: number, anchorHash: Uint8Array): SlotBeacon | undefined {
    return this.o.verified.known(slot, anchorHash);
  }

  /**
   * The evaluation running longest, for metrics: its slot and how long it has run. The map keeps
   * insertion order, which is start order, so the first entry is the oldest.
   */
  progress(): { slot: number; runningMs: number } | undefined {
    const oldest: Evaluation | undefined = this.evaluations.values().next().value;
    return oldest && { slot: oldest.slot, runningMs: this.o.now() - oldest.startedMs };
  }

  /**
   * The beacon of (slot, anchor): known, being evaluated, or evaluated now. An evaluation cancelled
   * because a peer's beacon arrived first resolves that beacon; undefined once the service is
   * closed. A failed evaluation rejects.
   */
  ensure(slot: number, anchorHash: Uint8Array): Promise<SlotBeacon | undefined> {
    const known = this.get(slot, anchorHash);
    if (known) return Promise.resolve(known);
    const k = key(slot, anchorHash);
    const running = this.evaluations.get(k);
    if (running) return running.promise;
    if (this.closed) return Promise.resolve(undefined);
    const abort = new AbortController();
    const x = beaconInput(this.o.chainId, slot, anchorHash);
    const promise = (async (): Promise<SlotBeacon | undefined> => {
      try {
        const output = await this.o.vdf.vdfEvaluate(x, this.o.vdfDelay, { signal: abort.signal });
        const proof = await this.o.vdf.vdfProve(x, output);
        const earlier = this.get(slot, anchorHash);
        if (earlier) return earlier; // a peer's arrived while we proved
        const beacon: SlotBeacon = { slot, anchorHash, y: output.y, proof };
        this.o.verified.remember(beacon);
        this.o.onEvaluated(beacon);
        return beacon;
      } catch (err) {
        if (abort.signal.aborted || this.closed) return this.get(slot, anchorHash);
        throw err;
      } finally {
        if (this.evaluations.get(k)?.abort === abort) this.evaluations.delete(k);
      }
    })();
    this.evaluations.set(k, { promise, abort, startedMs: this.o.now(), slot });
    return promise;
  }

  /**
   * A peer's beacon for `slot`, checked against OUR anchor of that slot. True when it is new and
   * valid (relay it); false when invalid for our anchor, already known, or from a peer (`from`)
   * whose beacons for this slot failed too often here to be verified again (BeaconFailureBudget). A
   * valid one stops our own evaluation of that (slot, anchor).
   */
  async receive(
    slot: number,
    anchorHash: Uint8Array,
    y: Uint8Array,
    proof: Uint8Array,
    from: string,
  ): Promise<boolean> {
    if (this.get(slot, anchorHash)) return false;
    if (!this.failures.allows(slot, from)) return false;
    // Counted before the verifier runs and taken back if valid: counted after, a burst of one
    // peer's garbage beacons all passed `allows` while the first was in the pool (10 of 10
    // verified against a budget of 2).
    this.failures.failed(slot, from);
    const ok = await this.o.verified.verify({ slot, anchorHash, y, proof });
    if (!ok) return false;
    this.failures.forgive(slot, from);
    this.cancel(key(slot, anchorHash));
    return true;
  }

  /** Stops a running evaluation whose result is no longer needed, when it is long enough to be worth it. */
  private cancel(k: string): void {
    const e = this.evaluations.get(k);
    if (!e || this.o.vdfDelay < (this.o.cancelAboveSquarings ?? 10_000_000)) return;
    e.abort.abort();
    this.evaluations.delete(k);
  }

  close(): void {
    this.closed = true;
    for (const e of this.evaluations.values()) e.abort.abort();
    this.evaluations.clear();
  }
}

function key(slot: number, anchorHash: Uint8Array): string {
  return `${slot}:${toHex(anchorHash)}`;
}
