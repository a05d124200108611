import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE } from '../../../src/p2p/close-codes.js';
import { makeHello } from '../../../src/p2p/handshake.js';
import { PeerBanStore } from '../../../src/storage/peer-ban-store.js';
import { encodeMessage } from '../../../src/wire/codec.js';
import { testIdentity } from '../../support/p2p-identity.js';
import {
  admitUpgrade,
  attach,
  authenticate,
  flush,
  MemoryLink,
  makeNode,
  stopNodes,
  wantsDial,
} from './in-process-node.js';

// One IPv6 host is routinely given a whole /64 and may use a fresh address of it for every
// connection. Every per-IP rule (misbehaviour scores, IP bans, the handshake signature budget,
// pending and inbound connections per IP) must count that /64 as one peer, or none of them holds.

afterEach(stopNodes);

/** A frame that is not CBOR, sent before the handshake: 50 points to the sender's IP. */
const GARBAGE = new Uint8Array([0xff, 0xff]);

/** Offences from each address in turn until the IP score passes the ban threshold (200). */
async function misbehaveFrom(node: ReturnType<typeof makeNode>, addresses: readonly string[]): Promise<void> {
  for (const ip of addresses) {
    attach(node, new MemoryLink(ip)).onFrame(GARBAGE);
    await flush();
  }
}

describe('per-IP rules count an IPv6 /64 as one peer', () => {
  it('misbehaviour from five addresses of one /64 adds up to a ban of the whole /64, and of no other', async () => {
    const node = makeNode();
    const bans: { ip: string }[] = [];
    node.on('ip:banned', (e: { ip: string }) => bans.push(e));
    await misbehaveFrom(
      node,
      [1, 2, 3, 4, 5].map((i) => `2a01:4f8:10:20::${i}`),
    );
    expect(bans.map((b) => b.ip)).toEqual(['2a01:4f8:10:20::/64']);
    for (const ip of ['2a01:4f8:10:20::1', '2a01:4f8:10:20::6', '2a01:4f8:10:20:ffff:ffff:ffff:ffff'])
      expect(admitUpgrade(node, ip), ip).toBe('banned');
    for (const ip of ['2a01:4f8:10:21::1', '2a01:4f8:10:1f:ffff:ffff:ffff:ffff', '198.51.7.9'])
      expect(admitUpgrade(node, ip), ip).toBeNull();
  });

  it('an IPv4 address is one subject in either spelling, and its neighbour another', async () => {
    const node = makeNode();
    await misbehaveFrom(node, [
      '198.51.7.9',
      '::ffff:198.51.7.9',
      '198.51.7.9',
      '::ffff:c633:709',
      '198.51.7.9',
    ]);
    expect(admitUpgrade(node, '198.51.7.9')).toBe('banned');
    expect(admitUpgrade(node, '::ffff:198.51.7.9')).toBe('banned');
    expect(admitUpgrade(node, '198.51.7.10')).toBeNull();
  });

  it('an IP-banned /64 is not dialed at any of its addresses', async () => {
    const node = makeNode();
    await misbehaveFrom(
      node,
      [1, 2, 3, 4, 5].map((i) => `2a01:4f8:10:20::${i}`),
    );
    expect(wantsDial(node, '2a01:4f8:10:20::99')).toBe('wait');
    expect(wantsDial(node, '2a01:4f8:10:21::99')).toBe('dial');
  });

  it('the handshake signature budget (burst 20 per IP) holds for 100 addresses of one /64', async () => {
    const node = makeNode({ now: () => 1_000_000 }); // no refill while the Hellos arrive
    for (let i = 1; i <= 100; i++) {
      const s = attach(node, new MemoryLink(`2a01:4f8:10:21::${i.toString(16)}`));
      s.onFrame(encodeMessage(makeHello(testIdentity('ip-subject', i))));
    }
    await flush();
    // at most the burst may pass: the rest are refused before any signature is checked
    expect(node.counters['handshakeRateLimited'] ?? 0).toBe(80);
  });

  it('…while 100 Hellos from 100 different /64s each get their own budget', async () => {
    const node = makeNode();
    for (let i = 1; i <= 100; i++) {
      const s = attach(node, new MemoryLink(`2a01:4f8:10:${(0x100 + i).toString(16)}::1`));
      s.onFrame(encodeMessage(makeHello(testIdentity('ip-subject', i))));
    }
    await flush();
    expect(node.counters['handshakeRateLimited'] ?? 0).toBe(0);
  });

  it('at most maxPendingPerIp (8) pending handshakes from one /64', () => {
    const node = makeNode();
    for (let i = 1; i <= 8; i++) {
      const ip = `2a01:4f8:10:22::${i}`;
      expect(admitUpgrade(node, ip)).toBeNull();
      attach(node, new MemoryLink(ip));
    }
    expect(admitUpgrade(node, '2a01:4f8:10:22::9')).toBe('too many pending connections from this address');
    expect(admitUpgrade(node, '2a01:4f8:10:22:1::9')).toBe('too many pending connections from this address');
    expect(admitUpgrade(node, '2a01:4f8:10:23::1')).toBeNull();
  });

  it('at most maxInboundPerIp (4) inbound peers from one /64', async () => {
    const node = makeNode();
    for (let i = 1; i <= 4; i++) {
      const s = await authenticate(
        node,
        new MemoryLink(`2a01:4f8:10:24::${i}`),
        testIdentity('ip-subject', i),
      );
      expect(s.isReady).toBe(true);
    }
    const fifth = new MemoryLink('2a01:4f8:10:24::5');
    const s = await authenticate(node, fifth, testIdentity('ip-subject', 5));
    expect(s.isReady).toBe(false);
    expect(fifth.closedWith?.code).toBe(CLOSE.tooManyPeers);
    expect(fifth.closedWith?.reason).toMatch(/4 inbound peers from 2a01:4f8:10:24::\/64 already/);
    const elsewhere = await authenticate(
      node,
      new MemoryLink('2a01:4f8:10:25::1'),
      testIdentity('ip-subject', 6),
    );
    expect(elsewhere.isReady).toBe(true);
    expect(node.peers()).toHaveLength(5);
  });
});

