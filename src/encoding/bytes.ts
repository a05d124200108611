/** Small, allocation-aware helpers over Uint8Array. Hex is for people and JSON only, never for consensus. */

const HEX_RE = /^(?:[0-9a-f]{2})*$/i;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict hex decoding: even length, hex digits only; throws RangeError otherwise. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (!HEX_RE.test(hex)) throw new RangeError('invalid hex string');
  const out = new Uint8Array(Buffer.from(hex, 'hex'));
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new RangeError(`expected ${expectedLength} bytes of hex, got ${out.length}`);
  }
  return out;
}

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

/**
 * Node's native latin1 decoder (what `Buffer#toString('latin1')` ends in), called on any
 * Uint8Array directly. Undocumented but present in every Node line we support (20, 22, 24), so
 * its absence is a start-up error, not a silent slow path.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;
if (typeof latin1Slice !== 'function') throw new Error('this Node.js has no Buffer#latin1Slice');

/**
 * bytes[start, end) as a latin1 string, one char per byte: equal bytes give equal strings, so it
 * is the map key of every byte identifier (txids, outpoints, addresses). It runs for every map
 * lookup on the transaction path; calling the native slice directly costs a third of
 * `Buffer.from(…).toString('latin1')`, which builds a Buffer view and parses an encoding name first.
 */
export function latin1Key(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return latin1Slice!.call(bytes, start, end);
}

/**
 * bytes[start, end) in a plain Uint8Array of its own. Not `bytes.slice`: on a Buffer (network
 * frames, LMDB values) that is a view, which would keep the whole source alive and change with it.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order (shorter prefix first): the one order used for sorting in consensus. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || c < 0x20) throw new RangeError(`non-printable ASCII in ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

export function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}
