import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Xoshiro128 } from '../../../src/consensus/snowball/prng.js';
import { OUTBOUND_SHARE, OutboundPacer, type PacerLimits } from '../../../src/p2p/outbound-pacer.js';
import { P2P_DEFAULTS } from '../../../src/p2p/p2p-options.js';
import { DEFAULT_RATE_LIMITS, PeerRateLimiter } from '../../../src/p2p/rate-limits.js';
import { TokenBucket } from '../../../src/p2p/token-bucket.js';
import { decodeFrame, encodeMessage } from '../../../src/wire/codec.js';
import { MAX_TXS_PER_BATCH, TX_FRAME_LIMIT } from '../../../src/wire/limits.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';

/**
 * What our node sends one peer, checked the way that peer checks it (issue 10: our own gossip must
 * never get an honest node scored by its peers): every frame decodes under the peer's frame limits
 * and schemas, fits its per-type message rate (RATE_LIMITED is an offence) and its byte budget.
 * Time is vitest's fake clock, so the pacer's own retry timers run in simulated time.
 */

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

/** The limits the node gives each peer's pacer (P2pNode: what a peer with defaults allows). */
const NODE_LIMITS: PacerLimits = {
  peerRates: DEFAULT_RATE_LIMITS,
  peerBytesPerSec: P2P_DEFAULTS.peerInboundBytesPerSec,
  peerBurstBytes: P2P_DEFAULTS.peerInboundBurstBytes,
  maxQueuedTxs: 4_096,
  maxQueuedTxBytes: 8 * 1024 * 1024,
  maxQueuedMessages: 512,
};

/**
 * A peer with default settings receiving our frames: counts what it would score or hold back. With
 * `rng`, each frame arrives up to 250 ms after we sent it (a GC pause, a busy link), in order: the
 * headroom OUTBOUND_SHARE leaves must absorb such bunching.
 */
function receivingPeer(rng?: Xoshiro128) {
  const rates = new PeerRateLimiter(DEFAULT_RATE_LIMITS);
  let lastArrival = 0;
  const bytes = new TokenBucket(P2P_DEFAULTS.inboundBytesPerSec, P2P_DEFAULTS.inboundBurstBytes, Date.now());
  const seen = { frames: 0, byType: new Map<number, number>(), txs: 0, rateLimited: 0, overBudget: 0 };
  const received: WireMessage[] = [];
  return {
    seen,
    received,
    receive(frame: Uint8Array): boolean {
      const msg = decodeFrame(frame, 'authenticated'); // throws on a frame the peer would score
      received.push(msg);
      seen.frames++;
      seen.byType.set(msg.t, (seen.byType.get(msg.t) ?? 0) + 1);
      if (msg.t === MSG.tx) {
        expect(msg.txs.length).toBeLessThanOrEqual(MAX_TXS_PER_BATCH);
        seen.txs += msg.txs.length;
      }
      const arrival = Math.max(lastArrival, Date.now() + (rng ? rng.below(250) : 0));
      lastArrival = arrival;
      if (!rates.allow(msg.t, arrival)) seen.rateLimited++;
      if (!bytes.take(arrival, frame.length)) seen.overBudget++;
      return true;
    },
  };
}

function pacerTo(
  peer: ReturnType<typeof receivingPeer>,
  limits: PacerLimits = NODE_LIMITS,
  buffersFree = () => true,
) {
  return new OutboundPacer(limits, Date.now, (frame) => peer.receive(frame), buffersFree);
}

const tipFrame = (height: number) =>
  encodeMessage({ t: MSG.tip, height, hash: new Uint8Array(32).fill(height & 255), slot: height });
const blockFrame = (bytes: number) => encodeMessage({ t: MSG.block, block: new Uint8Array(bytes).fill(7) });
const getTx = (id: number): WireMessage => ({
  t: MSG.getTx,
  id,
  txids: new Uint8Array(32 * 4).fill(id & 255),
});

