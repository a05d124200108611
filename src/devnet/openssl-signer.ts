import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { bytesKey } from '../ledger/map-keys.js';
import type { Signer } from '../wallet/tx-builder.js';

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Ed25519 signing through OpenSSL (node:crypto) for load generators and benchmark fixtures, which
 * sign hundreds of thousands of transactions before a run. Ed25519 signatures are deterministic
 * (RFC 8032), so these are byte-identical to @noble's; the node never signs on a hot path.
 */
export function opensslSigner(): Signer {
  const keys = new Map<string, KeyObject>();
  return (message, secretKey) => {
    const id = bytesKey(secretKey);
    let key = keys.get(id);
    if (!key) {
      key = createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519, secretKey]),
        format: 'der',
        type: 'pkcs8',
      });
      keys.set(id, key);
    }
    return new Uint8Array(sign(null, message, key));
  };
}
