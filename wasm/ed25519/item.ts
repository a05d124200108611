// Per-signature working state, in a static array of MAX_ITEMS slots: the decoded points' tables,
// the challenge scalar and the batch scalars. Preparing an item once lets batch verification and
// its per-item fallback share the expensive parts (two point decompressions and a SHA-512).
import { sha512Final, sha512Init, sha512Update } from '../sha2/sha512';
import { POINT, p1p1ToP3, p2Double, p3AddCached, p3Decode, p3ToCached } from './point';
import { scIsCanonical, scMulAdd, scReduce64, scSlide } from './scalar';

/** Items prepared at once; longer batches are verified in chunks of this many. */
export const MAX_ITEMS: i32 = 128;
/** Window of the signed digits for variable points: tables of 8 odd multiples. */
export const VAR_WINDOW: i32 = 5;
export const TABLE_ENTRIES: i32 = 1 << (VAR_WINDOW - 2);
const TABLE_BYTES: usize = usize(TABLE_ENTRIES) * POINT;

// Slot layout (offsets within one item slot).
export const NEG_A_TABLE: usize = 0; // (2j+1)(-A), CACHED
export const NEG_R_TABLE: usize = NEG_A_TABLE + TABLE_BYTES; // (2j+1)(-R), CACHED (entry 0 always)
export const A_DIGITS: usize = NEG_R_TABLE + TABLE_BYTES; // digits of z k (batch) or k (single)
export const R_DIGITS: usize = A_DIGITS + 256; // digits of z (batch)
export const K: usize = R_DIGITS + 256; // k = SHA-512(R || A || M) mod L
export const S: usize = K + 32;
export const Z: usize = S + 32; // the batch's random 128-bit coefficient, zero-extended
export const ZK: usize = Z + 32; // z k mod L
export const STATUS: usize = ZK + 32;
const SLOT: usize = (STATUS + 8 + 7) & ~7;

/** Item status. */
export const PENDING: u8 = 0;
export const VALID: u8 = 1;
export const INVALID: u8 = 2;

const SLOTS = memory.data(i32(SLOT) * MAX_ITEMS, 8);
const POINT_TMP = memory.data(i32(POINT), 8);
const TWO_P = memory.data(i32(POINT), 8);
const TWO_P_CACHED = memory.data(i32(POINT), 8);
const SUM = memory.data(i32(POINT), 8);
const HASH = memory.data(64, 8);
const ZERO32 = memory.data(32, 8);

export function slot(i: i32): usize {
  return SLOTS + usize(i) * SLOT;
}

/** Fills table[0..entries) with the odd multiples of p (P3), as CACHED points. Clobbers p. */
function buildTable(table: usize, p: usize, entries: i32): void {
  p3ToCached(table, p);
  if (entries === 1) return;
  p2Double(SUM, p);
  p1p1ToP3(TWO_P, SUM);
  p3ToCached(TWO_P_CACHED, TWO_P);
  for (let j = 1; j < entries; j++) {
    p3AddCached(SUM, p, TWO_P_CACHED);
    p1p1ToP3(p, SUM);
    p3ToCached(table + usize(j) * POINT, p);
  }
}

/**
 * Decodes and hashes one signature into slot i. Returns false (status INVALID) when S >= L or A
 * or R is not a curve point; `withRTable` builds all of -R's table (batch) rather than -R alone.
 */
export function prepareItem(
  i: i32,
  pub: usize,
  sig: usize,
  msg: usize,
  msgLen: usize,
  withRTable: bool,
): bool {
  const s = slot(i);
  store<u8>(s + STATUS, INVALID);
  if (!scIsCanonical(sig + 32)) return false;
  if (!p3Decode(POINT_TMP, pub, true)) return false;
  buildTable(s + NEG_A_TABLE, POINT_TMP, TABLE_ENTRIES);
  if (!p3Decode(POINT_TMP, sig, true)) return false;
  buildTable(s + NEG_R_TABLE, POINT_TMP, withRTable ? TABLE_ENTRIES : 1);
  memory.copy(s + S, sig + 32, 32);
  // k = SHA-512(R || A || M) over the bytes as received (ZIP-215: never re-encoded points).
  sha512Init();
  sha512Update(sig, 32);
  sha512Update(pub, 32);
  sha512Update(msg, msgLen);
  sha512Final(HASH);
  scReduce64(s + K, HASH);
  store<u8>(s + STATUS, PENDING);
  return true;
}

/** Sets slot i's batch coefficient z (16 random bytes) and the digits the batch equation uses. */
export function setBatchCoefficient(i: i32, z16: usize): void {
  const s = slot(i);
  memory.fill(s + Z, 0, 32);
  memory.copy(s + Z, z16, 16);
  // A zero coefficient would drop the item from the equation; force the low bit instead.
  store<u8>(s + Z, load<u8>(s + Z) | 1);
  scMulAdd(s + ZK, s + Z, s + K, ZERO32);
  scSlide(s + A_DIGITS, s + ZK, VAR_WINDOW);
  scSlide(s + R_DIGITS, s + Z, VAR_WINDOW);
}
