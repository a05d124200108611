// Ed25519 verification under ZIP-215: S < L, A and R decoded with non-canonical encodings allowed,
// and the cofactored equation [8]([S]B - [k]A - R) = 0. Batches check one random linear
// combination, sum z_i [8]([S_i]B - [k_i]A_i - R_i) = 0, as a single multi-scalar multiplication
// (Straus: one shared chain of doublings, each point added from its own window-5 table, B from
// the window-8 table); if a batch fails it is split in halves until every item has its own answer
// (see settleFailed for the bound on a hostile batch's cost).
import { BASE_TABLE, BASE_WINDOW, ensureBaseTable } from './base-table';
import {
  A_DIGITS,
  INVALID,
  K,
  MAX_ITEMS,
  NEG_A_TABLE,
  NEG_R_TABLE,
  prepareItem,
  R_DIGITS,
  S,
  STATUS,
  setBatchCoefficient,
  slot,
  VALID,
  VAR_WINDOW,
  Z,
} from './item';
import {
  POINT,
  PRECOMP,
  p1p1ToP2,
  p1p1ToP3,
  p2Double,
  p2IsIdentity,
  p3AddCached,
  p3AddPrecomp,
  p3Identity,
  p3SubCached,
  p3SubPrecomp,
} from './point';
import { scMulAdd, scSlide } from './scalar';

const ACC = memory.data(i32(POINT), 8); // P1P1 accumulator
const R2 = memory.data(i32(POINT), 8); // P2/P3 running point
const B_DIGITS = memory.data(256, 8);
const A_TMP_DIGITS = memory.data(256, 8);
const SUM_S = memory.data(32, 8);
const SUM_S2 = memory.data(32, 8);
const IDX = memory.data(4 * MAX_ITEMS, 8);

/** ACC (P1P1) += digit * table point (variable-point CACHED table). */
function addCachedDigit(table: usize, digit: i32): void {
  p1p1ToP3(R2, ACC);
  if (digit > 0) p3AddCached(ACC, R2, table + usize(digit >> 1) * POINT);
  else p3SubCached(ACC, R2, table + usize(-digit >> 1) * POINT);
}

function addBaseDigit(digit: i32): void {
  p1p1ToP3(R2, ACC);
  if (digit > 0) p3AddPrecomp(ACC, R2, BASE_TABLE + usize(digit >> 1) * PRECOMP);
  else p3SubPrecomp(ACC, R2, BASE_TABLE + usize(-digit >> 1) * PRECOMP);
}

/** R2 (P2) = [8] R2, then true when it is the identity. */
function cofactorIsIdentity(): bool {
  for (let i = 0; i < 3; i++) {
    p2Double(ACC, R2);
    p1p1ToP2(R2, ACC);
  }
  return p2IsIdentity(R2);
}

/** Checks one prepared item alone: [8]([S]B + [k](-A) + (-R)) = 0. */
function verifyPrepared(i: i32): bool {
  const s = slot(i);
  scSlide(A_TMP_DIGITS, s + K, VAR_WINDOW);
  scSlide(B_DIGITS, s + S, BASE_WINDOW);
  let top = 255;
  while (top >= 0 && load<i8>(A_TMP_DIGITS + top) === 0 && load<i8>(B_DIGITS + top) === 0) top--;
  p3Identity(R2);
  // ACC must hold a P1P1 even when both scalars are 0 and the loop does not run: 2 * identity.
  p2Double(ACC, R2);
  for (let j = top; j >= 0; j--) {
    p2Double(ACC, R2);
    const a: i32 = load<i8>(A_TMP_DIGITS + j);
    const b: i32 = load<i8>(B_DIGITS + j);
    if (a !== 0) addCachedDigit(s + NEG_A_TABLE, a);
    if (b !== 0) addBaseDigit(b);
    p1p1ToP2(R2, ACC);
  }
  p1p1ToP3(R2, ACC);
  p3AddCached(ACC, R2, s + NEG_R_TABLE);
  p1p1ToP2(R2, ACC);
  return cofactorIsIdentity();
}

/** Checks the random linear combination of the `n` items listed in IDX[from..from+n). */
function batchEquationHolds(from: i32, n: i32): bool {
  batchChecks++;
  memory.fill(SUM_S, 0, 32);
  for (let t = 0; t < n; t++) {
    const s = slot(load<i32>(IDX + ((from + t) << 2)));
    scMulAdd(SUM_S2, s + Z, s + S, SUM_S);
    memory.copy(SUM_S, SUM_S2, 32);
  }
  scSlide(B_DIGITS, SUM_S, BASE_WINDOW);
  p3Identity(R2);
  for (let j = 255; j >= 0; j--) {
    p2Double(ACC, R2);
    for (let t = 0; t < n; t++) {
      const s = slot(load<i32>(IDX + ((from + t) << 2)));
      const a: i32 = load<i8>(s + A_DIGITS + j);
      if (a !== 0) addCachedDigit(s + NEG_A_TABLE, a);
      const r: i32 = load<i8>(s + R_DIGITS + j);
      if (r !== 0) addCachedDigit(s + NEG_R_TABLE, r);
    }
    const b: i32 = load<i8>(B_DIGITS + j);
    if (b !== 0) addBaseDigit(b);
    p1p1ToP2(R2, ACC);
  }
  return cofactorIsIdentity();
}

