import { isUtf8 } from 'node:buffer';
import { MAX_ARRAY_ITEMS, MAX_TEXT_BYTES } from './limits.js';

/**
 * The subset of CBOR (RFC 8949) a wire message may use, checked by one linear scan of the raw frame
 * BEFORE cbor-x sees it. cbor-x is a full decoder: tags make it build Error and RegExp objects
 * (tag 27), resolve shared references (tags 28/29: one 100 kB item counted 256 times), replay record
 * definitions and typed arrays; floats and indefinite lengths have no place in our layouts. Refusing
 * them here, in O(frame length) with no allocation, means cbor-x only ever decodes plain data.
 *
 * Allowed: unsigned and negative integers up to 2^53 − 1, byte strings, UTF-8 text strings, arrays
 * and maps, with definite lengths; map keys are text strings of at most 23 bytes (length in the
 * head, so each key has one encoding), distinct within their map. Refused:
 * major type 6 (every tag) and 7 (floats, true/false/null/undefined, simple values, break), additional
 * information 28–31 (reserved, indefinite length), lengths that run past the frame, nesting deeper
 * than MAX_DEPTH, maps with more than MAX_MAP_ENTRIES entries, arrays whose lengths add up to more
 * than MAX_ARRAY_ITEMS (limits.ts: the longest array of the catalogue), text strings longer than
 * MAX_TEXT_BYTES (the longest text field of the catalogue), and anything after the first item.
 *
 * The array rule is checked at each array head, before its items are walked. Without it a 4 MiB
 * frame of one array of 4 million one-byte integers was scanned item by item, then built by cbor-x
 * into a 4M-element array, before its schema refused it: ~80 ms of blocked event loop per frame.
 * With the map and depth rules, a frame that passes holds fewer than 17,000 items whatever its size
 * (a message map of 16 entries, one an array of 256 maps of 16 entries, the others maps of 16 maps of
 * 16 entries). Text strings are bounded for the same reason: cbor-x took ~21 ms to turn 4 MiB of
 * non-ASCII UTF-8 into a JS string that no schema would take. Byte strings are bounded by the
 * frame: cbor-x copies them, ~2 ms for 4 MiB, as for any valid Block.
 */

/** Deepest nesting a catalogue message needs: message map → array (Peers.peers) → map (an address). */
export const MAX_DEPTH = 3;
/** Most keys in one catalogue map (Hello has 9 with `t`); bounds the duplicate-key check. */
export const MAX_MAP_ENTRIES = 16;

/** Start and end offsets of the keys of the maps being scanned, MAX_MAP_ENTRIES pairs per depth. */
const keys = new Int32Array(MAX_DEPTH * MAX_MAP_ENTRIES * 2);

/** Map keys are short ASCII: checked inline, the UTF-8 validator only for anything else. */
function isAscii(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/** Thrown inside the scan; turned into a problem string by strictCborProblem. */
class Refusal {
  constructor(readonly problem: string) {}
}

/**
 * The head readHead decoded last (module state instead of an object per item: the scan runs on
 * every frame and allocates nothing). Callers copy what they need before the next readHead.
 */
const h = { major: 0, arg: 0, next: 0 };

/** Array items the frame being scanned may still hold (reset by strictCborProblem). */
let arrayItemsLeft = 0;

function setHead(major: number, arg: number, next: number): typeof h {
  h.major = major;
  h.arg = arg;
  h.next = next;
  return h;
}

/** Decodes the item head at `pos` into `h`: major type, argument (value or length), next offset. */
function readHead(b: Uint8Array, pos: number): typeof h {
  if (pos >= b.length) throw new Refusal('truncated');
  const first = b[pos]!;
  const major = first >> 5;
  const info = first & 0x1f;
  if (major === 6) throw new Refusal(`tag at byte ${pos}`);
  if (major === 7) throw new Refusal(`float or simple value at byte ${pos}`);
  if (info < 24) return setHead(major, info, pos + 1);
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
  return setHead(major, arg, pos + 1 + size);
}

/** Skips one item starting at `pos`; returns the offset after it. */
function scanItem(b: Uint8Array, pos: number, depth: number): number {
  const { major, arg, next } = readHead(b, pos);
  switch (major) {
    case 0:
    case 1:
      return next;
    case 2:
    case 3: {
      if (major === 3 && arg > MAX_TEXT_BYTES) throw new Refusal(`text of ${arg} bytes at byte ${pos}`);
      const end = next + arg;
      if (end > b.length) throw new Refusal('string runs past the frame');
      if (major === 3 && !isAscii(b, next, end) && !isUtf8(b.subarray(next, end))) {
        throw new Refusal(`invalid UTF-8 at ${pos}`);
      }
      return end;
    }
    case 4: {
      if (depth >= MAX_DEPTH) throw new Refusal('nested too deep');
      // Before any item is walked: no catalogue message holds more array items than this, in one
      // array or in several.
      if (arg > arrayItemsLeft) {
        throw new Refusal(
          `array of ${arg} items at byte ${pos}: over ${MAX_ARRAY_ITEMS} array items in the frame`,
        );
      }
      arrayItemsLeft -= arg;
      let p = next;
      for (let i = 0; i < arg; i++) p = scanItem(b, p, depth + 1);
      return p;
    }
    case 5: {
      if (depth >= MAX_DEPTH) throw new Refusal('nested too deep');
      if (arg > MAX_MAP_ENTRIES) throw new Refusal(`map of ${arg} entries`);
      let p = next;
      // Key positions of this map live in a per-depth slice of one scratch array: no allocation.
      const base = depth * MAX_MAP_ENTRIES * 2;
      for (let i = 0; i < arg; i++) {
        if (b[p] === undefined || b[p]! >> 5 !== 3)
          throw new Refusal(`map key at byte ${p} is not a text string`);
        // Keys are compared as bytes, so one string must have one encoding: its length in the head
        // (≤ 23 bytes, every catalogue key). With a 1-byte length field allowed, "n" written as
        // 0x61 0x6e and as 0x78 0x01 0x6e were two keys here and one to cbor-x (the last value won).
        if ((b[p]! & 0x1f) >= 24) throw new Refusal(`map key at byte ${p} is longer than 23 bytes`);
        const keyEnd = scanItem(b, p, depth + 1);
        for (let j = 0; j < i; j++) {
          if (sameBytes(b, keys[base + 2 * j]!, keys[base + 2 * j + 1]!, p, keyEnd)) {
            throw new Refusal(`duplicate key at ${p}`);
          }
        }
        keys[base + 2 * i] = p;
        keys[base + 2 * i + 1] = keyEnd;
        p = scanItem(b, keyEnd, depth + 1);
      }
      return p;
    }
    default:
      // readHead already refused 6 and 7; nothing else exists in 3 bits.
      throw new Refusal(`major type ${major}`);
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
  arrayItemsLeft = MAX_ARRAY_ITEMS;
  try {
    const end = scanItem(frame, 0, 0);
    return end === frame.length ? null : `${frame.length - end} bytes after the message`;
  } catch (err) {
    if (err instanceof Refusal) return err.problem;
    throw err;
  }
}
