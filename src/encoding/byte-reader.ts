import { CodedError } from '../util/coded-error.js';
import { copyBytes } from './bytes.js';

export type DecodeErrorCode = 'TRUNCATED' | 'TRAILING_BYTES' | 'OUT_OF_RANGE' | 'INVALID_VALUE';

/** Thrown for any malformed byte layout; never anything else, so callers can catch exactly this. */
export class DecodeError extends CodedError<DecodeErrorCode> {}

export interface ByteReaderOptions {
  /**
   * The reader's bytes are the caller's own copy, which nothing writes to and which may be kept
   * whole: `fixed()` then returns views into it instead of copies (one allocation per field
   * fewer; a decoded transaction's fields are views of its bytes). Default false: every field is
   * a copy, so nothing decoded pins or follows a network frame, a block or an LMDB read buffer.
   */
  readonly owned?: boolean;
}

/** Reads the layouts ByteWriter writes. Every read is bounds-checked; `done()` rejects trailing bytes. */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;
  readonly owned: boolean;

  constructor(
    private readonly bytes: Uint8Array,
    opts: ByteReaderOptions = {},
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.owned = opts.owned === true;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new DecodeError(
        'TRUNCATED',
        `${what}: need ${n} bytes at offset ${this.pos}, have ${this.remaining}`,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must fit a JS safe integer (heights, slots, timestamps). */
  u64Number(what = 'u64'): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('OUT_OF_RANGE', `${what} too large: ${v}`);
    return Number(v);
  }

  /**
   * A copy, so decoded objects do not pin or follow the source buffer; a view into it when the
   * reader is `owned` (the caller's own copy, kept whole with what is decoded from it).
   */
  fixed(length: number, what = 'bytes'): Uint8Array {
    this.need(length, what);
    const out = this.owned
      ? new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + this.pos, length)
      : copyBytes(this.bytes, this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  varBytes(maxLength: number, what = 'bytes'): Uint8Array {
    const length = this.u32(`${what} length`);
    if (length > maxLength)
      throw new DecodeError('OUT_OF_RANGE', `${what} length ${length} exceeds ${maxLength}`);
    return this.fixed(length, what);
  }

  done(what = 'value'): void {
    if (this.pos !== this.bytes.length) {
      throw new DecodeError('TRAILING_BYTES', `${what}: ${this.remaining} trailing bytes`);
    }
  }
}