/** Sets this small, checking each item alone is cheaper than another batch check. */
const SINGLES_AT_MOST: i32 = 2;

// What the last ed25519VerifyBatch did, so tests can tell a batch that passed its one equation
// from one that silently fell back to single verification (both give the same answers).
let batchChecks: u32 = 0;
let singleChecks: u32 = 0;

/** Batch-equation checks made by the last ed25519VerifyBatch call. */
export function ed25519BatchChecks(): u32 {
  return batchChecks;
}

/** Single-equation checks made by the last ed25519VerifyBatch call. */
export function ed25519SingleChecks(): u32 {
  return singleChecks;
}

function verifyEach(from: i32, n: i32): void {
  singleChecks += u32(n);
  for (let t = 0; t < n; t++) {
    const i = load<i32>(IDX + ((from + t) << 2));
    store<u8>(slot(i) + STATUS, verifyPrepared(i) ? VALID : INVALID);
  }
}

function markValid(from: i32, n: i32): void {
  for (let t = 0; t < n; t++) store<u8>(slot(load<i32>(IDX + ((from + t) << 2))) + STATUS, VALID);
}

/** Settles items whose status is unknown: one batch check, and the fallback only if it fails. */
function settle(from: i32, n: i32): void {
  if (n === 0) return;
  if (n <= SINGLES_AT_MOST) verifyEach(from, n);
  else if (batchEquationHolds(from, n)) markValid(from, n);
  else settleFailed(from, n);
}

/**
 * Settles a set known to hold an invalid item. Halve it: when the first half passes, the second
 * must fail and needs no check of its own; when both halves fail there are several bad items, and
 * checking each one alone caps a hostile batch (measured, 64 items all bad) at about 1.6x the
 * cost of single verification, while a lone bad signature among 64 costs about 10 shrinking
 * checks and 2 single ones: about 2x the all-valid batch, still no more than single verification.
 */
function settleFailed(from: i32, n: i32): void {
  if (n <= SINGLES_AT_MOST) {
    verifyEach(from, n);
    return;
  }
  const half = n >> 1;
  if (batchEquationHolds(from, half)) {
    markValid(from, half);
    settleFailed(from + half, n - half);
  } else if (batchEquationHolds(from + half, n - half)) {
    markValid(from + half, n - half);
    settleFailed(from, half);
  } else {
    verifyEach(from, n);
  }
}

/** Verifies one signature (pub 32 bytes, sig 64 bytes, msg msgLen bytes); returns 1 or 0. */
export function ed25519Verify(pub: usize, sig: usize, msg: usize, msgLen: usize): u32 {
  ensureBaseTable();
  if (!prepareItem(0, pub, sig, msg, msgLen, false)) return 0;
  return verifyPrepared(0) ? 1 : 0;
}

const MALFORMED: u32 = 0xffff_ffff;

/**
 * Verifies an encoded batch (src/crypto/signature-batch-codec.ts layout) at `batch`, using 16
 * random bytes per item at `rand`, and writes one byte (1 valid, 0 invalid) per item to `out`.
 */
export function ed25519VerifyBatch(batch: usize, rand: usize, out: usize): void {
  ensureBaseTable();
  batchChecks = 0;
  singleChecks = 0;
  const count = i32(load<u32>(batch));
  const lengths = batch + 4;
  const pairs = lengths + usize(count) * 4;
  let msg = pairs + usize(count) * 96;
  for (let start = 0; start < count; start += MAX_ITEMS) {
    const end = min(count, start + MAX_ITEMS);
    let pending = 0;
    for (let i = start; i < end; i++) {
      const k = i - start;
      const len = load<u32>(lengths + (usize(i) << 2));
      store<u8>(slot(k) + STATUS, INVALID);
      if (len === MALFORMED) continue;
      const pair = pairs + usize(i) * 96;
      if (prepareItem(k, pair, pair + 32, msg, len, true)) {
        setBatchCoefficient(k, rand + (usize(i) << 4));
        store<i32>(IDX + (pending << 2), k);
        pending++;
      }
      msg += len;
    }
    settle(0, pending);
    for (let i = start; i < end; i++)
      store<u8>(out + i, load<u8>(slot(i - start) + STATUS) === VALID ? 1 : 0);
  }
}
