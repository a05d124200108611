/**
 * Reads the message type from a frame's first bytes without decoding it, so the per-type size limit
 * is applied before cbor-x allocates anything. Our encoder always writes `t` as the first key of the
 * top-level map (see codec.ts), so an honest frame starts with: a map header, the text string "t"
 * (0x61 0x74), then an unsigned integer. Returns -1 when the prefix does not have that shape.
 */
export function peekType(frame: Uint8Array): number {
  const first = frame[0];
  if (first === undefined) return -1;
  let pos: number;
  if (first >= 0xa1 && first <= 0xb7) pos = 1;
  else if (first === 0xb8) pos = 2;
  else if (first === 0xb9) pos = 3;
  else if (first === 0xba) pos = 5;
  else return -1;
  if (frame[pos] !== 0x61 || frame[pos + 1] !== 0x74) return -1;
  const v = frame[pos + 2];
  if (v === undefined) return -1;
  if (v <= 0x17) return v;
  if (v === 0x18) return frame[pos + 3] ?? -1;
  return -1;
}
