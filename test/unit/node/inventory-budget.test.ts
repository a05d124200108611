import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import {
  INVENTORY_FETCH_BUDGET,
  INVENTORY_SHUN_MS,
  INVENTORY_YIELD_SAMPLE,
  type InventorySource,
  InventorySync,
} from '../../../src/node/inventory-sync.js';
import { POLL_FETCH_BUDGET, TxFetcher } from '../../../src/node/tx-fetcher.js';

/** A txid whose last 4 bytes are `n` (so txids sort by n). */
const txid = (n: number) => {
  const t = new Uint8Array(32);
  new DataView(t.buffer).setUint32(28, n);
  return t;
};
const concat = (parts: readonly Uint8Array[]) => {
  const out = new Uint8Array(parts.length * 32);
  for (let i = 0; i < parts.length; i++) out.set(parts[i]!, i * 32);
  return out;
};
const EMPTY = new Uint8Array(0);
const PEER = 'ee'.repeat(32);

/** A peer holding txids 1..total, served in ascending pages of `per` as GetInventory does. */
function inventoryOf(total: number, per = 1_024) {
  const asked: number[] = [];
  const source: InventorySource = {
    page: async (_peer, after) => {
      const from = after.length === 32 ? new DataView(after.buffer, after.byteOffset).getUint32(28) + 1 : 1;
      asked.push(from);
      const to = Math.min(total, from + per - 1);
      const ids: Uint8Array[] = [];
      for (let n = from; n <= to; n++) ids.push(txid(n));
      return { txids: concat(ids), next: to < total ? txid(to) : EMPTY };
    },
  };
  return { source, asked };
}

