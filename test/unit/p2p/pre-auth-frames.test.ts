import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { CLOSE } from '../../../src/p2p/close-codes.js';
import { makeHello } from '../../../src/p2p/handshake.js';
import type { PeerSession } from '../../../src/p2p/peer-session.js';
import { encodeMessage } from '../../../src/wire/codec.js';
import { MSG } from '../../../src/wire/message-types.js';
import { testIdentity } from '../../support/p2p-identity.js';
import {
  attach,
  authenticate,
  flush,
  MemoryLink,
  makeNode as makeSharedNode,
  stopNodes,
} from './in-process-node.js';

// Frames before the handshake completes are charged to no byte budget, CPU meter or key. The only
// one an honest peer sends besides Hello and Auth is a Reject, right before it closes: these tests
// run sessions on in-memory links attached to a real P2pNode, so its own admission and scoring
// code is what is exercised.

afterEach(stopNodes);

const makeNode = () => makeSharedNode({ identity: testIdentity('pre-auth-frames', 0) });

/** Delivers `frame` up to `times` times while the link is open; returns how many were delivered. */
function flood(s: PeerSession, link: MemoryLink, frame: Uint8Array, times: number): number {
  let delivered = 0;
  for (let i = 0; i < times && link.isOpen && !s.isClosed; i++) {
    s.onFrame(frame);
    delivered++;
  }
  return delivered;
}

describe('a Reject before the handshake is the last frame read', () => {
  it('an unauthenticated connection is closed at its second Reject, not after 10,000', async () => {
    const node = makeNode();
    const link = new MemoryLink('198.51.7.9');
    const s = attach(node, link);
    const reject = encodeMessage({ t: MSG.reject, id: 0, code: 'X'.repeat(32), reason: 'y'.repeat(256) });
    expect(flood(s, link, reject, 10_000)).toBe(2);
    await flush();
    expect(link.closedWith?.code).toBe(CLOSE.protocolViolation);
    expect(s.isClosed).toBe(true);
  });

  it('the same holds after their Hello, while the listener waits for Auth', async () => {
    const node = makeNode();
    const link = new MemoryLink('198.51.7.10');
    const s = attach(node, link);
    s.onFrame(encodeMessage(makeHello(testIdentity('pre-auth-attacker', 1))));
    expect(link.isOpen).toBe(true);
    const reject = encodeMessage({ t: MSG.reject, id: 0, code: 'X', reason: '' });
    expect(flood(s, link, reject, 10_000)).toBe(2);
    expect(link.closedWith?.code).toBe(CLOSE.protocolViolation);
  });

  it('the frame after a Reject is refused unread: garbage there is an unexpected frame, not bad CBOR', async () => {
    const node = makeNode();
    const link = new MemoryLink('198.51.7.11');
    const s = attach(node, link);
    s.onFrame(encodeMessage({ t: MSG.reject, id: 0, code: 'X', reason: '' }));
    expect(link.isOpen).toBe(true);
    s.onFrame(new Uint8Array([0xff, 0xff, 0xff]));
    expect(link.closedWith?.reason).toMatch(/^PROTOCOL_VIOLATION: WIRE_UNEXPECTED_TYPE/);
    expect(node.counters['WIRE_UNEXPECTED_TYPE']).toBe(1);
    expect(node.counters['WIRE_NOT_A_MESSAGE'] ?? 0).toBe(0);
  });

  it('a peer refusing our dial (Hello, Reject, its close) is reported with its own close code and reason', async () => {
    const node = makeNode();
    const refused: { code: number; reason: string; direction: string }[] = [];
    node.on('peer:refused', (e: { code: number; reason: string; direction: string }) => refused.push(e));
    const link = new MemoryLink('198.51.7.12', 'outbound');
    const s = attach(node, link);
    s.onFrame(encodeMessage(makeHello(testIdentity('pre-auth-listener', 2))));
    await flush();
    const reason = 'WRONG_CHAIN: wrong chain id 3, expected 1';
    s.onFrame(
      encodeMessage({ t: MSG.reject, id: 0, code: 'WRONG_CHAIN', reason: 'wrong chain id 3, expected 1' }),
    );
    // the Reject alone does not close our side: the peer's close carries the code
    expect(link.isOpen).toBe(true);
    link.closedByPeer(CLOSE.wrongChain, reason);
    await flush();
    expect(refused).toEqual([
      expect.objectContaining({ code: CLOSE.wrongChain, reason, direction: 'outbound' }),
    ]);
    expect(node.counters['WIRE_UNEXPECTED_TYPE'] ?? 0).toBe(0);
  });
});

describe('who counts as connected', () => {
  it('a session is connected from its authentication to its close, never before', async () => {
    const node = makeNode();
    const who = testIdentity('pre-auth-connected', 3);
    const link = new MemoryLink('198.51.7.30');
    const s = attach(node, link);
    expect(node.isConnected(toHex(who.publicKey))).toBe(false);
    s.onFrame(encodeMessage(makeHello(who)));
    expect(node.isConnected(toHex(who.publicKey))).toBe(false);
    link.closedByPeer(CLOSE.shutdown, 'bye');
    await flush();
    const ready = await authenticate(node, new MemoryLink('198.51.7.31'), who);
    expect(ready.isReady).toBe(true);
    expect(node.isConnected(ready.peerId)).toBe(true);
    ready.shutdown('shutdown', 'done');
    await flush();
    expect(node.isConnected(ready.peerId)).toBe(false);
  });
});
