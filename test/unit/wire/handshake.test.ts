import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  checkHello,
  type LocalIdentity,
  makeAuth,
  makeHello,
  type Transcript,
  verifyAuth,
} from '../../../src/p2p/handshake.js';
import { handshakeSigningMessage } from '../../../src/protocol/signing.js';
import { PROTOCOL_VERSION } from '../../../src/wire/limits.js';
import { MSG } from '../../../src/wire/message-types.js';
import { docVectors } from '../../support/doc-vectors.js';
import { testIdentity } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(0x11);
const BINDING = new Uint8Array(32).fill(0xcb);

const id = (i: number, over: Partial<LocalIdentity> = {}): LocalIdentity =>
  testIdentity('handshake-test', i, GENESIS, {
    listenPort: 24200 + i,
    tip: () => ({ height: 5, hash: new Uint8Array(32).fill(5) }),
    ...over,
  });

/** node:crypto (OpenSSL) as an independent verifier of what we sign. */
function opensslOk(pubkey: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pubkey]);
  return opensslVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig);
}

describe('handshake: node keys sign a transcript bound to the TLS channel', () => {
  it('the preimage layout (docs/protocol.md "Handshake")', () => {
    const side = (k: number, n: number, port: number) => ({
      pubkey: new Uint8Array(32).fill(k),
      nonce: new Uint8Array(32).fill(n),
      listenPort: port,
    });
    const msg = handshakeSigningMessage(
      'listener',
      3,
      GENESIS,
      2,
      BINDING,
      side(0xa1, 0xa2, 0),
      side(0xb1, 0xb2, 24200),
    );
    const expected = Buffer.concat([
      Buffer.from('TIME:handshake:1\0', 'ascii'),
      Buffer.from([1]),
      Buffer.from([3, 0, 0, 0]),
      GENESIS,
      Buffer.from([2, 0, 0, 0]),
      BINDING,
      new Uint8Array(32).fill(0xa1),
      new Uint8Array(32).fill(0xa2),
      Buffer.from([0, 0, 0, 0]),
      new Uint8Array(32).fill(0xb1),
      new Uint8Array(32).fill(0xb2),
      Buffer.from([0x88, 0x5e, 0, 0]),
    ]);
    expect(Buffer.from(msg)).toEqual(expected);
    expect(msg[17]).toBe(1);
    expect(
      handshakeSigningMessage(
        'dialer',
        3,
        GENESIS,
        2,
        BINDING,
        side(0xa1, 0xa2, 0),
        side(0xb1, 0xb2, 24200),
      )[17],
    ).toBe(0);
  });

  it('matches the test vector of docs/protocol.md (made with noble; re-made here with OpenSSL)', () => {
    const v = docVectors().vector;
    const b = (name: string) => Uint8Array.from(Buffer.from(v(name), 'hex'));
    const hello = (role: 'dialer' | 'listener') => ({
      ...makeHello(
        {
          chainId: Number(v('p2p.hs.chainId')),
          genesisHash: b('p2p.hs.genesis'),
          protocolVersion: Number(v('p2p.hs.protocol')),
          publicKey: b(`p2p.hs.${role}.pubkey`),
          secretKey: b(`p2p.hs.${role}.secret`),
          listenPort: Number(v(`p2p.hs.${role}.listenPort`)),
          tip: () => ({ height: 0, hash: new Uint8Array(32) }),
        },
        b(`p2p.hs.${role}.nonce`),
      ),
    });
    const t: Transcript = {
      dialer: hello('dialer'),
      listener: hello('listener'),
      binding: b('p2p.hs.binding'),
    };
    for (const role of ['dialer', 'listener'] as const) {
      const me: LocalIdentity = {
        chainId: Number(v('p2p.hs.chainId')),
        genesisHash: b('p2p.hs.genesis'),
        protocolVersion: Number(v('p2p.hs.protocol')),
        publicKey: b(`p2p.hs.${role}.pubkey`),
        secretKey: b(`p2p.hs.${role}.secret`),
        listenPort: 0,
        tip: () => ({ height: 0, hash: new Uint8Array(32) }),
      };
      const pre = handshakeSigningMessage(
        role,
        me.chainId,
        me.genesisHash,
        2,
        t.binding,
        t.dialer,
        t.listener,
      );
      expect(Buffer.from(pre).toString('hex')).toBe(v(`p2p.hs.${role}.preimage`));
      expect(Buffer.from(makeAuth(me, role, t).sig).toString('hex')).toBe(v(`p2p.hs.${role}.sig`));
      expect(verifyAuth(me, role, t, { t: 2, sig: b(`p2p.hs.${role}.sig`) })).toBe(true);
    }
  });

  const dialer = id(1);
  const listener = id(2);
  const t: Transcript = { dialer: makeHello(dialer), listener: makeHello(listener), binding: BINDING };

  it('each Auth verifies here, with OpenSSL and with noble (ZIP-215) for the transcript it was made for', () => {
    const authD = makeAuth(dialer, 'dialer', t);
    const authL = makeAuth(listener, 'listener', t);
    expect(verifyAuth(listener, 'dialer', t, authD)).toBe(true);
    expect(verifyAuth(dialer, 'listener', t, authL)).toBe(true);
    const pre = handshakeSigningMessage(
      'dialer',
      3,
      GENESIS,
      PROTOCOL_VERSION,
      BINDING,
      t.dialer,
      t.listener,
    );
    expect(opensslOk(dialer.publicKey, pre, authD.sig)).toBe(true);
    expect(ed25519.verify(authD.sig, pre, dialer.publicKey)).toBe(true);
  });

  it('a relay fails: another channel binding, nonce, key, chain, genesis or version does not verify', () => {
    const authD = makeAuth(dialer, 'dialer', t);
    // what the relay's other side sees: a certificate hash of the relay's own TLS endpoint
    expect(verifyAuth(listener, 'dialer', { ...t, binding: new Uint8Array(32).fill(0xcc) }, authD)).toBe(
      false,
    );
    expect(verifyAuth(listener, 'dialer', { ...t, listener: makeHello(listener) }, authD)).toBe(false);
    expect(
      verifyAuth(listener, 'dialer', { ...t, dialer: { ...t.dialer, pubkey: id(3).publicKey } }, authD),
    ).toBe(false);
    expect(verifyAuth(id(2, { chainId: 2 }), 'dialer', t, authD)).toBe(false);
    expect(verifyAuth(id(2, { genesisHash: new Uint8Array(32) }), 'dialer', t, authD)).toBe(false);
    expect(verifyAuth(id(2, { protocolVersion: 3 }), 'dialer', t, authD)).toBe(false);
    expect(verifyAuth(listener, 'dialer', { ...t, dialer: { ...t.dialer, listenPort: 1 } }, authD)).toBe(
      false,
    );
    const flipped = new Uint8Array(authD.sig);
    flipped[10]! ^= 1;
    expect(verifyAuth(listener, 'dialer', t, { ...authD, sig: flipped })).toBe(false);
  });

  it("one side's signature cannot be reflected as the other side's (role byte)", () => {
    // A node talking to itself through a mirror: both Hellos carry its key.
    const mirror: Transcript = { dialer: t.dialer, listener: { ...t.dialer }, binding: BINDING };
    const auth = makeAuth(dialer, 'dialer', mirror);
    expect(verifyAuth(dialer, 'listener', mirror, auth)).toBe(false);
    expect(verifyAuth(dialer, 'dialer', mirror, auth)).toBe(true);
  });

  it('fresh nonces per Hello', () => {
    expect(Buffer.from(makeHello(id(1)).nonce)).not.toEqual(Buffer.from(makeHello(id(1)).nonce));
  });

  it('refuses other chains, genesis hashes, protocol versions, itself and unacceptable keys', () => {
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
    const withKey = (hex: string) => ({
      ...makeHello(id(2)),
      pubkey: Uint8Array.from(Buffer.from(hex, 'hex')),
    });
    // the identity (small order: "signs" anything under ZIP-215), a non-canonical y
    for (const [hex, reason] of [
      ['01'.padEnd(64, '0'), /SMALL_ORDER/],
      [`${'ff'.repeat(31)}7f`, /NON_CANONICAL/],
    ] as const) {
      const r = checkHello(me, withKey(hex));
      expect(r?.close).toBe('badKey');
      expect(r?.reason).toMatch(reason);
    }
  });

  it('leaves a key off the curve to the Auth check, where no signature verifies for it', () => {
    const me = id(1);
    const offCurve = Uint8Array.from(Buffer.from(`02${'00'.repeat(31)}`, 'hex'));
    expect(() => ed25519.Point.fromBytes(offCurve)).toThrow();
    const hello = { ...makeHello(id(2)), pubkey: offCurve };
    expect(checkHello(me, hello)).toBeNull();
    const t: Transcript = { dialer: hello, listener: makeHello(me), binding: BINDING };
    // A real signature of the transcript by another key, the small-order trick (R = identity,
    // S = 0) and a zero signature: none verifies, so the listener refuses before it signs.
    const preimage = handshakeSigningMessage(
      'dialer',
      me.chainId,
      GENESIS,
      PROTOCOL_VERSION,
      BINDING,
      hello,
      t.listener,
    );
    const identityR = new Uint8Array(64);
    identityR[0] = 1;
    for (const sig of [ed25519.sign(preimage, id(2).secretKey), identityR, new Uint8Array(64)]) {
      expect(verifyAuth(me, 'dialer', t, { t: MSG.auth, sig })).toBe(false);
    }
    // The same transcript with the signer's real key verifies: the refusal is the key's.
    const real = { ...t, dialer: makeHello(id(2)) };
    expect(verifyAuth(me, 'dialer', real, makeAuth(id(2), 'dialer', real))).toBe(true);
  });
});