describe('catch-up (GetInventory) against a lying peer', () => {
  it("fetches no more of one peer's named txids than its budget allows, across a reconnect", async () => {
    let knownCalls = 0;
    let fetchedTxids = 0;
    const fetcher = new TxFetcher({
      request: async (_peer, txids) => {
        fetchedTxids += txids.length / 32;
        return []; // the liar never delivers
      },
      deliver: () => undefined,
      known: () => {
        knownCalls++;
        return false;
      },
      now: Date.now,
      batchMs: 2,
      retryAfterMs: 2_000,
      maxTracked: 100_000,
    });
    let pages = 0;
    const inv = new InventorySync({
      source: {
        // 1,024 fresh random txids per page, ascending and above the cursor (as the page format
        // requires: the page number leads each), and the last as the cursor: "there is more".
        page: async () => {
          pages++;
          const ids = Array.from({ length: 1_024 }, () => {
            const t = new Uint8Array(randomBytes(32));
            new DataView(t.buffer).setUint32(0, pages);
            return t;
          });
          ids.sort((a, b) => Buffer.compare(a, b));
          return { txids: concat(ids), next: ids[1_023]! };
        },
      },
      fetch: (peer, txids) => fetcher.fetchListed(peer, txids),
      log: pino({ level: 'silent' }),
    });
    await inv.catchUp(PEER); // first connection
    await inv.catchUp(PEER); // the same key reconnects: no new walk
    fetcher.stop();
    expect(pages).toBe(2);
    expect(fetchedTxids).toBeLessThanOrEqual(POLL_FETCH_BUDGET.burst);
    expect(fetchedTxids).toBeLessThanOrEqual(INVENTORY_YIELD_SAMPLE);
    expect(knownCalls).toBeLessThanOrEqual(INVENTORY_YIELD_SAMPLE);
  });

  it('walks a peer that delivers what it lists to the end, and one that delivers a tenth no further than the sample', async () => {
    const run = async (share: number) => {
      const { source, asked } = inventoryOf(20 * 1_024);
      const inv = new InventorySync({
        source,
        fetch: async (_peer, txids) => ({
          requested: txids.length,
          delivered: Math.floor(txids.length * share),
        }),
        log: pino({ level: 'silent' }),
        budget: { perSec: 1e9, burst: 1e9 },
      });
      const seen = await inv.catchUp(PEER);
      return { seen, pages: asked.length, again: await inv.catchUp(PEER) };
    };
    expect(await run(0.3)).toEqual({ seen: 20 * 1_024, pages: 20, again: 20 * 1_024 });
    // Exactly a quarter is enough (cut off only below it).
    expect(await run(0.25)).toEqual({ seen: 20 * 1_024, pages: 20, again: 20 * 1_024 });
    expect(await run(0.1)).toEqual({ seen: INVENTORY_YIELD_SAMPLE, pages: 2, again: 0 });
  });

  it('logs a peer cut off for its yield at debug, with what it was asked for and what it delivered', async () => {
    const logs: { msg: string; [field: string]: unknown }[] = [];
    const { source } = inventoryOf(4 * 1_024);
    const inv = new InventorySync({
      source,
      fetch: async (_peer, txids) => ({ requested: txids.length, delivered: txids.length / 8 }),
      log: pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
      budget: { perSec: 1e9, burst: 1e9 },
    });
    expect(await inv.catchUp(PEER)).toBe(2_048);
    expect(logs).toEqual([
      expect.objectContaining({
        msg: 'catch-up: peer does not hold what it lists, not walked for a while',
        peer: PEER.slice(0, 16),
        requested: 2_048,
        delivered: 256,
        level: 20,
      }),
      expect.objectContaining({ msg: 'catch-up: inventory walked', txids: 2_048 }),
    ]);
  });

  it('remembers the yields of the last 4,096 keys walked: a cut-off key is forgotten once 4,096 others came after it', async () => {
    const LIAR = 'liar';
    const { source: liarPages } = inventoryOf(4 * 1_024);
    const setUp = async () => {
      const inv = new InventorySync({
        source: {
          // The liar lists txids; every other key holds nothing.
          page: async (peer, after) =>
            peer === LIAR ? liarPages.page(peer, after) : { txids: EMPTY, next: EMPTY },
        },
        fetch: async (_peer, txids) => ({ requested: txids.length, delivered: 0 }),
        log: pino({ level: 'silent' }),
        now: () => 0,
        budget: { perSec: 1e9, burst: 1e9 },
      });
      expect(await inv.catchUp(LIAR)).toBe(2_048);
      return inv;
    };
    const walkOthers = async (inv: InventorySync, count: number) => {
      for (let i = 0; i < count; i++) expect(await inv.catchUp(`key-${i}`)).toBe(0);
    };
    // 4,095 other keys: the liar's record is still among the 4,096 kept, so it is still cut off.
    const kept = await setUp();
    await walkOthers(kept, 4_095);
    expect(await kept.catchUp(LIAR)).toBe(0);
    // A 4,096th other key: the liar's, the least recently walked, is forgotten and it is walked again.
    const forgotten = await setUp();
    await walkOthers(forgotten, 4_096);
    expect(await forgotten.catchUp(LIAR)).toBe(2_048);
  });

  it('by default takes INVENTORY_FETCH_BUDGET: 8,192 txids at once, then 2,048 a second, one wait per page as long as it needs', async () => {
    expect(INVENTORY_FETCH_BUDGET).toEqual({ perSec: 2_048, burst: 8_192 });
    vi.useFakeTimers({ now: 0 });
    try {
      const { source } = inventoryOf(10 * 1_024);
      const fetched: number[] = [];
      const inv = new InventorySync({
        source,
        fetch: async (_peer, txids) => {
          fetched.push(txids.length);
          return { requested: txids.length, delivered: txids.length };
        },
        log: pino({ level: 'silent' }),
        now: () => Date.now(),
      });
      const walking = inv.catchUp(PEER);
      await vi.advanceTimersByTimeAsync(0);
      expect(fetched).toEqual(Array(8).fill(1_024)); // the burst
      expect(vi.getTimerCount()).toBe(1); // waiting for the ninth page's budget
      // 1,024 txids at 2,048 a second: the one timer fires after 500 ms, and the page goes out.
      await vi.advanceTimersToNextTimerAsync();
      expect(Date.now()).toBe(500);
      expect(fetched).toHaveLength(9);
      await vi.advanceTimersToNextTimerAsync();
      expect(Date.now()).toBe(1_000);
      expect(await walking).toBe(10 * 1_024);
      expect(fetched).toHaveLength(10);
    } finally {
      vi.useRealTimers();
    }
  });

  it('walks a peer that was cut off again after INVENTORY_SHUN_MS', async () => {
    const clock = { now: 0 };
    const { source } = inventoryOf(4 * 1_024);
    const inv = new InventorySync({
      source,
      fetch: async (_peer, txids) => ({ requested: txids.length, delivered: 0 }),
      log: pino({ level: 'silent' }),
      now: () => clock.now,
      budget: { perSec: 1e9, burst: 1e9 },
    });
    expect(await inv.catchUp(PEER)).toBe(2_048);
    clock.now = INVENTORY_SHUN_MS - 1;
    expect(await inv.catchUp(PEER)).toBe(0);
    expect(await inv.catchUp('ff'.repeat(32))).toBe(2_048); // another key is walked meanwhile
    clock.now = INVENTORY_SHUN_MS;
    expect(await inv.catchUp(PEER)).toBe(2_048);
  });

  it('paces the walk by the budget of the key, which a reconnect does not refill', async () => {
    const budget = { perSec: 10_240, burst: 2_048 };
    let peer = inventoryOf(10 * 1_024);
    const source: InventorySource = { page: (id, after) => peer.source.page(id, after) };
    const fetched: number[] = [];
    const inv = new InventorySync({
      source,
      fetch: async (_peer, txids) => {
        fetched.push(txids.length);
        return { requested: txids.length, delivered: txids.length };
      },
      log: pino({ level: 'silent' }),
      budget,
    });
    let t = performance.now();
    expect(await inv.catchUp(PEER)).toBe(10 * 1_024);
    // 2,048 at once, then 8 × 1,024 at 10,240 a second: 0.8 s.
    expect(performance.now() - t).toBeGreaterThan(700);
    t = performance.now();
    peer = inventoryOf(4 * 1_024); // what it holds when it reconnects
    expect(await inv.catchUp(PEER)).toBe(4 * 1_024);
    expect(performance.now() - t).toBeGreaterThan(300); // no fresh burst: 4 × 1,024 at the rate
  });

  it('stop() ends a walk that waits for its budget', async () => {
    const { source } = inventoryOf(10 * 1_024);
    const fetched: number[] = [];
    const inv = new InventorySync({
      source,
      fetch: async (_peer, txids) => {
        fetched.push(txids.length);
        return { requested: txids.length, delivered: txids.length };
      },
      log: pino({ level: 'silent' }),
      budget: { perSec: 1, burst: 1_024 },
    });
    const walking = inv.catchUp(PEER);
    await new Promise((r) => setTimeout(r, 20));
    const t = performance.now();
    inv.stop();
    expect(await walking).toBe(2_048); // the second page was handed over but never fetched
    expect(fetched).toEqual([1_024]);
    expect(performance.now() - t).toBeLessThan(100);
  });
});

