import { CodedError } from '../util/coded-error.js';

/** An encoded leaf-roots task whose lengths do not add up (corrupt or truncated buffer). */
export class BadLeafRootsTaskError extends CodedError<'BAD_LEAF_ROOTS_TASK'> {
  constructor(message: string) {
    super('BAD_LEAF_ROOTS_TASK', message);
  }
}

/**
 * The two merkle roots of a block body as one task crossing threads (one transferred buffer): the
 * root over the 32-byte ids as given, and the root over SHA-256(prefix ‖ item) of each item (the
 * wtxids, with prefix = TAG.wtx and item = the full transaction bytes).
 *
 *   u32 count, u32 prefix length              (little-endian, like every field below)
 *   the prefix
 *   count × 32-byte id
 *   count × u32 item length
 *   the items, concatenated in order
 */
export function encodeLeafRootsTask(
  ids: readonly Uint8Array[],
  prefix: Uint8Array,
  items: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const n = ids.length;
  if (items.length !== n) throw new RangeError(`${n} ids but ${items.length} items`);
  let itemBytes = 0;
  for (const it of items) itemBytes += it.length;
  const out = new Uint8Array(8 + prefix.length + 36 * n + itemBytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n, true);
  dv.setUint32(4, prefix.length, true);
  out.set(prefix, 8);
  let idAt = 8 + prefix.length;
  let lenAt = idAt + 32 * n;
  let itemAt = lenAt + 4 * n;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id.length !== 32) throw new RangeError(`id ${i} is ${id.length} bytes, expected 32`);
    out.set(id, idAt);
    idAt += 32;
    const item = items[i]!;
    dv.setUint32(lenAt, item.length, true);
    lenAt += 4;
    out.set(item, itemAt);
    itemAt += item.length;
  }
  return out;
}

export interface DecodedLeafRootsTask {
  readonly prefix: Uint8Array;
  /** The ids packed back to back (a view, 32 × count bytes). */
  readonly ids: Uint8Array;
  /** Views of the items, in order. */
  readonly items: Uint8Array[];
}

/** Views into an encoded task (no copies); throws BadLeafRootsTaskError when it does not add up. */
export function decodeLeafRootsTask(buf: Uint8Array): DecodedLeafRootsTask {
  if (buf.length < 8) throw new BadLeafRootsTaskError('shorter than its counts');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(0, true);
  const prefixLength = dv.getUint32(4, true);
  const idAt = 8 + prefixLength;
  const lenAt = idAt + 32 * n;
  let itemAt = lenAt + 4 * n;
  if (itemAt > buf.length) throw new BadLeafRootsTaskError('ids and lengths run past the buffer');
  const items: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(lenAt + 4 * i, true);
    if (itemAt + len > buf.length) throw new BadLeafRootsTaskError(`item ${i} runs past the buffer`);
    items[i] = buf.subarray(itemAt, itemAt + len);
    itemAt += len;
  }
  if (itemAt !== buf.length) throw new BadLeafRootsTaskError('bytes left over after the last item');
  return { prefix: buf.subarray(8, idAt), ids: buf.subarray(idAt, lenAt), items };
}
