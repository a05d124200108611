import { sha256 } from '../crypto/sha256.js';

/**
 * RFC 6962 merkle root over 32-byte leaves (txids; wtxids for the witness root), the JavaScript
 * reference implementation (the WASM one in the crypto pool must match it byte for byte):
 *   leaf  = SHA-256(0x00 ‖ txid)
 *   node  = SHA-256(0x01 ‖ left ‖ right)
 *   an odd node at the end of a level is promoted unchanged;
 *   empty tree = SHA-256("").
 * Unlike Bitcoin's duplicate-last-leaf tree, two different lists of txids cannot share a root
 * (CVE-2012-2459).
 */
export function merkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  if (txids.length === 0) return sha256(new Uint8Array(0));
  let level: Uint8Array[] = txids.map((id) => {
    const pre = new Uint8Array(1 + id.length);
    pre[0] = 0x00;
    pre.set(id, 1);
    return sha256(pre);
  });
  const pre = new Uint8Array(65);
  pre[0] = 0x01;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      pre.set(level[i]!, 1);
      pre.set(level[i + 1]!, 33);
      next.push(sha256(pre));
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}
