import { ByteReader } from '../encoding/byte-reader.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { HASH_BYTES } from '../protocol/block.js';

/** The block the stored chain ends at. */
export interface ChainTip {
  readonly height: number;
  /** Header hash of the tip block. */
  readonly hash: Uint8Array;
  readonly slot: number;
}

/** height u32 LE ‖ hash 32 B ‖ slot u64 LE: 44 bytes. */
export function writeChainTip(w: ByteWriter, t: ChainTip): ByteWriter {
  return w.u32(t.height).fixed(t.hash, HASH_BYTES).u64(t.slot);
}

export function encodeChainTip(t: ChainTip): Uint8Array {
  return writeChainTip(new ByteWriter(44), t).finish();
}

export function readChainTip(r: ByteReader): ChainTip {
  return {
    height: r.u32('tip height'),
    hash: r.fixed(HASH_BYTES, 'tip hash'),
    slot: r.u64Number('tip slot'),
  };
}

export function decodeChainTip(bytes: Uint8Array): ChainTip {
  const r = new ByteReader(bytes);
  const t = readChainTip(r);
  r.done('chain tip');
  return t;
}
