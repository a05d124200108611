import type { Database, RootDatabase } from 'lmdb';
import { readOrAbsent } from './read-or-absent.js';

/** Name of the named database holding double-sign evidence (docs/architecture.md § Storage). */
export const DOUBLE_SIGN_DB = 'double-sign-evidence';

/** At most this many records are kept; the oldest slot makes room (evidence is for operators). */
export const DEFAULT_MAX_EVIDENCE = 4_096;

/**
 * Proof that one producer signed two different headers for one slot: both headers with their
 * signatures, as `header fields ‖ signature` bytes (decodeBlockHeader reads them back), so anyone
 * can re-check the proof without trusting this node.
 */
export interface DoubleSignEvidence {
  /** Producer's Ed25519 public key, hex. */
  readonly producer: string;
  readonly slot: number;
  readonly height: number;
  /** The two header hashes, hex, in ascending order. */
  readonly hashes: readonly [string, string];
  /** The two signed headers (header fields ‖ 64-byte signature), hex, in the order of `hashes`. */
  readonly headers: readonly [string, string];
  /** When this node first held both (unix ms, its own clock). */
  readonly detectedAtMs: number;
}

function isEvidence(v: unknown): v is DoubleSignEvidence {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const pair = (x: unknown) => Array.isArray(x) && x.length === 2 && x.every((s) => typeof s === 'string');
  return (
    typeof r['producer'] === 'string' &&
    typeof r['slot'] === 'number' &&
    typeof r['height'] === 'number' &&
    typeof r['detectedAtMs'] === 'number' &&
    pair(r['hashes']) &&
    pair(r['headers'])
  );
}

/** Key: producer pubkey (32 B) ‖ slot (u64 BE): one record per producer and slot, in slot order. */
function keyOf(producer: Uint8Array, slot: number): Buffer {
  const k = Buffer.alloc(40);
  k.set(producer, 0);
  k.writeBigUInt64BE(BigInt(slot), 32);
  return k;
}

/**
 * Double-sign evidence by producer and slot, in the node's LMDB environment (like the peer bans):
 * written synchronously, since it is what an operator or a later slashing rule will ask for after
 * a crash. A record that does not parse reads as absent rather than crashing the node.
 */
export class DoubleSignStore {
  private readonly db: Database<DoubleSignEvidence, Buffer>;

  constructor(
    root: RootDatabase,
    private readonly maxEntries = DEFAULT_MAX_EVIDENCE,
  ) {
    // Structured values (msgpack): the environment's default is raw bytes.
    this.db = root.openDB<DoubleSignEvidence, Buffer>({
      name: DOUBLE_SIGN_DB,
      keyEncoding: 'binary',
      encoding: 'msgpack',
    });
  }

  get(producer: Uint8Array, slot: number): DoubleSignEvidence | undefined {
    const v = readOrAbsent(this.db, keyOf(producer, slot));
    return isEvidence(v) ? v : undefined;
  }

  /** Stores the evidence unless some is held for that producer and slot; true when stored. */
  record(producer: Uint8Array, e: DoubleSignEvidence): boolean {
    const key = keyOf(producer, e.slot);
    if (this.db.doesExist(key)) return false;
    if (this.db.getCount() >= this.maxEntries) this.evictOldest();
    this.db.putSync(key, e);
    return true;
  }

  /** Every record (of one producer when given), oldest slot first within a producer, at most `limit`. */
  list(producer?: Uint8Array, limit = 1_000): DoubleSignEvidence[] {
    const out: DoubleSignEvidence[] = [];
    const range = producer
      ? { start: keyOf(producer, 0), end: keyOf(producer, Number.MAX_SAFE_INTEGER) }
      : {};
    for (const key of this.db.getKeys(range)) {
      const value = readOrAbsent(this.db, key);
      if (isEvidence(value)) out.push(value);
      if (out.length >= limit) break;
    }
    return out;
  }

  get count(): number {
    return this.db.getCount();
  }

  private evictOldest(): void {
    let oldest: Buffer | undefined;
    let slot = Number.POSITIVE_INFINITY;
    for (const key of this.db.getKeys()) {
      const value = readOrAbsent(this.db, key);
      const s = isEvidence(value) ? value.slot : Number.NEGATIVE_INFINITY;
      if (s < slot) [oldest, slot] = [key, s];
    }
    if (oldest) this.db.removeSync(oldest);
  }
}
