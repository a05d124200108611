import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkHello,
  type LocalIdentity,
  makeAuth,
  makeHello,
  verifyAuth,
} from '../../../src/p2p/handshake.js';
import { helloSigningMessage } from '../../../src/protocol/signing.js';
import { PROTOCOL_VERSION } from '../../../src/wire/limits.js';
import { testIdentity } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(0x11);

const id = (i: number, over: Partial<LocalIdentity> = {}): LocalIdentity =>
  testIdentity('handshake-test', i, GENESIS, {
    listenPort: 24200,
    tip: () => ({ height: 5, hash: new Uint8Array(32).fill(5) }),
    ...over,
  });

/** node:crypto (OpenSSL) as the independent verifier. */
function opensslOk(pubkey: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pubkey]);
  return opensslVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig);
}

describe('handshake: signed nonce', () => {
  it('the preimage is TIME:hello:1 NUL ‖ u32le chain id ‖ genesis ‖ verifier nonce ‖ signer key', () => {
    const nonce = new Uint8Array(32).fill(0xaa);
    const key = new Uint8Array(32).fill(0xbb);
    const expected = Buffer.concat([
      Buffer.from('TIME:hello:1\0', 'ascii'),
      Buffer.from([0x03, 0x00, 0x00, 0x00]),
      GENESIS,
      nonce,
      key,
    ]);
    expect(Buffer.from(helloSigningMessage(3, GENESIS, nonce, key))).toEqual(expected);
  });

  it("each side's Auth verifies (here and with OpenSSL) only for the nonce, chain and key it was made for", () => {
    const a = id(1);
    const b = id(2);
    const helloA = makeHello(a);
    const helloB = makeHello(b);
    const authB = makeAuth(b, helloA); // B signs A's nonce
    expect(verifyAuth(a, helloA.nonce, helloB, authB)).toBe(true);
    expect(
      opensslOk(b.publicKey, helloSigningMessage(3, GENESIS, helloA.nonce, b.publicKey), authB.sig),
    ).toBe(true);
    // replayed against another nonce, another chain/genesis, or claimed by another key: refused
    expect(verifyAuth(a, helloB.nonce, helloB, authB)).toBe(false);
    expect(verifyAuth(id(1, { chainId: 2 }), helloA.nonce, helloB, authB)).toBe(false);
    expect(verifyAuth(id(1, { genesisHash: new Uint8Array(32) }), helloA.nonce, helloB, authB)).toBe(false);
    expect(verifyAuth(a, helloA.nonce, { ...helloB, pubkey: id(3).publicKey }, authB)).toBe(false);
    const flipped = new Uint8Array(authB.sig);
    flipped[10]! ^= 1;
    expect(verifyAuth(a, helloA.nonce, helloB, { ...authB, sig: flipped })).toBe(false);
  });

  it('fresh nonces per Hello', () => {
    expect(Buffer.from(makeHello(id(1)).nonce)).not.toEqual(Buffer.from(makeHello(id(1)).nonce));
  });

  it('refuses other chains, genesis hashes, protocol versions and itself, with reasons', () => {
    const me = id(1);
    expect(checkHello(me, makeHello(id(2)))).toBeNull();
    expect(checkHello(me, makeHello(id(2, { chainId: 1 })))?.close).toBe('wrongChain');
    const g = checkHello(me, makeHello(id(2, { genesisHash: new Uint8Array(32).fill(0xff) })));
    expect(g?.close).toBe('wrongGenesis');
    expect(g?.reason).toMatch(/^wrong genesis ffffffffffffffff…, expected 1111111111111111…$/);
    expect(checkHello(me, makeHello(id(2, { protocolVersion: PROTOCOL_VERSION + 1 })))?.close).toBe(
      'wrongVersion',
    );
    expect(checkHello(me, makeHello(id(1)))?.close).toBe('selfConnection');
  });
});
