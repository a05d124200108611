import { type Database, open, type RootDatabase } from 'lmdb';
import { type BanList, type BanRecord, DEFAULT_MAX_BANS } from '../p2p/ban-list.js';
import { readOrAbsent } from './read-or-absent.js';

/** Name of the named database holding bans (DESIGN §8 "peers/bans"). */
export const PEER_BANS_DB = 'peer-bans';

function isBanRecord(v: unknown): v is BanRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r['untilMs'] === 'number' && typeof r['bannedAtMs'] === 'number' && typeof r['reason'] === 'string'
  );
}

/**
 * Bans of peer identities (32-byte Ed25519 public key) and IPs (16 bytes, ip-address.ts ipKeyBytes:
 * an IPv4 address as ::ffff:a.b.c.d, an IPv6 /64 with its low 64 bits zero) → until, reason;
 * persisted in LMDB so a restart does not forgive a misbehaving peer. One IPv6 ban covers the /64,
 * whose addresses one host can switch between freely; bans earlier versions wrote under a whole IPv6
 * address are still looked up (ipBanKeys) and refuse that address until they expire.
 * Expired bans read as absent, are deleted when read and by prune(); at most `maxEntries` are kept
 * (the one that expires soonest makes room). A record that does not parse (foreign or corrupted
 * data) reads as no ban rather than crashing the node.
 */
export class PeerBanStore implements BanList {
  private readonly db: Database<BanRecord, Buffer>;
  private readonly ownEnv: RootDatabase | undefined;

  /** Uses `root`'s environment (the node's data env) or, given a path, opens its own. */
  constructor(
    rootOrPath: RootDatabase | string,
    private readonly maxEntries = DEFAULT_MAX_BANS,
  ) {
    if (typeof rootOrPath === 'string') {
      this.ownEnv = open({ path: rootOrPath, maxDbs: 4 });
      rootOrPath = this.ownEnv;
    }
    // The value encoding is explicit: a named database inherits its environment's, and the node's
    // data env is binary (src/storage/databases.ts), where every put of a record threw — so no
    // ban was ever recorded, and the peer was never disconnected (P2pNode.banKey writes first).
    this.db = rootOrPath.openDB<BanRecord, Buffer>({
      name: PEER_BANS_DB,
      keyEncoding: 'binary',
      encoding: 'msgpack',
    });
  }

  get(pubkey: Uint8Array, nowMs: number): BanRecord | undefined {
    const key = Buffer.from(pubkey);
    if (!this.db.doesExist(key)) return undefined;
    const rec = readOrAbsent(this.db, key);
    if (!isBanRecord(rec) || rec.untilMs <= nowMs) {
      this.db.removeSync(key);
      return undefined;
    }
    return rec;
  }

  /** Written synchronously: a ban must survive a crash right after it is decided. */
  ban(pubkey: Uint8Array, record: BanRecord): void {
    const key = Buffer.from(pubkey);
    if (!this.db.doesExist(key) && this.db.getCount() >= this.maxEntries) {
      this.prune(record.bannedAtMs);
      if (this.db.getCount() >= this.maxEntries) this.evictSoonest();
    }
    this.db.putSync(key, {
      untilMs: record.untilMs,
      reason: record.reason,
      bannedAtMs: record.bannedAtMs,
    });
  }

  unban(pubkey: Uint8Array): boolean {
    return this.db.removeSync(Buffer.from(pubkey));
  }

  /** Active bans at `nowMs`, by hex key: a node's public key or an IP subject's 16 bytes (for operators and getpeerinfo). */
  list(nowMs: number): { pubkey: string; record: BanRecord }[] {
    const out: { pubkey: string; record: BanRecord }[] = [];
    for (const key of this.db.getKeys()) {
      const value = readOrAbsent(this.db, key);
      if (isBanRecord(value) && value.untilMs > nowMs)
        out.push({ pubkey: key.toString('hex'), record: value });
    }
    return out;
  }

  /** Deletes expired bans; returns how many. */
  prune(nowMs: number): number {
    let n = 0;
    for (const key of this.db.getKeys()) {
      const value = readOrAbsent(this.db, key);
      if (!isBanRecord(value) || value.untilMs <= nowMs) {
        this.db.removeSync(key);
        n++;
      }
    }
    return n;
  }

  private evictSoonest(): void {
    let soonest: Buffer | undefined;
    let until = Number.POSITIVE_INFINITY;
    for (const key of this.db.getKeys()) {
      const value = readOrAbsent(this.db, key);
      const u = isBanRecord(value) ? value.untilMs : Number.NEGATIVE_INFINITY;
      // `soonest === undefined`: when every ban is permanent (untilMs = Infinity) one still goes.
      if (soonest === undefined || u < until) [soonest, until] = [key, u];
    }
    if (soonest) this.db.removeSync(soonest);
  }

  /** Closes the environment if this store opened it. */
  async close(): Promise<void> {
    await this.ownEnv?.close();
  }
}
