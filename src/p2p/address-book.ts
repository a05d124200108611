import { createHash } from 'node:crypto';
import { connectionGroupOf, isPublicIp, normalizeIp } from './ip-address.js';

/** One dialable address and what we know about it. */
export interface BookEntry {
  /** IP literal (learned) or what the operator configured (may be a host name). */
  readonly host: string;
  readonly port: number;
  /** Configured (seeds, addPeer): kept forever and redialed whenever it drops. */
  readonly persistent: boolean;
  /** Key proven by a handshake on a connection WE dialed to this address. */
  verifiedKey: string | undefined;
  /** Key a peer list or an inbound peer claimed for it: a hint until a dial proves it. */
  claimedKey: string | undefined;
  /** Failed attempts since the last successful handshake. */
  attempts: number;
  lastSuccessMs: number;
  readonly bucket: number;
}

export interface AddressBookOptions {
  /** Per-node random secret: bucket placement an attacker cannot predict. */
  readonly secret: Uint8Array;
  /** Accept loopback and private addresses from peers (devnets, tests); never on a public network. */
  readonly acceptLocalAddresses: boolean;
  readonly newBuckets?: number;
  readonly bucketSize?: number;
  readonly maxVerified?: number;
  /**
   * Called with each entry the book drops (evicted from a bucket or past maxVerified, or replaced
   * by a configured entry for the same address): whoever keeps state per entry forgets it.
   */
  readonly onRemove?: (e: BookEntry) => void;
}

/**
 * Buckets one source network can write into: a single peer, its /24 or its IPv6 /48 (connectionGroupOf;
 * a /64 would give one /48 65,536 sources), fills at most 8 × 16 slots.
 */
const BUCKETS_PER_SOURCE_GROUP = 8;

/**
 * The address manager (after Bitcoin Core's addrman): where peers can be dialed, learned only from
 * answers to our own GetPeers and from inbound peers' claimed listen ports, never from unsolicited
 * messages. Learned addresses are IP literals only, public unless configured otherwise, placed into
 * a fixed number of small buckets chosen by a keyed hash of (source network, address network), so
 * one source can occupy a bounded share of the book and cannot evict what other sources told us.
 * A learned entry never changes the key of an address we already know; a claimed key or listen
 * port is believed only after our own dial completes a handshake with it (`verifiedKey`).
 */
export class AddressBook {
  private readonly entries = new Map<string, BookEntry>();
  private readonly buckets: Map<string, BookEntry>[];
  private readonly bucketSize: number;
  private readonly maxVerified: number;

  constructor(private readonly opts: AddressBookOptions) {
    this.buckets = Array.from({ length: opts.newBuckets ?? 64 }, () => new Map());
    this.bucketSize = opts.bucketSize ?? 16;
    this.maxVerified = opts.maxVerified ?? 256;
  }

  get size(): number {
    return this.entries.size;
  }

  all(): readonly BookEntry[] {
    return [...this.entries.values()];
  }

  get(host: string, port: number): BookEntry | undefined {
    return this.entries.get(`${host}|${port}`);
  }

  /** An address the operator configured (seed, addPeer): never evicted. */
  addConfigured(host: string, port: number): BookEntry {
    const id = `${normalizeIp(host) ?? host}|${port}`;
    const existing = this.entries.get(id);
    if (existing?.persistent) return existing;
    if (existing) this.remove(existing);
    const e: BookEntry = {
      host: normalizeIp(host) ?? host,
      port,
      persistent: true,
      verifiedKey: existing?.verifiedKey,
      claimedKey: existing?.claimedKey,
      attempts: 0,
      lastSuccessMs: 0,
      bucket: -1,
    };
    this.entries.set(id, e);
    return e;
  }

  /**
   * An address someone told us about (`sourceIp`: the peer that sent the list, or the inbound peer
   * claiming its own listen port). Returns the entry when it was added, undefined when refused or
   * already known (a known entry is left as it is).
   */
  addLearned(host: string, port: number, claimedKey: string, sourceIp: string): BookEntry | undefined {
    const ip = normalizeIp(host);
    if (ip === undefined || port < 1 || port > 65_535) return undefined;
    if (!this.opts.acceptLocalAddresses && !isPublicIp(ip)) return undefined;
    const id = `${ip}|${port}`;
    const known = this.entries.get(id);
    if (known) {
      known.claimedKey ??= known.verifiedKey === undefined ? claimedKey : undefined;
      return undefined;
    }
    const bucket = this.bucketOf(connectionGroupOf(sourceIp), connectionGroupOf(ip));
    const slots = this.buckets[bucket]!;
    if (slots.size >= this.bucketSize) {
      // The bucket's least promising entry makes room: never verified, most failures.
      const victim = [...slots.values()].sort(
        (a, b) =>
          Number(a.verifiedKey !== undefined) - Number(b.verifiedKey !== undefined) ||
          b.attempts - a.attempts,
      )[0]!;
      if (victim.verifiedKey !== undefined) return undefined;
      this.remove(victim);
    }
    const e: BookEntry = {
      host: ip,
      port,
      persistent: false,
      verifiedKey: undefined,
      claimedKey,
      attempts: 0,
      lastSuccessMs: 0,
      bucket,
    };
    this.entries.set(id, e);
    slots.set(id, e);
    return e;
  }

  /** Our dial to `e` completed a handshake with `key`: the address is proven to be that node's. */
  markConnected(e: BookEntry, key: string, nowMs: number): void {
    e.verifiedKey = key;
    e.claimedKey = undefined;
    e.attempts = 0;
    e.lastSuccessMs = nowMs;
    const verified = this.all().filter((x) => !x.persistent && x.verifiedKey !== undefined);
    if (verified.length > this.maxVerified) {
      this.remove(verified.sort((a, b) => a.lastSuccessMs - b.lastSuccessMs)[0]!);
    }
  }

  markFailed(e: BookEntry): void {
    e.attempts++;
  }

  /** The best address for a node key: one our dial proved, else one somebody claimed. */
  addressOf(key: string): BookEntry | undefined {
    let claimed: BookEntry | undefined;
    for (const e of this.entries.values()) {
      if (e.verifiedKey === key) return e;
      if (e.claimedKey === key && (claimed === undefined || e.attempts < claimed.attempts)) claimed = e;
    }
    return claimed;
  }

  /** Learned (not configured) entries worth a dial, fewest failures first. */
  candidates(): BookEntry[] {
    return this.all()
      .filter((e) => !e.persistent)
      .sort((a, b) => a.attempts - b.attempts || b.lastSuccessMs - a.lastSuccessMs);
  }

  /** Addresses we may tell others about: proven by our own dials only. */
  verified(limit: number): BookEntry[] {
    return this.all()
      .filter((e) => e.verifiedKey !== undefined && normalizeIp(e.host) !== undefined)
      .sort((a, b) => b.lastSuccessMs - a.lastSuccessMs)
      .slice(0, limit);
  }

  private remove(e: BookEntry): void {
    const id = `${e.host}|${e.port}`;
    this.entries.delete(id);
    if (e.bucket >= 0) this.buckets[e.bucket]!.delete(id);
    this.opts.onRemove?.(e);
  }

  private bucketOf(sourceGroup: string, addrGroup: string): number {
    const h = (...parts: string[]) => {
      const d = createHash('sha256').update(this.opts.secret);
      for (const p of parts) d.update(p).update('\0');
      return d.digest().readUInt32LE(0);
    };
    const slot = h('addr', addrGroup) % BUCKETS_PER_SOURCE_GROUP;
    return h('source', sourceGroup, String(slot)) % this.buckets.length;
  }
}
