import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE } from '../../../src/p2p/close-codes.js';
import type { PeerSession } from '../../../src/p2p/peer-session.js';
import { testIdentity } from '../../support/p2p-identity.js';
import {
  admitUpgrade,
  attach,
  authenticate,
  flush,
  MemoryLink,
  makeNode,
  stopNodes,
} from './in-process-node.js';

// A pending handshake costs its opener a TCP and TLS handshake and holds one of our 256 pending
// slots for the 5 s handshake timeout, after which it is reopened at will; an honest handshake
// completes in milliseconds. Whatever the attacker's addresses, a newcomer (a masternode dialing
// in, say) must get a pending slot.

afterEach(stopNodes);

/** A node on a clock that moves 1 ms for every connection opened, so that ages are distinct. */
function clockedNode(over: Parameters<typeof makeNode>[0] = {}) {
  let t = 1_000_000;
  const node = makeNode({ now: () => t, ...over });
  /** Admits and opens a pending connection from `ip` (it never sends a byte). */
  const open = (ip: string): PeerSession => {
    t++;
    const refusal = admitUpgrade(node, ip);
    if (refusal !== null) throw new Error(`${ip} refused: ${refusal}`);
    return attach(node, new MemoryLink(ip));
  };
  return { node, open };
}

const evicted = (s: PeerSession) => (s.link as MemoryLink).closedWith?.code === CLOSE.evicted;

describe('pending handshakes: a full table always makes room for a newcomer', () => {
  it('256 silent connections from 256 /64s of one /56 do not keep an honest newcomer out', async () => {
    const { node, open } = clockedNode();
    // one per /64 of 2a01:4f8:77:ab00::/56, never a byte sent
    const held = Array.from({ length: 256 }, (_, i) =>
      open(`2a01:4f8:77:ab${i.toString(16).padStart(2, '0')}::1`),
    );
    await flush();
    // the /56 is one network (its /48): it holds at most maxPendingPerNetgroup (32), its oldest go
    expect(held.filter((s) => s.link.isOpen)).toHaveLength(32);
    expect(held.slice(-32).every((s) => s.link.isOpen)).toBe(true);
    // an honest node from an IPv4 address, and one from an IPv6 address of another provider
    expect(admitUpgrade(node, '198.51.100.20')).toBeNull();
    expect(admitUpgrade(node, '2001:41d0:1:2::5')).toBeNull();
  });

  it('with every slot held by a different network, a newcomer takes the oldest connection’s place', async () => {
    const { node, open } = clockedNode();
    const held = Array.from({ length: 256 }, (_, i) => open(`11.${i}.1.1`)); // 256 /24s, one each
    expect(admitUpgrade(node, '198.51.100.20')).toBeNull();
    attach(node, new MemoryLink('198.51.100.20'));
    expect(admitUpgrade(node, '2001:41d0:1:2::5')).toBeNull();
    await flush();
    expect(held.filter(evicted)).toEqual(held.slice(0, 2));
    expect(node.counters['evictedPending']).toBe(2);
  });

  it('the network holding the most pending slots gives up its oldest, even when others are older', async () => {
    const { node, open } = clockedNode({ maxPendingHandshakes: 10 });
    const singles = ['11.0.0.1', '11.1.0.1', '11.2.0.1'].map(open);
    const crowd = Array.from({ length: 7 }, (_, i) => open(`2a01:4f8:77:${i}::1`)); // one /48
    expect(admitUpgrade(node, '198.51.100.20')).toBeNull();
    await flush();
    expect(crowd.filter(evicted)).toEqual([crowd[0]]);
    expect(singles.some(evicted)).toBe(false);
  });

  it('an honest newcomer gets in while a single IP fills the table, and that IP gets no more', async () => {
    const { node, open } = clockedNode({ maxPendingPerIp: 1_000, maxPendingPerNetgroup: 1_000 });
    const held = Array.from({ length: 256 }, () => open('203.0.113.9'));
    // the one IP is refused: its own connections never give way to it
    expect(admitUpgrade(node, '203.0.113.9')).toBe('too many pending connections');
    expect(admitUpgrade(node, '198.51.100.20')).toBeNull();
    await flush();
    expect(held.filter(evicted)).toEqual([held[0]]);
  });

  it('a network at its pending limit (32) makes room for another IP of it; one IP over its own limit (8) is refused', async () => {
    const { node, open } = clockedNode();
    // 4 /64s of 2a01:4f8:77::/48, 8 each (the per-IP limit): the network's 32
    const held = [0, 1, 2, 3].flatMap((n) =>
      Array.from({ length: 8 }, (_, i) => open(`2a01:4f8:77:${n}::${i + 1}`)),
    );
    expect(admitUpgrade(node, '2a01:4f8:77:0::99')).toBe('too many pending connections from this address');
    // a neighbour in the same /48 is not shut out by it
    expect(admitUpgrade(node, '2a01:4f8:77:99::1')).toBeNull();
    await flush();
    expect(held.filter(evicted)).toEqual([held[0]]);
  });
});

describe('inbound peers per netgroup: an IPv6 /48 is one network', () => {
  it('at most maxInboundPerNetgroup (16) inbound peers from the /64s of one /48', async () => {
    const node = makeNode();
    let n = 0;
    const from = (ip: string) =>
      authenticate(node, new MemoryLink(ip), testIdentity('netgroup-admission', ++n));
    // 4 /64s × 4 (maxInboundPerIp) fill the /48's share
    for (let g = 0; g < 4; g++)
      for (let i = 1; i <= 4; i++) expect((await from(`2a01:4f8:77:${g}::${i}`)).isReady).toBe(true);
    const fifth = await from('2a01:4f8:77:4::1');
    expect(fifth.isReady).toBe(false);
    expect((fifth.link as MemoryLink).closedWith?.reason).toMatch(
      /16 inbound peers from 2a01:4f8:77::\/48 already/,
    );
    expect((await from('2a01:4f8:78::1')).isReady).toBe(true);
    expect(node.peers()).toHaveLength(17);
  });
});
