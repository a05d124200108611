import { hash } from 'node:crypto';

/**
 * SHA-256 on the calling thread via OpenSSL's one-shot `crypto.hash`. Used for single small
 * preimages (a txid, a header hash, an address checksum); bulk hashing (merkle levels) belongs to
 * the crypto pool.
 */
export function sha256(data: Uint8Array): Uint8Array {
  const out = hash('sha256', data, 'buffer');
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}
