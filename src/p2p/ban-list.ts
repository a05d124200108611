/** A ban of one subject until a time (persisted by src/storage/peer-ban-store.ts). */
export interface BanRecord {
  readonly untilMs: number;
  readonly reason: string;
  readonly bannedAtMs: number;
}

/**
 * Most bans kept; beyond it the ban that expires soonest makes room (src/storage and memory alike),
 * the oldest of equals first, so permanent bans (untilMs = Infinity) cannot outgrow it either.
 */
export const DEFAULT_MAX_BANS = 10_000;

/**
 * Where the transport keeps bans. A subject is a byte key: a 32-byte node public key, or the
 * 16-byte key of an IP subject (ip-address.ts ipKeyBytes: an IPv4 address as ::ffff:a.b.c.d, an
 * IPv6 /64 with its low 64 bits zero; ipBanKeys adds the whole IPv6 address, under which earlier
 * versions wrote bans). The LMDB store implements it, tests may use MemoryBanList.
 */
export interface BanList {
  /** The active ban of `key` at `nowMs`, if any (expired bans read as none). */
  get(key: Uint8Array, nowMs: number): BanRecord | undefined;
  ban(key: Uint8Array, record: BanRecord): void;
  /** Deletes expired bans; returns how many. */
  prune(nowMs: number): number;
}

/** In-memory BanList, for a transport run without a data directory. */
export class MemoryBanList implements BanList {
  private readonly bans = new Map<string, BanRecord>();

  constructor(private readonly maxEntries = DEFAULT_MAX_BANS) {}

  get size(): number {
    return this.bans.size;
  }

  get(key: Uint8Array, nowMs: number): BanRecord | undefined {
    const id = Buffer.from(key).toString('hex');
    const rec = this.bans.get(id);
    if (rec && rec.untilMs <= nowMs) {
      this.bans.delete(id);
      return undefined;
    }
    return rec;
  }

  ban(key: Uint8Array, record: BanRecord): void {
    const id = Buffer.from(key).toString('hex');
    if (!this.bans.has(id) && this.bans.size >= this.maxEntries) {
      this.prune(record.bannedAtMs);
      if (this.bans.size >= this.maxEntries) {
        let soonest: string | undefined;
        let until = Number.POSITIVE_INFINITY;
        // `soonest === undefined`: when every ban is permanent (untilMs = Infinity) one still goes.
        for (const [k, r] of this.bans)
          if (soonest === undefined || r.untilMs < until) [soonest, until] = [k, r.untilMs];
        if (soonest !== undefined) this.bans.delete(soonest);
      }
    }
    this.bans.set(id, record);
  }

  prune(nowMs: number): number {
    let n = 0;
    for (const [k, r] of this.bans) {
      if (r.untilMs <= nowMs) {
        this.bans.delete(k);
        n++;
      }
    }
    return n;
  }
}
