// RFC 6962 merkle root of a whole tree in one call (DESIGN §3; src/protocol/merkle.ts is the JS
// reference): leaf = SHA-256(0x00 || txid), node = SHA-256(0x01 || left || right), an odd last
// node is promoted unchanged, empty tree = SHA-256(""). Levels are hashed in place, four nodes
// per 4-way SIMD call; a level's remainder (< 4 nodes) goes through scalar SHA-256.
import { sha256 } from './sha2/sha256';
import { sha256x4 } from './sha2/sha256x4';

const LEAF_STRIDE: usize = 64; // 0x00 || txid (33 bytes) pads to one block
const NODE_STRIDE: usize = 128; // 0x01 || left || right (65 bytes) pads to two blocks
const LEAF_BLOCKS = memory.data(4 * i32(LEAF_STRIDE), 16);
const NODE_BLOCKS = memory.data(4 * i32(NODE_STRIDE), 16);
const ONE = memory.data(72, 8);
let templatesReady = false;

/** Writes the fixed parts of the padded leaf and node blocks once: prefix, 0x80, bit length. */
function prepareTemplates(): void {
  for (let lane: usize = 0; lane < 4; lane++) {
    const leaf = LEAF_BLOCKS + lane * LEAF_STRIDE;
    store<u8>(leaf, 0x00);
    store<u8>(leaf + 33, 0x80);
    store<u64>(leaf + 56, bswap<u64>(33 * 8));
    const node = NODE_BLOCKS + lane * NODE_STRIDE;
    store<u8>(node, 0x01);
    store<u8>(node + 65, 0x80);
    store<u64>(node + 120, bswap<u64>(65 * 8));
  }
  templatesReady = true;
}

/**
 * Root of the `n` 32-byte txids at `txids` into `out` (32 bytes); `work` must have room for
 * n * 32 bytes (it may be `txids` itself when the caller no longer needs them).
 */
export function merkleRoot(txids: usize, n: i32, work: usize, out: usize): void {
  if (n === 0) {
    sha256(ONE, 0, out);
    return;
  }
  if (!templatesReady) prepareTemplates();
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    for (let lane = 0; lane < 4; lane++) {
      memory.copy(LEAF_BLOCKS + usize(lane) * LEAF_STRIDE + 1, txids + (usize(i + lane) << 5), 32);
    }
    sha256x4(LEAF_BLOCKS, LEAF_STRIDE, 1, work + (usize(i) << 5));
  }
  for (; i < n; i++) {
    store<u8>(ONE, 0x00);
    memory.copy(ONE + 1, txids + (usize(i) << 5), 32);
    sha256(ONE, 33, work + (usize(i) << 5));
  }
  let m = n;
  while (m > 1) {
    const pairs = m >> 1;
    let p = 0;
    for (; p + 4 <= pairs; p += 4) {
      for (let lane = 0; lane < 4; lane++) {
        memory.copy(NODE_BLOCKS + usize(lane) * NODE_STRIDE + 1, work + (usize(p + lane) << 6), 64);
      }
      sha256x4(NODE_BLOCKS, NODE_STRIDE, 2, work + (usize(p) << 5));
    }
    for (; p < pairs; p++) {
      store<u8>(ONE, 0x01);
      memory.copy(ONE + 1, work + (usize(p) << 6), 64);
      sha256(ONE, 65, work + (usize(p) << 5));
    }
    if (m & 1) memory.copy(work + (usize(pairs) << 5), work + (usize(m - 1) << 5), 32);
    m = pairs + (m & 1);
  }
  memory.copy(out, work, 32);
}
