import type { SignatureVerifier } from '../crypto/signature-verifier.js';
import { toHex } from '../encoding/bytes.js';
import { type Block, encodeBlock } from '../protocol/block.js';
import { headerSigMessage } from '../protocol/signing.js';
import type { DoubleSignEvidence, DoubleSignStore } from '../storage/double-sign-store.js';

export interface DoubleSignDetectorDeps {
  readonly verifier: SignatureVerifier;
  readonly store: DoubleSignStore;
  readonly now: () => number;
  /** New evidence, stored: log it and score the producer. */
  readonly onEvidence: (e: DoubleSignEvidence, producer: Uint8Array) => void;
}

/**
 * Headers remembered per (producer, slot); forged ones are dropped once checked, so they cannot
 * crowd out the real pair. Also what a double-signer can make us hold: signing more headers for
 * one slot costs it nothing.
 */
export const MAX_PER_KEY = 4;
/** Slots behind the newest seen after which headers are forgotten (evidence stays in the store). */
export const SLOT_HORIZON = 256;
/**
 * Most (producer, slot) keys held at once, whatever the slots: headers cost nothing to send, and
 * within the horizon an attacker could otherwise add keys without end (fresh producer keys, or
 * real ones with forged signatures, which are checked only when a rival arrives). Beyond it the
 * lowest slots go first, then the oldest arrivals: a flood can cost us the first header of a real
 * double-signer (no evidence), never memory. ≤ MAX_PER_KEY headers of ~400 bytes each.
 */
export const MAX_KEYS = 4_096;

interface Seen {
  readonly hash: string;
  /** Header fields ‖ signature: what the evidence keeps (not the body, so memory stays small). */
  readonly signed: Uint8Array;
  readonly producer: Uint8Array;
  readonly signature: Uint8Array;
  /** Producer signature checked: undefined until a rival makes it worth a verification. */
  valid?: boolean;
}

/**
 * Watches every block header that reaches the pipeline (gossip, sync, ours) for two different
 * headers of one slot signed by one producer. Signatures are verified only when a second header
 * for the same (producer, slot) arrives, so honest traffic costs a map lookup per block; a header
 * with a bad signature proves nothing about its claimed producer and is never evidence. Evidence
 * is stored once per (producer, slot). Validity of the blocks themselves is fork choice's and
 * validation's business: both blocks may be perfectly valid, which is the point.
 */
export class DoubleSignDetector {
  private readonly seen = new Map<string, Seen[]>();
  private newestSlot = 0;

  constructor(private readonly d: DoubleSignDetectorDeps) {}

  /** Headers held in memory now (bounded by MAX_PER_KEY per key and the slot horizon). */
  get remembered(): number {
    let n = 0;
    for (const list of this.seen.values()) n += list.length;
    return n;
  }

  async observe(block: Block, hash: Uint8Array): Promise<DoubleSignEvidence | undefined> {
    const h = block.header;
    if (h.height === 0) return undefined;
    const key = `${toHex(h.producerPubkey)}:${h.slot}`;
    const id = toHex(hash);
    const list = this.seen.get(key) ?? [];
    if (list.some((s) => s.hash === id) || list.length >= MAX_PER_KEY) return undefined;
    const entry: Seen = {
      hash: id,
      signed: encodeBlock({ header: h, signature: block.signature, txs: [] }),
      producer: h.producerPubkey,
      signature: block.signature,
    };
    list.push(entry);
    this.seen.set(key, list);
    if (h.slot > this.newestSlot) {
      this.newestSlot = h.slot;
      if (this.seen.size > 2 * SLOT_HORIZON) this.prune();
    }
    if (this.seen.size > MAX_KEYS) this.evictLowestSlot(key);
    if (list.length < 2 || this.d.store.get(h.producerPubkey, h.slot)) return undefined;
    await Promise.all(list.map((s) => this.check(s)));
    // A header whose signature failed proves nothing: drop it, so forgeries of a producer's headers
    // cannot fill the MAX_PER_KEY places and keep its real second header out.
    const valid = list.filter((s) => s.valid === true);
    if (list.some((s) => s.valid === false)) {
      const kept = list.filter((s) => s.valid !== false);
      list.length = 0;
      list.push(...kept);
    }
    if (valid.length < 2) return undefined;
    const [a, b] = [valid[0]!, valid[1]!].sort((x, y) => (x.hash < y.hash ? -1 : 1)) as [Seen, Seen];
    const evidence: DoubleSignEvidence = {
      producer: toHex(h.producerPubkey),
      slot: h.slot,
      height: h.height,
      hashes: [a.hash, b.hash],
      headers: [toHex(a.signed), toHex(b.signed)],
      detectedAtMs: this.d.now(),
    };
    if (!this.d.store.record(h.producerPubkey, evidence)) return undefined;
    this.d.onEvidence(evidence, h.producerPubkey);
    return evidence;
  }

  private async check(s: Seen): Promise<void> {
    if (s.valid !== undefined) return;
    const [ok] = await this.d.verifier.verifyBatch([
      {
        publicKey: s.producer,
        message: headerSigMessage(Uint8Array.from(Buffer.from(s.hash, 'hex'))),
        signature: s.signature,
      },
    ]);
    s.valid = ok === true;
  }

  /** Drops one key of the lowest slot held (the oldest arrival among them), never `keep`. */
  private evictLowestSlot(keep: string): void {
    let victim: string | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    for (const k of this.seen.keys()) {
      const slot = Number(k.slice(k.indexOf(':') + 1));
      if (slot < lowest && k !== keep) {
        lowest = slot;
        victim = k;
      }
    }
    if (victim !== undefined) this.seen.delete(victim);
  }

  private prune(): void {
    for (const k of this.seen.keys()) {
      const slot = Number(k.slice(k.indexOf(':') + 1));
      if (slot < this.newestSlot - SLOT_HORIZON) this.seen.delete(k);
    }
  }
}
