import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { toHex } from '../../../src/encoding/bytes.js';
import type { LocalIdentity } from '../../../src/p2p/handshake.js';
import { authenticateRaw, messageOf, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { encodeMessage } from '../../../src/wire/codec.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';
import { testIdentity, testTls } from '../../support/p2p-identity.js';
import { type ProbeEvent, ProbeProcess } from './probe-process.js';

/**
 * The attacks of issue 10, each against a real target process on 127.0.0.1 that also keeps honest
 * peers: H (the target dialed it: an outbound slot) and V (an active masternode that dialed the
 * target). Attackers speak from their own loopback addresses (127.0.x.y), so per-IP rules apply as
 * they would on the internet.
 */
const PATH = '/p2p/1';
const PHRASE = 'p2p-attacks';
const attacker = (i: number): LocalIdentity => testIdentity('p2p-attacker', i);
const pubkeyOf = (i: number) => toHex(testIdentity(PHRASE, i).publicKey);
const frame = (payload: Uint8Array) => RawWsClient.frame(payload);
const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectAs(ip: string, port: number): Promise<RawWsClient> {
  return RawWsClient.connect('127.0.0.1', port, PATH, { localAddress: ip });
}

describe('attacks on a live node (issue 10)', () => {
  let target: ProbeProcess;
  let honest: ProbeProcess;
  let validator: ProbeProcess;
  const stats = async () => target.query({ cmd: 'stats' }, 'stats');
  const counters = async () => (await stats())['counters'] as Record<string, number>;
  const banned = (from: number) =>
    target.events.slice(from).filter((e) => e.event === 'peer-banned' || e.event === 'ip-banned');

  beforeAll(async () => {
    honest = await ProbeProcess.start(['--seed-phrase', PHRASE, '--key-index', '1']);
    target = await ProbeProcess.start([
      '--seed-phrase',
      PHRASE,
      '--key-index',
      '0',
      '--seed',
      `127.0.0.1:${honest.port}`,
      '--opt',
      'maxInbound=16',
      '--opt',
      'requestTimeoutMs=300',
    ]);
    await target.query({ cmd: 'validators', keys: [pubkeyOf(2), pubkeyOf(5)] }, 'validators-set');
    validator = await ProbeProcess.start([
      '--seed-phrase',
      PHRASE,
      '--key-index',
      '2',
      '--seed',
      `127.0.0.1:${target.port}`,
    ]);
    await target.waitForPeerCount(2);
  });

  afterAll(async () => {
    await ProbeProcess.killAll();
  });

  /** The honest links are up and answer polls. */
  async function honestStillServed(): Promise<void> {
    expect((await target.peerIds()).filter((p) => p === pubkeyOf(1) || p === pubkeyOf(2))).toHaveLength(2);
    for (const p of [honest, validator]) {
      const poll = await p.query({ cmd: 'poll', peer: target.pubkey, txids: 4 }, 'poll-result');
      expect(poll['ok']).toBe(true);
    }
  }

  it('a relayed handshake fails: the relay cannot get an honest key banned or speak for it', async () => {
    // M terminates TLS on both sides: the victim B (a real node) dials M as it would any peer, M
    // dials the target from its own address and forwards every frame both ways.
    const tls = await testTls();
    const https = createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
    const wss = new WebSocketServer({ server: https, perMessageDeflate: false });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const mark = target.events.length;
    const before = await counters();
    const relayed = new Promise<RawWsClient>((resolve) => {
      wss.once('connection', async (fromVictim: WebSocket) => {
        const early: Buffer[] = [];
        let toTarget: RawWsClient | undefined;
        fromVictim.on('message', (data: Buffer) => {
          if (toTarget) void toTarget.write(frame(data));
          else early.push(data);
        });
        toTarget = await connectAs('127.0.5.1', target.port);
        for (const data of early) await toTarget.write(frame(data));
        const forward = () => {
          for (const f of toTarget!.frames.splice(0)) if (f.opcode === 2) fromVictim.send(f.payload);
        };
        forward();
        toTarget.socket.on('data', forward);
        resolve(toTarget);
      });
    });
    const victim = await ProbeProcess.start([
      '--seed-phrase',
      PHRASE,
      '--key-index',
      '3',
      '--seed',
      `127.0.0.1:${(https.address() as { port: number }).port}`,
    ]);
    const toTarget = await relayed;
    await toTarget.closed;
    // B signed the transcript with the relay's certificate hash; the target checks its own
    expect(toTarget.closeCode).toBe(4004);
    expect(toTarget.closeReason).toMatch(/^BAD_SIGNATURE/);
    expect((await counters())['BAD_SIGNATURE']).toBe((before['BAD_SIGNATURE'] ?? 0) + 1);
    expect(
      target.events.slice(mark).filter((e) => e.event === 'peer-connected' && e['peerId'] === pubkeyOf(3)),
    ).toEqual([]);
    expect(banned(mark).filter((e) => e['peerId'] === pubkeyOf(3))).toEqual([]);
    await victim.kill();
    wss.close();
    https.close();
  });

  it('tag 27/28/29 and record frames are refused cheaply, before and after the handshake; no amplification', async () => {
    const before = await counters();
    const gossipBefore = target.events.filter((e) => e.event === 'gossip-tx').length;
    // before the handshake: a 1 MiB frame of tag-27 items is refused on its length alone
    const tag27 = hex('d81b 83 654572726f72 64626f6f6d a0');
    const body = new Uint8Array(1 << 20);
    for (let i = 0; i + tag27.length <= body.length; i += tag27.length) body.set(tag27, i);
    // after it: a 4 MiB Block of tag-27 items, a Tx with shared references (1 item counted 256×),
    // a record definition
    const big = new Uint8Array(4 * 1024 * 1024 - 64);
    for (let i = 0; i + tag27.length <= big.length; i += tag27.length) big.set(tag27, i);
    const shared = cat(
      hex('a3 6174 05 626964 00 63747873 98 ff d81c 5a 000186a0'),
      new Uint8Array(100_000).fill(7),
      ...Array.from({ length: 254 }, () => hex('d81d 00')),
    );
    const hostile = [
      cat(hex('a2 6174 09 65626c6f636b 9a 00400000'), big),
      shared,
      cat(hex('a2 6174 03 616e'), hex('d9dfff 84 19e000 82 6174 616e 03 01')),
    ];
    // One attacker per frame (50 points each, below the ban), so each frame is read and refused.
    // The slowest frame is wall time, which a busy 2-core CI machine can stretch by descheduling the
    // target mid-frame; decoding these frames in full takes seconds every time. So: the best of up
    // to three rounds must stay under 5 ms, and every round must refuse all three.
    const slowest: number[] = [];
    for (let round = 0; round < 3 && !(Math.min(...slowest) < 5); round++) {
      await target.query({ cmd: 'loop-reset' }, 'loop-reset');
      const roundBefore = (await stats())['counters'] as Record<string, number>;
      const pre = await connectAs(`127.0.6.${2 + round}`, target.port);
      await pre.write(frame(cat(hex('a2 6174 09 65626c6f636b 9a 00010000'), body)));
      await pre.closed;
      expect(pre.closeCode).toBe(4000);
      for (const [i, f] of hostile.entries()) {
        const c = await connectAs(`127.0.5.${20 + 3 * round + i}`, target.port);
        await authenticateRaw(c, attacker(10 + 3 * round + i));
        await c.write(frame(f));
        await c.send({ t: MSG.ping, n: 1 });
        await c.waitFor((x) => messageOf(x)?.t === MSG.pong);
        c.destroy();
      }
      const after = await stats();
      const ctr = after['counters'] as Record<string, number>;
      expect((ctr['WIRE_BAD_CBOR'] ?? 0) - (roundBefore['WIRE_BAD_CBOR'] ?? 0)).toBe(3);
      slowest.push(after['slowestFrameMs'] as number);
    }
    expect(Math.min(...slowest), `slowest frame per round: ${slowest.join(', ')} ms`).toBeLessThan(5);
    expect(((await counters())['WIRE_BAD_CBOR'] ?? 0) - (before['WIRE_BAD_CBOR'] ?? 0)).toBe(
      3 * slowest.length,
    );
    expect(target.events.filter((e) => e.event === 'gossip-tx').length).toBe(gossipBefore);
    await honestStillServed();
  });

  it('scores survive reconnects: bad frames on three connections ban the key', async () => {
    const mark = target.events.length;
    const id = attacker(2);
    // 50 points each; the score decays by 1 point per second in between
    for (const ip of ['127.0.5.4', '127.0.5.5', '127.0.5.9']) {
      const c = await connectAs(ip, target.port);
      await authenticateRaw(c, id);
      await c.write(frame(new Uint8Array([0xa2, 0x61, 0x74, 0x03, 0xff, 0xff, 0x1c, 0xfe]))); // 50
      await sleep(100);
      c.destroy();
      await c.closed;
    }
    const ban = await target.waitFor(
      (e) => e.event === 'peer-banned' && e['peerId'] === toHex(id.publicKey),
      5_000,
      mark,
    );
    expect(ban['offence']).toBe('WIRE_BAD_CBOR');
    // a banned key is refused before any signature is checked: a garbage Auth gets BANNED, not BAD_SIGNATURE
    const c = await connectAs('127.0.5.6', target.port);
    await expect(authenticateRaw(c, id, 5_000, new Uint8Array(32))).rejects.toThrow(/refused: 4008 BANNED/);
  });

  it('handshake signature checks are rate-limited per IP', async () => {
    const codes: number[] = [];
    // 4 at a time (below the pending limit per IP), 60 in all, as fast as they complete
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 15; i++) {
          const c = await connectAs('127.0.5.7', target.port);
          await authenticateRaw(c, attacker(100 + w * 15 + i)).catch(() => undefined);
          codes.push(c.closeCode);
          c.destroy();
        }
      }),
    );
    expect(codes.filter((c) => c === 4013).length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 0).length).toBeGreaterThan(0);
    await honestStillServed();
  });

  it('an unsolicited peer list is ignored: nothing learned, nothing dialed', async () => {
    let dialed = 0;
    const canary = createTcpServer((s) => {
      dialed++;
      s.destroy();
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    const port = (canary.address() as { port: number }).port;
    const before = await counters();
    const c = await connectAs('127.0.5.8', target.port);
    await authenticateRaw(c, attacker(3));
    const peers = Array.from({ length: 64 }, (_, i) => ({
      host: '127.0.0.1',
      port,
      pubkey: attacker(200 + i).publicKey,
    }));
    await c.send({ t: MSG.peers, id: 7, peers } as WireMessage);
    await sleep(2_500); // two maintenance rounds
    const after = await counters();
    expect(after['UNSOLICITED_RESPONSE'] ?? 0).toBe((before['UNSOLICITED_RESPONSE'] ?? 0) + 1);
    expect(after['addressesLearned'] ?? 0).toBe(before['addressesLearned'] ?? 0);
    expect(dialed).toBe(0);
    c.destroy();
    canary.close();
  });

  it('unauthenticated floods: 1,000 connections and 10,000 pre-auth frames; honest peers stay, newcomers get in', async () => {
    await target.query({ cmd: 'loop-reset' }, 'loop-reset');
    const mark = target.events.length;
    const valid = encodeMessage({ t: MSG.ping, n: 1 });
    const sockets: RawWsClient[] = [];
    let refused = 0;
    // 1,000 connection attempts from 250 addresses in 50 /24s; each sends 10 frames of garbage
    await Promise.all(
      Array.from({ length: 50 }, async (_, g) => {
        for (let k = 0; k < 20; k++) {
          const ip = `127.${10 + g}.${k % 5}.${1 + (k % 4)}`;
          const c = await connectAs(ip, target.port).catch(() => undefined);
          if (!c) {
            refused++;
            continue;
          }
          sockets.push(c);
          const frames = Array.from({ length: 10 }, (_, i) =>
            frame(i % 2 ? valid : new Uint8Array(40).fill(i)),
          );
          await c.write(Buffer.concat(frames));
        }
      }),
    );
    // an honest newcomer connects during the flood
    const newcomer = await ProbeProcess.start([
      '--seed-phrase',
      PHRASE,
      '--key-index',
      '4',
      '--seed',
      `127.0.0.1:${target.port}`,
    ]);
    await newcomer.waitForPeerCount(1);
    await honestStillServed();
    const s = await stats();
    expect(s['loopP99Ms'] as number).toBeLessThan(20);
    expect(sockets.length + refused).toBe(1_000);
    expect(
      target.events
        .slice(mark)
        .filter(
          (e) =>
            e.event === 'peer-disconnected' && [pubkeyOf(1), pubkeyOf(2)].includes(e['peerId'] as string),
        ),
    ).toEqual([]);
    for (const c of sockets) c.destroy();
    await newcomer.kill();
  }, 60_000);

  it('1,000 fake identities take neither outbound slots nor the masternode’s, and evict no masternode', async () => {
    const mark = target.events.length;
    let authenticated = 0;
    const held: RawWsClient[] = [];
    await Promise.all(
      Array.from({ length: 100 }, async (_, g) => {
        for (let k = 0; k < 10; k++) {
          const c = await connectAs(`127.${100 + (g % 50)}.${g}.${1 + k}`, target.port).catch(
            () => undefined,
          );
          if (!c) continue;
          try {
            await authenticateRaw(c, attacker(1_000 + g * 10 + k));
            authenticated++;
            held.push(c);
          } catch {
            c.destroy();
          }
        }
      }),
    );
    const peers = (await target.query({ cmd: 'peers' }, 'peers'))['peers'] as {
      peerId: string;
      direction: string;
    }[];
    // the masternode and the outbound peer are still there; fakes fill at most the 16 inbound slots
    expect(peers.map((p) => p.peerId)).toContain(pubkeyOf(2));
    expect(peers.find((p) => p.peerId === pubkeyOf(1))?.direction).toBe('outbound');
    expect(
      peers.filter((p) => p.peerId !== pubkeyOf(1) && p.peerId !== pubkeyOf(2)).length,
    ).toBeLessThanOrEqual(16);
    expect(authenticated).toBeGreaterThan(0);
    expect(
      target.events.slice(mark).filter((e) => e.event === 'peer-disconnected' && e['peerId'] === pubkeyOf(2)),
    ).toEqual([]);
    // another active masternode arriving now gets its reserved slot without evicting anyone
    const evictedBefore = (await counters())['evicted'] ?? 0;
    const late = await ProbeProcess.start([
      '--seed-phrase',
      PHRASE,
      '--key-index',
      '5',
      '--seed',
      `127.0.0.1:${target.port}`,
    ]);
    await late.waitForPeerCount(1);
    expect(await target.peerIds()).toContain(pubkeyOf(5));
    expect((await counters())['evicted'] ?? 0).toBe(evictedBefore);
    await late.kill();
    await honestStillServed();
    for (const c of held) c.destroy();
  }, 60_000);

  it('a peer stalled like a long GC pause answers late and is not banned by anyone', async () => {
    const mark = target.events.length;
    const markH = honest.events.length;
    const before = await counters();
    // the honest peer stops its event loop for 2.5 s while the target polls it with a 300 ms timeout
    honest.child.stdin!.write(`${JSON.stringify({ cmd: 'stall', ms: 2_500 })}\n`);
    await sleep(50);
    const results: ProbeEvent[] = [];
    for (let i = 0; i < 15; i++) {
      results.push(
        await target.query({ cmd: 'poll', peer: pubkeyOf(1), txids: 2, timeoutMs: 150 }, 'poll-result'),
      );
    }
    await honest.waitFor((e) => e.event === 'stalled', 10_000, markH);
    await sleep(500);
    const after = await counters();
    expect(results.filter((r) => r['ok'] === false).length).toBeGreaterThan(5);
    expect((after['lateAnswers'] ?? 0) - (before['lateAnswers'] ?? 0)).toBeGreaterThan(5);
    expect(after['UNSOLICITED_RESPONSE'] ?? 0).toBe(before['UNSOLICITED_RESPONSE'] ?? 0);
    expect(banned(mark)).toEqual([]);
    expect(honest.events.slice(markH).filter((e) => e.event === 'peer-banned')).toEqual([]);
    await honestStillServed();
  });

  it('after all that the target has not crashed, wrote nothing to stderr, reports no handler errors', () => {
    expect(target.exitCode).toBeUndefined();
    expect(target.stderr).toBe('');
    expect(target.events.filter((e) => e.event === 'handler-error')).toEqual([]);
  });
});
