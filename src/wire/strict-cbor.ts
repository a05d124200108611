import { isUtf8 } from 'node:buffer';

/**
 * The subset of CBOR (RFC 8949) a wire message may use, checked by one linear scan of the raw frame
 * BEFORE cbor-x sees it. cbor-x is a full decoder: tags make it build Error and RegExp objects
 * (tag 27), resolve shared references (tags 28/29: one 100 kB item counted 256 times), replay record
 * definitions and typed arrays; floats and indefinite lengths have no place in our layouts. Refusing
 * them here, in O(frame length) with no allocation, means cbor-x only ever decodes plain data.
 *
 * Allowed: unsigned and negative integers up to 2^53 − 1, byte strings, UTF-8 text strings, arrays
 * and maps, with definite lengths; map keys are text strings, distinct within their map. Refused:
 * major type 6 (every tag) and 7 (floats, true/false/null/undefined, simple values, break), additional
 * information 28–31 (reserved, indefinite length), lengths that run past the frame, nesting deeper
 * than MAX_DEPTH, maps with more than MAX_MAP_ENTRIES entries, and anything after the first item.
 */

/** Deepest nesting a catalogue message needs: message map → array (Peers.peers) → map (an address). */
export const MAX_DEPTH = 3;
/** Most keys in one catalogue map (Hello has 9 with `t`); bounds the duplicate-key check. */
export const MAX_MAP_ENTRIES = 16;

/** Thrown inside the scan; turned into a problem string by strictCborProblem. */
class Refusal {
  constructor(readonly problem: string) {}
}

interface Head {
  readonly major: number;
  /** The argument: a value (major 0/1) or a length/count (2–5). */
  readonly arg: number;
  /** Offset after the head. */
  readonly next: number;
}

function readHead(b: Uint8Array, pos: number): Head {
  if (pos >= b.length) throw new Refusal('truncated');
  const first = b[pos]!;
  const major = first >> 5;
  const info = first & 0x1f;
  if (major === 6) throw new Refusal(`tag at byte ${pos}`);
  if (major === 7) throw new Refusal(`float or simple value at byte ${pos}`);
  if (info < 24) return { major, arg: info, next: pos + 1 };
  if (info >= 28) throw new Refusal(info === 31 ? `indefinite length at byte ${pos}` : `reserved at ${pos}`);
  const size = 1 << (info - 24); // 1, 2, 4 or 8 bytes
  if (pos + 1 + size > b.length) throw new Refusal('truncated');
  let arg = 0;
  if (size === 8) {
    const high = (b[pos + 1]! << 24) | (b[pos + 2]! << 16) | (b[pos + 3]! << 8) | b[pos + 4]!;
    // Above 2^53 − 1 no JS number is exact, and no field of the catalogue goes there.
    if (high >>> 0 > 0x1f_ffff) throw new Refusal(`integer above 2^53 at byte ${pos}`);
    arg = (high >>> 0) * 0x1_0000_0000;
    arg += ((b[pos + 5]! << 24) | (b[pos + 6]! << 16) | (b[pos + 7]! << 8) | b[pos + 8]!) >>> 0;
  } else {
    for (let i = 1; i <= size; i++) arg = arg * 256 + b[pos + i]!;
  }
  return { major, arg, next: pos + 1 + size };
}

/** Skips one item starting at `pos`; returns the offset after it. */
function scanItem(b: Uint8Array, pos: number, depth: number): number {
  const h = readHead(b, pos);
  switch (h.major) {
    case 0:
    case 1:
      return h.next;
    case 2:
    case 3: {
      const end = h.next + h.arg;
      if (end > b.length) throw new Refusal('string runs past the frame');
      if (h.major === 3 && !isUtf8(b.subarray(h.next, end))) throw new Refusal(`invalid UTF-8 at ${pos}`);
      return end;
    }
    case 4: {
      if (depth >= MAX_DEPTH) throw new Refusal('nested too deep');
      // A count beyond the bytes left (which would make cbor-x preallocate) fails as truncated at
      // the first missing item, after at most (bytes left) iterations.
      let p = h.next;
      for (let i = 0; i < h.arg; i++) p = scanItem(b, p, depth + 1);
      return p;
    }
    case 5: {
      if (depth >= MAX_DEPTH) throw new Refusal('nested too deep');
      if (h.arg > MAX_MAP_ENTRIES) throw new Refusal(`map of ${h.arg} entries`);
      let p = h.next;
      const keyStarts: number[] = [];
      const keyEnds: number[] = [];
      for (let i = 0; i < h.arg; i++) {
        const k = readHead(b, p);
        if (k.major !== 3) throw new Refusal(`map key at byte ${p} is not a text string`);
        const keyEnd = scanItem(b, p, depth + 1);
        for (let j = 0; j < keyStarts.length; j++) {
          if (sameBytes(b, keyStarts[j]!, keyEnds[j]!, p, keyEnd)) throw new Refusal(`duplicate key at ${p}`);
        }
        keyStarts.push(p);
        keyEnds.push(keyEnd);
        p = scanItem(b, keyEnd, depth + 1);
      }
      return p;
    }
    default:
      // readHead already refused 6 and 7; nothing else exists in 3 bits.
      throw new Refusal(`major type ${h.major}`);
  }
}

function sameBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  for (let i = 0; i < e1 - s1; i++) if (b[s1 + i] !== b[s2 + i]) return false;
  return true;
}

/**
 * Null when `frame` is exactly one item of the allowed subset, otherwise a short description of the
 * first thing refused (for the WIRE_BAD_CBOR reason).
 */
export function strictCborProblem(frame: Uint8Array): string | null {
  try {
    const end = scanItem(frame, 0, 0);
    return end === frame.length ? null : `${frame.length - end} bytes after the message`;
  } catch (err) {
    if (err instanceof Refusal) return err.problem;
    throw err;
  }
}