describe('IP bans in the ban store: one key per /64, and bans written per address still hold', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const storeDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'timecoin-ip-bans-'));
    dirs.push(d);
    return d;
  };

  it('a ban of a /64 survives a restart and refuses every address of it', async () => {
    const dir = storeDir();
    const first = new PeerBanStore(dir);
    const node = makeNode({ banList: first });
    await misbehaveFrom(
      node,
      [1, 2, 3, 4, 5].map((i) => `2a01:4f8:10:26::${i}`),
    );
    await node.stop();
    const keys = first.list(Date.now()).map((b) => b.pubkey);
    expect(keys).toEqual(['2a0104f8001000260000000000000000']);
    await first.close();

    const store = new PeerBanStore(dir);
    const restarted = makeNode({ banList: store });
    expect(admitUpgrade(restarted, '2a01:4f8:10:26::77')).toBe('banned');
    expect(wantsDial(restarted, '2a01:4f8:10:26::78')).toBe('wait');
    expect(admitUpgrade(restarted, '2a01:4f8:10:27::1')).toBeNull();
    await restarted.stop();
    await store.close();
  });

  it('a ban written under one full IPv6 address (before bans were per /64) still refuses that address', async () => {
    const dir = storeDir();
    const old = new PeerBanStore(dir);
    const now = Date.now();
    old.ban(Buffer.from('2a0104f8001000280000000000000007', 'hex'), {
      untilMs: now + 3_600_000,
      reason: 'WIRE_BAD_CBOR: garbage',
      bannedAtMs: now,
    });
    await old.close();

    const store = new PeerBanStore(dir);
    const node = makeNode({ banList: store });
    expect(admitUpgrade(node, '2a01:4f8:10:28::7')).toBe('banned');
    expect(wantsDial(node, '2a01:4f8:10:28::7')).toBe('wait');
    // it named one address, and is honoured as written until it expires
    expect(admitUpgrade(node, '2a01:4f8:10:28::8')).toBeNull();
    await node.stop();
    await store.close();
  });
});