describe('catch-up: pages that are not what GetInventory answers', () => {
  const walk = async (pages: readonly { txids: Uint8Array; next: Uint8Array }[]) => {
    let i = 0;
    const bad: string[] = [];
    const fetched: number[] = [];
    const inv = new InventorySync({
      source: { page: async () => pages[Math.min(i++, pages.length - 1)]! },
      fetch: async (_peer, txids) => {
        fetched.push(...txids.map((t) => new DataView(t.buffer, t.byteOffset).getUint32(28)));
        return { requested: txids.length, delivered: txids.length };
      },
      onBadPage: (peer, detail) => bad.push(`${peer} ${detail}`),
      log: pino({ level: 'silent' }),
    });
    const seen = await inv.catchUp('p');
    return { seen, bad, fetched };
  };

  it('txids out of order: refused whole, the walk ends, the peer is reported', async () => {
    expect(await walk([{ txids: concat([txid(1), txid(3), txid(2)]), next: EMPTY }])).toEqual({
      seen: 0,
      bad: ['p Inventory: txids not in ascending order'],
      fetched: [],
    });
    expect((await walk([{ txids: concat([txid(1), txid(1)]), next: EMPTY }])).bad).toEqual([
      'p Inventory: txids not in ascending order',
    ]);
  });

  it('a page that repeats txids at or below the cursor', async () => {
    const r = await walk([
      { txids: concat([txid(1), txid(2)]), next: txid(2) },
      { txids: concat([txid(2), txid(3)]), next: EMPTY },
    ]);
    expect(r).toEqual({ seen: 2, bad: ['p Inventory: a txid not above the cursor'], fetched: [1, 2] });
  });

  it('a next cursor below its own txids (the walk would go back over them)', async () => {
    const r = await walk([{ txids: concat([txid(1), txid(5)]), next: txid(4) }]);
    expect(r).toEqual({
      seen: 0,
      bad: ['p Inventory: next cursor below the txids of its page'],
      fetched: [],
    });
  });

  it('more than 1,024 txids', async () => {
    const ids = Array.from({ length: 1_025 }, (_, i) => txid(i + 1));
    const r = await walk([{ txids: concat(ids), next: EMPTY }]);
    expect(r).toEqual({ seen: 0, bad: ['p Inventory: 1025 txids, at most 1024'], fetched: [] });
  });

  it('an empty page with a next cursor ends the walk', async () => {
    const r = await walk([{ txids: EMPTY, next: txid(9) }]);
    expect(r).toEqual({ seen: 0, bad: [], fetched: [] });
  });
});