describe('OutboundPacer: a flood of every kind stays within what the peer allows', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: no frame the peer would refuse, rate-limit or hold back; requests all delivered`, () => {
      const rng = new Xoshiro128(seed);
      const peer = receivingPeer(new Xoshiro128(seed + 100));
      const pacer = pacerTo(peer);
      let queuedTxs = 0;
      let requests = 0;
      // 10 simulated seconds, far above every allowance: ~30,000 tx/s, 20 blocks/s, 50 tips/s,
      // 300 GetTx/s (the peer allows 2 blocks, 2 tips and 200 GetTx a second).
      for (let t = 0; t < 10_000; t += 1 + rng.below(20)) {
        vi.advanceTimersByTime(t + 1_000_000 - Date.now());
        const n = rng.below(600);
        pacer.queueTxs(Array.from({ length: n }, () => new Uint8Array(150 + rng.below(4_000)).fill(1)));
        queuedTxs += n;
        if (rng.below(5) === 0) pacer.queueFrame(MSG.block, blockFrame(100_000 + rng.below(1_500_000)), true);
        if (rng.below(2) === 0) pacer.queueTip(tipFrame(t));
        if (rng.below(3) === 0) pacer.queue(getTx(++requests), false);
      }
      vi.advanceTimersByTime(600_000); // let every queue drain
      expect(peer.seen.rateLimited).toBe(0);
      expect(peer.seen.overBudget).toBe(0);
      // Requests are never dropped for gossip; every one went out, in order.
      const ids = peer.received.filter((m) => m.t === MSG.getTx).map((m) => (m as { id: number }).id);
      expect(ids).toEqual(Array.from({ length: requests }, (_, i) => i + 1));
      // Transactions were sent or counted as dropped (the queue is bounded), never lost silently.
      expect(peer.seen.txs + pacer.dropped).toBeGreaterThanOrEqual(queuedTxs);
      expect(peer.seen.txs).toBeGreaterThan(0);
      // It used its allowance: about 3/4 of the peer's 8 MiB/s over the 10 s of flood and the drain.
      expect(peer.seen.byType.get(MSG.block) ?? 0).toBeGreaterThan(0);
      expect(pacer.queuedTxs).toBe(0);
      pacer.stop();
    });
  }
});

describe('OutboundPacer: queues and their bounds', () => {
  it('only the newest tip waits once the tip allowance is used', () => {
    const peer = receivingPeer();
    const pacer = pacerTo(peer);
    // A burst of 10 tips allowed by the peer, 7 of them by us (OUTBOUND_SHARE).
    const burst = Math.floor(DEFAULT_RATE_LIMITS[MSG.tip].burst * OUTBOUND_SHARE);
    for (let h = 1; h <= burst + 3; h++) pacer.queueTip(tipFrame(h));
    expect(peer.seen.byType.get(MSG.tip)).toBe(burst);
    vi.advanceTimersByTime(10_000);
    const heights = peer.received.filter((m) => m.t === MSG.tip).map((m) => (m as { height: number }).height);
    expect(heights).toEqual([...Array.from({ length: burst }, (_, i) => i + 1), burst + 3]);
    pacer.stop();
  });

  it('a full message queue drops the oldest gossip for anything new, and new gossip when only requests wait', () => {
    const peer = receivingPeer();
    const pacer = pacerTo(peer, { ...NODE_LIMITS, maxQueuedMessages: 3 });
    // The block allowance (7 of the peer's 10) is used at once; then the queue fills.
    for (let i = 0; i < 7; i++) pacer.queueFrame(MSG.block, blockFrame(1_000 + i), true);
    expect(peer.seen.byType.get(MSG.block)).toBe(7);
    pacer.queueFrame(MSG.block, blockFrame(2_001), true);
    pacer.queue(getTx(1), false);
    pacer.queue(getTx(2), false);
    expect(pacer.dropped).toBe(0);
    // Full: the gossip block waiting goes for a request; with only requests left, new gossip goes.
    pacer.queue(getTx(3), false);
    expect(pacer.dropped).toBe(1);
    pacer.queueFrame(MSG.block, blockFrame(2_002), true);
    expect(pacer.dropped).toBe(2);
    vi.advanceTimersByTime(10_000);
    const blocks = peer.received
      .filter((m) => m.t === MSG.block)
      .map((m) => (m as { block: Uint8Array }).block.length);
    expect(blocks).toEqual([1_000, 1_001, 1_002, 1_003, 1_004, 1_005, 1_006]);
    expect(peer.received.filter((m) => m.t === MSG.getTx).map((m) => (m as { id: number }).id)).toEqual([
      1, 2, 3,
    ]);
    pacer.stop();
  });

  it('keeps at most maxQueuedTxs and maxQueuedTxBytes of transactions, dropping the oldest', () => {
    const peer = receivingPeer();
    // No byte budget to send anything yet: everything queues.
    const pacer = pacerTo(peer, { ...NODE_LIMITS, maxQueuedTxs: 5, maxQueuedTxBytes: 1_000 }, () => false);
    pacer.queueTxs(Array.from({ length: 7 }, (_, i) => new Uint8Array(100).fill(i)));
    expect(pacer.queuedTxs).toBe(5);
    expect(pacer.dropped).toBe(2);
    pacer.queueTxs([new Uint8Array(700).fill(9)]);
    // 5 × 100 + 700 > 1,000 bytes: the oldest go until it fits (100 × 3 + 700).
    expect(pacer.queuedTxs).toBe(4);
    expect(pacer.dropped).toBe(4);
    pacer.stop();
  });

  it('holds everything while the node’s send buffers are full, and sends once they drain', () => {
    const peer = receivingPeer();
    let free = false;
    const pacer = pacerTo(peer, NODE_LIMITS, () => free);
    pacer.queueTip(tipFrame(1));
    pacer.queue(getTx(1), false);
    pacer.queueTxs([new Uint8Array(200)]);
    vi.advanceTimersByTime(50);
    expect(peer.seen.frames).toBe(0);
    free = true;
    vi.advanceTimersByTime(5);
    expect([...peer.seen.byType.keys()].sort()).toEqual([MSG.tx, MSG.getTx, MSG.tip].sort());
    pacer.stop();
  });

  it('a frame larger than the whole byte allowance goes alone, once the allowance is full again', () => {
    const peer = receivingPeer();
    // We may send 7,500 bytes at once (3/4 of the peer's 10,000-byte burst), 750 a second.
    const pacer = pacerTo(peer, { ...NODE_LIMITS, peerBytesPerSec: 1_000, peerBurstBytes: 10_000 });
    pacer.queueFrame(MSG.block, blockFrame(5_000), true);
    const flushes = vi.spyOn(pacer, 'flush');
    pacer.queueFrame(MSG.block, blockFrame(9_000), true);
    expect(peer.seen.byType.get(MSG.block)).toBe(1);
    vi.advanceTimersByTime(6_000); // 4,500 tokens back: not yet full
    expect(peer.seen.byType.get(MSG.block)).toBe(1);
    // It waits for the allowance to be full (~6.7 s), not in 1 ms steps (6,000 wake-ups by now).
    expect(flushes.mock.calls.length).toBeLessThanOrEqual(2);
    vi.advanceTimersByTime(1_000); // full by now: the big one went alone, and emptied the allowance
    expect(peer.seen.byType.get(MSG.block)).toBe(2);
    // So a 1,000-byte frame now waits for 1,000 tokens at 750 a second (under 320 are back).
    pacer.queueFrame(MSG.block, blockFrame(1_000), true);
    expect(peer.seen.byType.get(MSG.block)).toBe(2);
    vi.advanceTimersByTime(1_100);
    expect(peer.seen.byType.get(MSG.block)).toBe(3);
    pacer.stop();
  });

  it('stop() forgets what waits and sends nothing more', () => {
    const peer = receivingPeer();
    const pacer = pacerTo(peer, NODE_LIMITS, () => false);
    pacer.queueTip(tipFrame(1));
    pacer.queue(getTx(1), false);
    pacer.queueTxs([new Uint8Array(200)]);
    pacer.stop();
    expect(pacer.queuedTxs).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(peer.seen.frames).toBe(0);
  });
});

describe('OutboundPacer: how transactions are packed into Tx frames', () => {
  const txCounts = (peer: ReturnType<typeof receivingPeer>) =>
    peer.received.filter((m) => m.t === MSG.tx).map((m) => (m as { txs: Uint8Array[] }).txs.length);

  it('small transactions: at most MAX_TXS_PER_BATCH per frame', () => {
    const peer = receivingPeer();
    const pacer = pacerTo(peer);
    pacer.queueTxs(Array.from({ length: 1_000 }, () => new Uint8Array(100)));
    vi.advanceTimersByTime(10_000);
    expect(txCounts(peer)).toEqual([MAX_TXS_PER_BATCH, MAX_TXS_PER_BATCH, MAX_TXS_PER_BATCH, 232]);
    pacer.stop();
  });

  it('large transactions: as many as the Tx frame limit holds, exactly filling it', () => {
    // 32 + 32 × (8,186 + 5) = 262,144 bytes: the frame estimate meets TX_FRAME_LIMIT exactly.
    expect(32 + 32 * (8_186 + 5)).toBe(TX_FRAME_LIMIT);
    const peer = receivingPeer();
    const pacer = pacerTo(peer);
    pacer.queueTxs(Array.from({ length: 40 }, () => new Uint8Array(8_186)));
    vi.advanceTimersByTime(10_000);
    expect(txCounts(peer)).toEqual([32, 8]);
    pacer.stop();
  });
});

describe('OutboundPacer: who gives way when the message queue is full', () => {
  it('new gossip evicts the oldest waiting gossip, not itself', () => {
    const peer = receivingPeer();
    const pacer = pacerTo(peer, { ...NODE_LIMITS, maxQueuedMessages: 2 });
    for (let i = 0; i < 7; i++) pacer.queueFrame(MSG.block, blockFrame(100 + i), true);
    pacer.queueFrame(MSG.block, blockFrame(201), true);
    pacer.queueFrame(MSG.block, blockFrame(202), true);
    pacer.queueFrame(MSG.block, blockFrame(203), true); // full: 201 goes
    expect(pacer.dropped).toBe(1);
    vi.advanceTimersByTime(10_000);
    const sizes = peer.received
      .filter((m) => m.t === MSG.block)
      .map((m) => (m as { block: Uint8Array }).block.length);
    expect(sizes.slice(7)).toEqual([202, 203]);
    pacer.stop();
  });

  it('requests are never dropped, even past the queue bound', () => {
    const peer = receivingPeer();
    const pacer = pacerTo(peer, { ...NODE_LIMITS, maxQueuedMessages: 2 });
    // Our GetTx allowance is 300 at once (3/4 of the peer's 400): the last 10 must wait.
    for (let i = 0; i < 310; i++) pacer.queue(getTx(1_000 + i), false);
    expect(peer.seen.byType.get(MSG.getTx)).toBe(300);
    expect(pacer.dropped).toBe(0);
    vi.advanceTimersByTime(60_000);
    const ids = peer.received.filter((m) => m.t === MSG.getTx).map((m) => (m as { id: number }).id);
    expect(ids).toEqual(Array.from({ length: 310 }, (_, i) => 1_000 + i));
    expect(peer.seen.rateLimited).toBe(0);
    pacer.stop();
  });

  it('a frame too big for the byte allowance still waits for its type’s allowance', () => {
    const peer = receivingPeer();
    // The peer allows 1 block a second (burst 1): we send 3 every 4 s. 10,000 bytes of burst.
    const limits: PacerLimits = {
      ...NODE_LIMITS,
      peerRates: { ...DEFAULT_RATE_LIMITS, [MSG.block]: { perSec: 1, burst: 1 } },
      peerBytesPerSec: 100_000,
      peerBurstBytes: 10_000,
    };
    const sentAt: number[] = [];
    const t0 = Date.now();
    const pacer = new OutboundPacer(
      limits,
      Date.now,
      (frame) => {
        sentAt.push(Date.now() - t0);
        return peer.receive(frame);
      },
      () => true,
    );
    pacer.queueFrame(MSG.block, blockFrame(100), true);
    pacer.queueFrame(MSG.block, blockFrame(9_000), true); // over our 7,500-byte allowance
    vi.advanceTimersByTime(5_000);
    // The bytes were back within ~0.1 s; the block allowance only after 1/0.75 s.
    expect(sentAt).toHaveLength(2);
    expect(sentAt[1]).toBeGreaterThanOrEqual(1_333);
    expect(peer.seen.rateLimited).toBe(0);
    pacer.stop();
  });

  it('a message type the peer sets no rate for is paced by bytes alone', () => {
    const peer = receivingPeer();
    const { [MSG.tip]: _tip, ...withoutTip } = DEFAULT_RATE_LIMITS;
    const pacer = pacerTo(peer, { ...NODE_LIMITS, peerRates: withoutTip });
    for (let h = 1; h <= 20; h++) {
      pacer.queueTip(tipFrame(h));
    }
    // Each tip replaces the one waiting; with no tip allowance to wait for, each goes at once.
    expect(peer.seen.byType.get(MSG.tip)).toBe(20);
    pacer.stop();
  });
});
