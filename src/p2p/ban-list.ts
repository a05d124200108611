/** A ban of one node identity until a time (persisted by src/storage/peer-ban-store.ts). */
export interface BanRecord {
  readonly untilMs: number;
  readonly reason: string;
  readonly bannedAtMs: number;
}

/** Where the transport keeps bans; the LMDB store implements it, tests may use MemoryBanList. */
export interface BanList {
  /** The active ban of `pubkey` at `nowMs`, if any (expired bans read as none). */
  get(pubkey: Uint8Array, nowMs: number): BanRecord | undefined;
  ban(pubkey: Uint8Array, record: BanRecord): void;
}

/** In-memory BanList, for a transport run without a data directory. */
export class MemoryBanList implements BanList {
  private readonly bans = new Map<string, BanRecord>();

  get(pubkey: Uint8Array, nowMs: number): BanRecord | undefined {
    const key = Buffer.from(pubkey).toString('hex');
    const rec = this.bans.get(key);
    if (rec && rec.untilMs <= nowMs) {
      this.bans.delete(key);
      return undefined;
    }
    return rec;
  }

  ban(pubkey: Uint8Array, record: BanRecord): void {
    this.bans.set(Buffer.from(pubkey).toString('hex'), record);
  }
}