describe('TxFetcher.fetchListed', () => {
  it('asks for what is unknown, not asked recently and not arriving, and counts what came back', async () => {
    const requests: number[][] = [];
    const delivered: number[] = [];
    let clock = 0;
    const f = new TxFetcher({
      request: async (_peer, packed) => {
        const ns: number[] = [];
        for (let i = 0; i < packed.length; i += 32) ns.push(new DataView(packed.buffer).getUint32(i + 28));
        requests.push(ns);
        // Answers one transaction more than asked: counted up to what was asked.
        return Array.from({ length: ns.length + 1 }, () => new Uint8Array(1));
      },
      deliver: (_peer, txs) => delivered.push(txs.length),
      known: (t) => new DataView(t.buffer, t.byteOffset).getUint32(28) === 2,
      arriving: (t) => new DataView(t.buffer, t.byteOffset).getUint32(28) === 3,
      now: () => clock,
      batchMs: 2,
      retryAfterMs: 2_000,
      maxTracked: 100,
    });
    f.want('q', txid(4)); // asked of another peer just now
    expect(await f.fetchListed('p', [1, 2, 3, 4, 5].map(txid))).toEqual({ requested: 2, delivered: 2 });
    expect(requests).toEqual([[1, 5]]);
    expect(delivered).toEqual([3]);
    // Within the retry window nobody asks again; after it, asked again.
    expect(await f.fetchListed('p', [txid(1)])).toEqual({ requested: 0, delivered: 0 });
    clock = 2_000;
    expect(await f.fetchListed('p', [txid(1)])).toEqual({ requested: 1, delivered: 1 });
    f.stop();
  });

  it('a request that fails delivers nothing', async () => {
    const f = new TxFetcher({
      request: async () => {
        throw new Error('P2P_TIMEOUT');
      },
      deliver: () => undefined,
      known: () => false,
      now: () => 0,
      batchMs: 2,
      retryAfterMs: 2_000,
      maxTracked: 100,
    });
    expect(await f.fetchListed('p', [txid(1), txid(2)])).toEqual({ requested: 2, delivered: 0 });
    f.stop();
  });
});
