import { describe, expect, it } from 'vitest';
import {
  checkHello,
  type LocalIdentity,
  makeAuth,
  makeHello,
  verifyAuth,
} from '../../../src/p2p/handshake.js';
import { PROTOCOL_VERSION } from '../../../src/wire/limits.js';
import { testIdentity } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(0x22);
const id = (i: number, over: Partial<LocalIdentity> = {}): LocalIdentity =>
  testIdentity('handshake-rules', i, GENESIS, over);

describe('Hello refusals: a close code and a reason the operator can act on', () => {
  it('a node that reached itself (e.g. its own public address among the seeds) is told so', () => {
    expect(checkHello(id(1), makeHello(id(1)))).toEqual({
      close: 'selfConnection',
      reason: 'connected to itself',
    });
  });

  it('another chain or protocol version names both values', () => {
    expect(checkHello(id(1), makeHello(id(2, { chainId: 9 })))).toEqual({
      close: 'wrongChain',
      reason: 'wrong chain id 9, expected 3',
    });
    expect(checkHello(id(1), makeHello(id(2, { protocolVersion: PROTOCOL_VERSION + 1 })))).toEqual({
      close: 'wrongVersion',
      reason: `protocol version ${PROTOCOL_VERSION + 1}, expected ${PROTOCOL_VERSION}`,
    });
  });
});

describe('Auth signatures', () => {
  it('signing again with the same identity gives the same valid signature (Ed25519 is deterministic)', () => {
    const dialer = id(1);
    const listener = id(2);
    const t = {
      dialer: makeHello(dialer),
      listener: makeHello(listener),
      binding: new Uint8Array(32).fill(3),
    };
    const first = makeAuth(dialer, 'dialer', t);
    const again = makeAuth(dialer, 'dialer', t);
    expect(Buffer.from(again.sig)).toEqual(Buffer.from(first.sig));
    expect(verifyAuth(listener, 'dialer', t, again)).toBe(true);
    // A second identity object with the same key bytes (a copy) signs identically.
    const copy = { ...dialer, secretKey: dialer.secretKey.slice() };
    expect(Buffer.from(makeAuth(copy, 'dialer', t).sig)).toEqual(Buffer.from(first.sig));
  });
});
