import { randomBytes } from 'node:crypto';
import { nobleVerify } from '../crypto/noble-verifier.js';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import { helloSigningMessage } from '../protocol/signing.js';
import { sign } from '../wallet/keys.js';
import { NONCE_BYTES, PROTOCOL_VERSION } from '../wire/limits.js';
import { type Auth, type Hello, MSG } from '../wire/message-types.js';
import type { CloseName } from './close-codes.js';

/** What this node announces; supplied by the caller (the p2p layer reads no chain state itself). */
export interface LocalIdentity {
  readonly chainId: number;
  readonly genesisHash: Uint8Array;
  readonly protocolVersion?: number;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** 0 when this node does not accept connections. */
  readonly listenPort: number;
  /** Current tip; called at each handshake so it is fresh. */
  readonly tip: () => { height: number; hash: Uint8Array };
}

export function makeHello(
  id: LocalIdentity,
  nonce: Uint8Array = new Uint8Array(randomBytes(NONCE_BYTES)),
): Hello {
  const tip = id.tip();
  return {
    t: MSG.hello,
    protocol: id.protocolVersion ?? PROTOCOL_VERSION,
    chainId: id.chainId,
    genesis: id.genesisHash,
    pubkey: id.publicKey,
    listenPort: id.listenPort,
    tipHeight: tip.height,
    tipHash: tip.hash,
    nonce,
  };
}

/** Our Auth answer to the other side's Hello. */
export function makeAuth(id: LocalIdentity, theirHello: Hello): Auth {
  const msg = helloSigningMessage(id.chainId, id.genesisHash, theirHello.nonce, id.publicKey);
  return { t: MSG.auth, sig: sign(msg, id.secretKey) };
}

/** Checks the other side's Auth against the nonce WE sent and the key THEY announced. */
export function verifyAuth(id: LocalIdentity, ourNonce: Uint8Array, theirHello: Hello, auth: Auth): boolean {
  const message = helloSigningMessage(id.chainId, id.genesisHash, ourNonce, theirHello.pubkey);
  return nobleVerify({ publicKey: theirHello.pubkey, message, signature: auth.sig });
}

/** A handshake refusal: which close code and a reason a human can act on. */
export interface HelloRefusal {
  readonly close: CloseName;
  readonly reason: string;
}

/** Refuses a Hello for another chain, genesis, protocol version, or from ourselves. */
export function checkHello(id: LocalIdentity, hello: Hello): HelloRefusal | null {
  const version = id.protocolVersion ?? PROTOCOL_VERSION;
  if (hello.chainId !== id.chainId) {
    return { close: 'wrongChain', reason: `wrong chain id ${hello.chainId}, expected ${id.chainId}` };
  }
  if (!bytesEqual(hello.genesis, id.genesisHash)) {
    return {
      close: 'wrongGenesis',
      reason: `wrong genesis ${toHex(hello.genesis).slice(0, 16)}…, expected ${toHex(id.genesisHash).slice(0, 16)}…`,
    };
  }
  if (hello.protocol !== version) {
    return { close: 'wrongVersion', reason: `protocol version ${hello.protocol}, expected ${version}` };
  }
  if (bytesEqual(hello.pubkey, id.publicKey)) {
    return { close: 'selfConnection', reason: 'connected to itself' };
  }
  return null;
}
