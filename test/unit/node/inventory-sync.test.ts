import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { type InventorySource, InventorySync } from '../../../src/node/inventory-sync.js';

/**
 * Catch-up on (re)connect against a peer's inventory as GetInventory serves it: pages of txids in
 * txid order, each naming where the next begins (32 bytes) or that it was the last (empty). The
 * peer here is an in-memory table of pages, so a test can also make it lie, stall or fail.
 */

const txid = (n: number) => new Uint8Array(32).fill(n);
const concat = (parts: readonly Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

interface Page {
  readonly txids: Uint8Array;
  readonly next: Uint8Array;
}

/** A peer serving `pages` in turn; records the `after` cursor of every request. */
function peerServing(pages: readonly Page[]) {
  const asked: string[] = [];
  let i = 0;
  const source: InventorySource = {
    page: async (_peerId, after) => {
      asked.push(toHex(after));
      const page = pages[Math.min(i++, pages.length - 1)]!;
      return page;
    },
  };
  return { source, asked };
}

function sync(source: InventorySource, maxPages?: number) {
  const wanted: [string, string][] = [];
  const logs: { msg: string; [field: string]: unknown }[] = [];
  const inv = new InventorySync({
    source,
    fetch: async (peerId, txids) => {
      for (const t of txids) wanted.push([peerId, toHex(t)]);
      return { requested: txids.length, delivered: txids.length };
    },
    log: pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
    ...(maxPages === undefined ? {} : { maxPages }),
  });
  return { inv, wanted, logs };
}

/** A peer that never ends: each page one txid above the cursor, and that txid as the next cursor. */
function endlessPeer() {
  const asked: string[] = [];
  let n = 0;
  const source: InventorySource = {
    page: async (_peerId, after) => {
      asked.push(toHex(after));
      n++;
      const t = new Uint8Array(32);
      new DataView(t.buffer).setUint32(28, n);
      return { txids: t, next: t };
    },
  };
  return { source, asked };
}

/** A peer id as the transport names peers: the hex of its node key (logs show its first 16). */
const PEER = 'ab'.repeat(32);

describe('InventorySync.catchUp', () => {
  it('walks the pages in order, each request starting where the last page said, to the last page', async () => {
    const { source, asked } = peerServing([
      { txids: concat([txid(1), txid(2)]), next: txid(2) },
      { txids: concat([txid(3)]), next: txid(3) },
      { txids: concat([txid(9), txid(10)]), next: new Uint8Array(0) },
    ]);
    const { inv, wanted, logs } = sync(source);
    expect(await inv.catchUp(PEER)).toBe(5);
    expect(asked).toEqual(['', toHex(txid(2)), toHex(txid(3))]);
    expect(wanted).toEqual([1, 2, 3, 9, 10].map((n) => [PEER, toHex(txid(n))]));
    expect(logs).toEqual([
      expect.objectContaining({ msg: 'catch-up: inventory walked', peer: PEER.slice(0, 16), txids: 5 }),
    ]);
  });

  it('hands over whole txids only: a trailing partial one is ignored', async () => {
    const { source } = peerServing([
      { txids: concat([txid(1), txid(2), new Uint8Array(31).fill(3)]), next: new Uint8Array(0) },
    ]);
    const { inv, wanted } = sync(source);
    expect(await inv.catchUp('peer-a')).toBe(2);
    expect(wanted.map(([, t]) => t)).toEqual([toHex(txid(1)), toHex(txid(2))]);
  });

  it('stops at a cursor that is not 32 bytes (a malformed last page ends the walk)', async () => {
    const { source, asked } = peerServing([
      { txids: txid(1), next: new Uint8Array(31) },
      { txids: txid(2), next: new Uint8Array(0) },
    ]);
    const { inv } = sync(source);
    expect(await inv.catchUp('peer-a')).toBe(1);
    expect(asked).toHaveLength(1);
  });

  it('walks at most maxPages pages of a peer that never ends (100 by default)', async () => {
    const endless = endlessPeer();
    expect(await sync(endless.source, 3).inv.catchUp('peer-a')).toBe(3);
    expect(endless.asked).toHaveLength(3);
    const byDefault = endlessPeer();
    expect(await sync(byDefault.source).inv.catchUp('peer-a')).toBe(100);
    expect(byDefault.asked).toHaveLength(100);
  });

  it('runs once per peer at a time; another peer is walked meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const source: InventorySource = {
      page: async () => {
        await gate;
        return { txids: txid(1), next: new Uint8Array(0) };
      },
    };
    const { inv } = sync(source);
    const first = inv.catchUp('peer-a');
    expect(await inv.catchUp('peer-a')).toBe(0);
    const other = inv.catchUp('peer-b');
    release();
    expect(await first).toBe(1);
    expect(await other).toBe(1);
    // Finished: the peer may be walked again (a reconnect).
    expect(await inv.catchUp('peer-a')).toBe(1);
  });

  it('a failed request ends the walk with what it saw, and the peer may be walked again', async () => {
    let calls = 0;
    const source: InventorySource = {
      page: async () => {
        calls++;
        if (calls === 2) throw new Error('request timed out');
        return { txids: txid(calls), next: calls === 1 ? txid(5) : new Uint8Array(0) };
      },
    };
    const { inv, wanted } = sync(source);
    expect(await inv.catchUp('peer-a')).toBe(1);
    expect(await inv.catchUp('peer-a')).toBe(1);
    expect(wanted.map(([, t]) => t)).toEqual([toHex(txid(1)), toHex(txid(3))]);
  });

  it('after stop(), walks nothing; a walk under way ends after its current page', async () => {
    const { source, asked } = endlessPeer();
    const { inv, wanted } = sync(source);
    const walking = inv.catchUp('peer-a');
    inv.stop();
    expect(await walking).toBe(1);
    expect(asked).toHaveLength(1);
    // The page that was answered after stop() is counted but not fetched.
    expect(wanted).toEqual([]);
    expect(await inv.catchUp('peer-b')).toBe(0);
  });

  it('an empty inventory is walked without a log line', async () => {
    const { source } = peerServing([{ txids: new Uint8Array(0), next: new Uint8Array(0) }]);
    const { inv, logs } = sync(source);
    expect(await inv.catchUp(PEER)).toBe(0);
    expect(logs).toEqual([]);
  });

  it('an empty first page with a next cursor ends the walk: no further page is asked for, nothing fails', async () => {
    const { source, asked } = peerServing([{ txids: new Uint8Array(0), next: txid(9) }]);
    const { inv, wanted, logs } = sync(source);
    expect(await inv.catchUp(PEER)).toBe(0);
    expect(asked).toEqual(['']);
    expect(wanted).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('a bad page without an onBadPage hook ends the walk, logged at debug with the peer and the fault', async () => {
    const { source, asked } = peerServing([
      { txids: concat([txid(1), txid(2)]), next: txid(2) },
      { txids: concat([txid(4), txid(3)]), next: txid(4) },
    ]);
    const { inv, wanted, logs } = sync(source);
    expect(await inv.catchUp(PEER)).toBe(2);
    expect(asked).toEqual(['', toHex(txid(2))]);
    expect(wanted.map(([, t]) => t)).toEqual([toHex(txid(1)), toHex(txid(2))]);
    expect(logs).toEqual([
      expect.objectContaining({
        msg: 'catch-up: bad inventory page',
        peer: PEER.slice(0, 16),
        detail: 'Inventory: txids not in ascending order',
        level: 20,
      }),
      expect.objectContaining({ msg: 'catch-up: inventory walked', peer: PEER.slice(0, 16), txids: 2 }),
    ]);
  });

  it('a page whose cursor is neither 32 bytes nor empty is taken as the last page as it is, its order not judged', async () => {
    // badPage returns early for such a cursor (the walk ends on it anyway); the txids are handed over.
    const { source, asked } = peerServing([{ txids: concat([txid(2), txid(1)]), next: new Uint8Array(31) }]);
    const { inv, wanted, logs } = sync(source);
    expect(await inv.catchUp(PEER)).toBe(2);
    expect(asked).toEqual(['']);
    expect(wanted.map(([, t]) => t)).toEqual([toHex(txid(2)), toHex(txid(1))]);
    expect(logs.map((l) => l.msg)).toEqual(['catch-up: inventory walked']);
  });

  it('a failed walk is logged at debug with the peer and the reason', async () => {
    const source: InventorySource = {
      page: async () => {
        throw new Error('request timed out');
      },
    };
    const { inv, logs } = sync(source);
    expect(await inv.catchUp(PEER)).toBe(0);
    expect(logs).toEqual([
      expect.objectContaining({
        msg: 'catch-up: inventory failed',
        peer: PEER.slice(0, 16),
        err: 'request timed out',
        level: 20,
      }),
    ]);
  });
});
