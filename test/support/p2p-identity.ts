import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalIdentity } from '../../src/p2p/handshake.js';
import { loadOrCreateTlsMaterial, type TlsMaterial } from '../../src/p2p/tls-certificate.js';
import { devnetKeyPair } from '../../src/wallet/keys.js';

let shared: Promise<TlsMaterial> | undefined;

/**
 * One TLS certificate per test process for in-process listeners (made once: ~30 ms). Tests of the
 * channel binding itself make their own certificates.
 */
export function testTls(): Promise<TlsMaterial> {
  shared ??= loadOrCreateTlsMaterial(mkdtempSync(join(tmpdir(), 'timecoin-test-tls-')));
  return shared;
}

/**
 * A devnet-chain (id 3) peer identity for tests: the key derived from (`seed`, `index`), the given
 * genesis, not listening, tip at height 0 on genesis, no TLS certificate (add `tls` to listen).
 * `over` replaces any field.
 */
export function testIdentity(
  seed: string,
  index: number,
  genesis: Uint8Array = new Uint8Array(32),
  over: Partial<LocalIdentity> = {},
): LocalIdentity {
  const k = devnetKeyPair(seed, index);
  return {
    chainId: 3,
    genesisHash: genesis,
    publicKey: k.publicKey,
    secretKey: k.secretKey,
    listenPort: 0,
    tip: () => ({ height: 0, hash: genesis }),
    ...over,
  };
}
