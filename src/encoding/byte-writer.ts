/**
 * Writes the consensus byte layouts: fixed-width little-endian integers and u32-length-prefixed
 * byte strings (DESIGN §3). The buffer grows by doubling, so one writer can serialize a whole block.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    // From at least 1: doubling a zero capacity (new ByteWriter(0)) would never reach `need`.
    let cap = Math.max(1, this.buf.length) * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`u32 out of range: ${v}`);
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  /** u64 from a bigint (amounts) or a safe integer (heights, slots, milliseconds). */
  u64(v: bigint | number): this {
    const b = typeof v === 'bigint' ? v : BigInt(v);
    if (typeof v === 'number' && !Number.isSafeInteger(v))
      throw new RangeError(`u64 not a safe integer: ${v}`);
    if (b < 0n || b > 0xffff_ffff_ffff_ffffn) throw new RangeError(`u64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.pos, b, true);
    this.pos += 8;
    return this;
  }

  /** Raw bytes of a length fixed by the layout (hashes, keys, signatures). */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`expected ${length} bytes, got ${bytes.length}`);
    this.reserve(length);
    this.buf.set(bytes, this.pos);
    this.pos += length;
    return this;
  }

  /** Raw bytes with no length (domain tags, concatenated preimages). */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** u32 length prefix, then the bytes. */
  varBytes(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this.raw(bytes);
  }

  /** A copy of the written bytes, sized exactly. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
