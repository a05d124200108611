import type { LocalIdentity } from '../../src/p2p/handshake.js';
import { devnetKeyPair } from '../../src/wallet/keys.js';

/**
 * A devnet-chain (id 3) peer identity for tests: the key derived from (`seed`, `index`), the given
 * genesis, not listening, tip at height 0 on genesis. `over` replaces any field.
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
