import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { devnetMasternodes } from '../../../src/chain/genesis.js';
import { Benchlist } from '../../../src/consensus/snowball/benchlist.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { Mempool } from '../../../src/ledger/mempool.js';
import { SerialQueue } from '../../../src/ledger/serial-queue.js';
import {
  createNodeKey,
  devnetNodeKey,
  loadNodeKey,
  NodeKeyError,
  nodeKeyPath,
} from '../../../src/node/node-key.js';
import { DEFAULT_ORPHAN_LIMITS, OrphanPool, orphanUnits } from '../../../src/node/orphan-pool.js';
import { TxFetcher } from '../../../src/node/tx-fetcher.js';
import { GOSSIP_BATCH_BYTES, TxGossip } from '../../../src/node/tx-gossip.js';
import { answerGetTx, INVENTORY_PAGE, InventorySnapshot } from '../../../src/node/tx-server.js';
import { ValidatorSet } from '../../../src/node/validator-set.js';
import { DEVNET } from '../../../src/params/networks.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { decodeFrame, encodeMessage } from '../../../src/wire/codec.js';
import {
  MAX_TX_BYTES,
  MAX_TXIDS_PER_REQUEST,
  MAX_TXS_PER_BATCH,
  TX_FRAME_LIMIT,
} from '../../../src/wire/limits.js';
import { MSG } from '../../../src/wire/message-types.js';
import { key, pay, spendFunded } from '../../support/devnet-ledger.js';

/**
 * A mempool entry under `txid` with `size` body bytes, spending an outpoint of its own (no rival):
 * what the transaction server and the inventory read (txid, bytes), without building a real one.
 */
function fakeTx(txid: Uint8Array = new Uint8Array(randomBytes(32)), size = 10): EncodedTx {
  return {
    txid,
    bytes: new Uint8Array(size).fill(size & 0xff),
    tx: { inputs: [{ txid: new Uint8Array(randomBytes(32)), vout: 0 }], outputs: [], payload: null },
  } as unknown as EncodedTx;
}

/** An active masternode record: node key filled with byte `b`, in tier `tier`. */
const rec = (b: number, tier: number) => ({
  nodePubkey: new Uint8Array(32).fill(b),
  tier,
  collateral: null,
  rewardAddress: new Uint8Array(20),
  registeredHeight: 0,
  deregisteredHeight: null,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof NodeKeyError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('node key file', () => {
  it('is created 0600, loads back, refuses to overwrite, refuses a readable file and garbage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timecoin-key-'));
    expect(codeOf(() => loadNodeKey(dir))).toBe('NODE_KEY_MISSING');
    const pub = createNodeKey(dir);
    expect(statSync(nodeKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(toHex(loadNodeKey(dir).publicKey)).toBe(toHex(pub));
    expect(codeOf(() => createNodeKey(dir))).toBe('NODE_KEY_EXISTS');
    chmodSync(nodeKeyPath(dir), 0o640);
    expect(codeOf(() => loadNodeKey(dir))).toBe('NODE_KEY_UNPROTECTED');
    chmodSync(nodeKeyPath(dir), 0o600);
    writeFileSync(nodeKeyPath(dir), 'not hex\n');
    expect(codeOf(() => loadNodeKey(dir))).toBe('NODE_KEY_INVALID');
  });

  it('each refusal names the file (and the mode it found) in its message and details', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timecoin-key-'));
    const path = nodeKeyPath(dir);
    const errorOf = (fn: () => unknown): NodeKeyError => {
      try {
        fn();
      } catch (err) {
        if (err instanceof NodeKeyError) return err;
        throw err;
      }
      throw new Error('no error');
    };
    const missing = errorOf(() => loadNodeKey(dir));
    expect(missing.message).toBe(
      `NODE_KEY_MISSING: no node key at ${path}; create one with \`timecoin node init --datadir ${dir}\``,
    );
    expect(missing.details).toEqual({ path });
    createNodeKey(dir);
    const exists = errorOf(() => createNodeKey(dir));
    expect(exists.message).toBe(`NODE_KEY_EXISTS: ${path} already exists; refusing to overwrite a node key`);
    expect(exists.details).toEqual({ path });
    chmodSync(path, 0o604);
    const open = errorOf(() => loadNodeKey(dir));
    expect(open.message).toBe(
      `NODE_KEY_UNPROTECTED: ${path} has mode 604; a node key must be readable by its owner only (chmod 600 ${path})`,
    );
    expect(open.details).toEqual({ path, mode: 0o604 });
    // Always three octal digits, as chmod takes them.
    chmodSync(path, 0o044);
    expect(errorOf(() => loadNodeKey(dir)).message).toContain(`${path} has mode 044;`);
    chmodSync(path, 0o600);
    writeFileSync(path, 'ab'.repeat(31));
    const bad = errorOf(() => loadNodeKey(dir));
    expect(bad.message).toBe(`NODE_KEY_INVALID: ${path} does not hold a 32-byte hex key`);
    expect(bad.details).toEqual({ path });
  });

  it.runIf(process.platform === 'linux')('creating a key leaves no file descriptor open', () => {
    const dirs = Array.from({ length: 20 }, () => mkdtempSync(join(tmpdir(), 'timecoin-key-')));
    const openFds = () => readdirSync('/proc/self/fd').length;
    // Synchronous from here: nothing else in this process opens or closes a file meanwhile.
    const before = openFds();
    for (const dir of dirs) createNodeKey(dir);
    expect(openFds()).toBe(before);
    for (const dir of dirs) rmSync(dir, { recursive: true });
  });

  it('devnet node key i is the key genesis registered for masternode i', () => {
    const registered = devnetMasternodes();
    for (const [i, mn] of registered.entries())
      expect(toHex(devnetNodeKey(i).publicKey)).toBe(toHex(mn.nodeKey.publicKey));
    expect(new Set(registered.map((_, i) => toHex(devnetNodeKey(i).publicKey))).size).toBe(registered.length);
  });
});

describe('OrphanPool', () => {
  const child = (i: number): EncodedTx => spendFunded(i, [pay(key(9), 1_000_000n)]);

  it('gives back the orphans of a parent once, and expires old ones', () => {
    const pool = new OrphanPool({ maxCount: 10, maxBytes: 1_000_000, ttlMs: 1_000 });
    const a = child(0);
    const b = child(1);
    expect(pool.add(a, 0, 'p')).toBe(true);
    expect(pool.add(a, 0, 'p')).toBe(false);
    expect(pool.add(b, 500, 'p')).toBe(true);
    const parent = a.tx.inputs[0]!.txid; // both spend the genesis allocation
    expect(
      pool
        .takeChildrenOf(parent, 900)
        .map((t) => toHex(t.etx.txid))
        .sort(),
    ).toEqual([a, b].map((t) => toHex(t.txid)).sort());
    expect(pool.size).toBe(0);
    expect(pool.takeChildrenOf(parent, 900)).toEqual([]);
    pool.add(a, 0, 'p');
    expect(pool.takeChildrenOf(parent, 1_000)).toEqual([]); // expired at ttl
    expect(pool.size).toBe(0);
  });

  it('is bounded by count and bytes, evicting the oldest', () => {
    const txs = [0, 1, 2, 3].map(child);
    const byCount = new OrphanPool({ maxCount: 2, maxBytes: 1_000_000, ttlMs: 60_000 });
    for (const t of txs) byCount.add(t, 0, 'p');
    expect(byCount.size).toBe(2);
    expect(byCount.has(txs[0]!.txid)).toBe(false);
    expect(byCount.has(txs[3]!.txid)).toBe(true);
    const byBytes = new OrphanPool({ maxCount: 100, maxBytes: txs[0]!.bytes.length * 3 - 1, ttlMs: 60_000 });
    for (const t of txs) byBytes.add(t, 0, 'p');
    expect(byBytes.size).toBe(2);
    expect(byBytes.totalBytes).toBeLessThanOrEqual(txs[0]!.bytes.length * 3 - 1);
  });
});

describe('OrphanPool edges', () => {
  /** An orphan of `size` bytes spending one output of each parent. */
  const orphan = (size: number, ...parents: Uint8Array[]): EncodedTx =>
    ({
      txid: new Uint8Array(randomBytes(32)),
      bytes: new Uint8Array(size),
      tx: { inputs: parents.map((txid, vout) => ({ txid, vout })), outputs: [], payload: null },
    }) as unknown as EncodedTx;
  const parent = (n: number) => new Uint8Array(32).fill(n);

  it('defaults: 10,000 orphans, 20 MB, 60 s', () => {
    expect(DEFAULT_ORPHAN_LIMITS).toEqual({ maxCount: 10_000, maxBytes: 20_000_000, ttlMs: 60_000 });
  });

  it('takes an orphan of exactly maxBytes (alone) and refuses one byte more without evicting anything', () => {
    const pool = new OrphanPool({ maxCount: 10, maxBytes: 100, ttlMs: 1_000 });
    const small = orphan(10, parent(1));
    expect(pool.add(small, 0, 'p')).toBe(true);
    expect(pool.add(orphan(101, parent(2)), 0, 'p')).toBe(false);
    expect(pool.has(small.txid)).toBe(true);
    // Exactly the budget: the older orphan leaves to make room, the new one stays.
    const full = orphan(100, parent(3));
    expect(pool.add(full, 0, 'p')).toBe(true);
    expect([pool.size, pool.totalBytes, pool.has(small.txid)]).toEqual([1, 100, false]);
    // Filling up to exactly the budget evicts nothing.
    const pool2 = new OrphanPool({ maxCount: 10, maxBytes: 100, ttlMs: 1_000 });
    const x = orphan(60, parent(4));
    const y = orphan(40, parent(5));
    expect(pool2.add(x, 0, 'p') && pool2.add(y, 0, 'p')).toBe(true);
    expect([pool2.size, pool2.totalBytes]).toEqual([2, 100]);
  });

  it('an orphan of two parents comes back once, by whichever parent finalizes first, and leaves no trace', () => {
    const pool = new OrphanPool({ maxCount: 10, maxBytes: 1_000, ttlMs: 1_000 });
    const both = orphan(10, parent(1), parent(2), parent(1));
    const other = orphan(10, parent(2));
    pool.add(both, 0, 'p');
    pool.add(other, 0, 'p');
    expect(pool.takeChildrenOf(parent(1), 0).map((t) => toHex(t.etx.txid))).toEqual([toHex(both.txid)]);
    expect(pool.takeChildrenOf(parent(2), 0).map((t) => toHex(t.etx.txid))).toEqual([toHex(other.txid)]);
    expect([pool.size, pool.totalBytes, pool.parentCount]).toEqual([0, 0, 0]);
    expect(pool.takeChildrenOf(parent(1), 0)).toEqual([]);
    // Evicting by count also forgets the evicted orphan's parents.
    const tight = new OrphanPool({ maxCount: 1, maxBytes: 1_000, ttlMs: 1_000 });
    tight.add(orphan(10, parent(7)), 0, 'p');
    tight.add(orphan(10, parent(8)), 0, 'p');
    expect(tight.parentCount).toBe(1);
    expect(tight.takeChildrenOf(parent(7), 0)).toEqual([]);
    expect(tight.takeChildrenOf(parent(8), 0)).toHaveLength(1);
    expect(tight.parentCount).toBe(0);
  });

  it('orphans naming ever new parents leave no parent entries behind once evicted or expired', () => {
    const pool = new OrphanPool({ maxCount: 4, maxBytes: 1_000_000, ttlMs: 1_000 });
    // A flood of orphans, each waiting on two fresh parents: the pool keeps 4 orphans, 8 parents.
    for (let i = 0; i < 100; i++) pool.add(orphan(10, randomBytes(32), randomBytes(32)), 0, 'p');
    expect([pool.size, pool.parentCount]).toEqual([4, 8]);
    // Expiry (at the ttl) forgets them and their parents too.
    pool.add(orphan(10, parent(1)), 1_000, 'p');
    expect([pool.size, pool.parentCount]).toEqual([1, 1]);
  });

  it('expires by age since it was added, oldest first, keeping the younger ones', () => {
    const pool = new OrphanPool({ maxCount: 10, maxBytes: 1_000, ttlMs: 1_000 });
    const old = orphan(10, parent(1));
    const young = orphan(10, parent(1));
    pool.add(old, 5_000, 'p');
    pool.add(young, 5_500, 'p');
    // At 5,999 both are younger than 1 s; at 6,000 the first is exactly 1 s old and goes.
    expect(pool.add(orphan(10, parent(9)), 5_999, 'p')).toBe(true);
    expect(pool.size).toBe(3);
    expect(pool.takeChildrenOf(parent(1), 6_000).map((t) => toHex(t.etx.txid))).toEqual([toHex(young.txid)]);
  });
});

describe('OrphanPool: a full pool evicts from the sender holding the most', () => {
  const orphan = (size: number, parentByte = 1): EncodedTx =>
    ({
      txid: new Uint8Array(randomBytes(32)),
      bytes: new Uint8Array(size),
      tx: { inputs: [{ txid: new Uint8Array(32).fill(parentByte), vout: 0 }], outputs: [], payload: null },
    }) as unknown as EncodedTx;
  const kept = (pool: OrphanPool, txs: readonly EncodedTx[]) => txs.map((t) => pool.has(t.txid));

  it("a flood from one peer churns its own share and never pushes out another peer's orphans", () => {
    const pool = new OrphanPool({ maxCount: 10, maxBytes: 1_000_000, ttlMs: 60_000 });
    const honest = [1, 2, 3].map(() => orphan(200));
    for (const t of honest) expect(pool.add(t, 0, 'honest')).toBe(true);
    const flood = Array.from({ length: 100 }, () => orphan(200));
    for (const t of flood) pool.add(t, 1, 'flooder');
    expect(kept(pool, honest)).toEqual([true, true, true]);
    expect([pool.size, pool.unitsOf('honest'), pool.unitsOf('flooder')]).toEqual([10, 3, 7]);
    // The flooder's newest 7 are what it keeps: its oldest leave first.
    expect(kept(pool, flood.slice(-8))).toEqual([false, true, true, true, true, true, true, true]);
  });

  it('takes the oldest orphan of the largest holder, whoever added the newcomer', () => {
    const pool = new OrphanPool({ maxCount: 6, maxBytes: 1_000_000, ttlMs: 60_000 });
    const a = [0, 1, 2].map(() => orphan(100));
    const b = [0, 1].map(() => orphan(100));
    const c = [0, 1].map(() => orphan(100));
    pool.add(b[0]!, 0, 'b');
    for (const t of a) pool.add(t, 0, 'a');
    pool.add(b[1]!, 0, 'b');
    pool.add(c[0]!, 0, 'c');
    expect(pool.size).toBe(6);
    // c's second is the 7th: a holds 3, the most, and its oldest leaves (not b's, the oldest overall).
    expect(pool.add(c[1]!, 0, 'c')).toBe(true);
    expect([...kept(pool, a), ...kept(pool, b), ...kept(pool, c)]).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([pool.unitsOf('a'), pool.unitsOf('b'), pool.unitsOf('c')]).toEqual([2, 2, 2]);
  });

  it('weighs orphans by size (units of 1 KiB started), not by count', () => {
    expect([1, 1_024, 1_025, 2_500, 100_000].map(orphanUnits)).toEqual([1, 1, 2, 3, 98]);
    expect(orphanUnits(0)).toBe(1);
    const pool = new OrphanPool({ maxCount: 100, maxBytes: 6_000, ttlMs: 60_000 });
    const small = [0, 1, 2, 3].map(() => orphan(100)); // 4 orphans, 4 units
    const big = [orphan(2_500), orphan(2_500)]; // 2 orphans, 6 units
    for (const t of small) pool.add(t, 0, 'small');
    for (const t of big) pool.add(t, 0, 'big');
    expect(pool.totalBytes).toBe(5_400);
    // 1,000 bytes more overflow the bytes: 'big' weighs the most (7 units against 4) though it holds fewer.
    const more = orphan(1_000);
    expect(pool.add(more, 0, 'big')).toBe(true);
    expect([...kept(pool, small), ...kept(pool, big), pool.has(more.txid)]).toEqual([
      true,
      true,
      true,
      true,
      false,
      true,
      true,
    ]);
    expect([pool.totalBytes, pool.unitsOf('big'), pool.unitsOf('small')]).toEqual([3_900, 4, 4]);
  });

  it('drops at once an orphan that would make its sender the largest holder of a full pool', () => {
    const pool = new OrphanPool({ maxCount: 100, maxBytes: 3_000, ttlMs: 60_000 });
    const a = orphan(1_000);
    const b = orphan(1_000);
    pool.add(a, 0, 'a');
    pool.add(b, 0, 'b');
    const heavy = orphan(2_000);
    expect(pool.add(heavy, 0, 'c')).toBe(false);
    expect([pool.has(heavy.txid), pool.has(a.txid), pool.has(b.txid)]).toEqual([false, true, true]);
    expect([pool.size, pool.totalBytes, pool.senderCount, pool.parentCount]).toEqual([2, 2_000, 2, 1]);
  });

  it('shares follow orphans out (taken, expired), and the largest holder is found again after they shrink', () => {
    const pool = new OrphanPool({ maxCount: 8, maxBytes: 1_000_000, ttlMs: 1_000 });
    const a = [0, 1, 2, 3, 4].map(() => orphan(10, 7)); // all wait on parent 7
    const b = [0, 1].map(() => orphan(10, 8));
    for (const t of a) pool.add(t, 0, 'a');
    for (const t of b) pool.add(t, 0, 'b');
    expect(pool.takeChildrenOf(new Uint8Array(32).fill(7), 0).map((o) => o.sender)).toEqual(
      Array(5).fill('a'),
    );
    expect([pool.unitsOf('a'), pool.senderCount]).toEqual([0, 1]);
    // From 5 units down to none: the next eviction must come from b (2), then c as it grows.
    const c = Array.from({ length: 7 }, () => orphan(10, 9));
    for (const t of c.slice(0, 6)) pool.add(t, 0, 'c');
    expect([pool.size, pool.unitsOf('b'), pool.unitsOf('c')]).toEqual([8, 2, 6]);
    pool.add(c[6]!, 0, 'c');
    expect([pool.unitsOf('b'), pool.unitsOf('c'), pool.has(c[0]!.txid)]).toEqual([2, 6, false]);
    const d = orphan(10, 9);
    expect(pool.add(d, 0, 'b')).toBe(true); // b at 3, c at 6: c gives way again
    expect([pool.unitsOf('b'), pool.unitsOf('c')]).toEqual([3, 5]);
    // Expiry empties every share and forgets every sender.
    pool.add(orphan(10, 10), 1_000, 'e');
    expect([pool.size, pool.senderCount, pool.unitsOf('b'), pool.unitsOf('c'), pool.unitsOf('e')]).toEqual([
      1, 1, 0, 0, 1,
    ]);
  });

  it("keys without stake give way first: a Sybil flood never evicts a masternode's orphans", () => {
    const pool = new OrphanPool({ maxCount: 100, maxBytes: 1_000_000, ttlMs: 60_000 }, (id) =>
      id.startsWith('mn'),
    );
    const relayed = Array.from({ length: 20 }, () => orphan(200));
    for (const t of relayed) pool.add(t, 0, 'mn1');
    // 1,000 fresh keys, one orphan each: every one holds less than the masternode's 20.
    const flood = Array.from({ length: 1_000 }, () => orphan(200));
    for (const [k, t] of flood.entries()) pool.add(t, 1, `sybil${k}`);
    expect(kept(pool, relayed).every(Boolean)).toBe(true);
    expect([pool.size, pool.senderCount, pool.unitsOf('mn1')]).toEqual([100, 81, 20]);
    // Among keys without stake the largest holder still gives way first.
    const big = [0, 1, 2].map(() => orphan(200));
    for (const t of big) pool.add(t, 2, 'sybil-big');
    expect(pool.unitsOf('sybil-big')).toBe(1);
    expect(kept(pool, big)).toEqual([false, false, true]);
    // With no orphan of a key without stake left, the largest masternode gives way.
    const onlyStaked = new OrphanPool({ maxCount: 4, maxBytes: 1_000_000, ttlMs: 60_000 }, () => true);
    const one = [0, 1, 2].map(() => orphan(200));
    const two = orphan(200);
    for (const t of one) onlyStaked.add(t, 0, 'mn1');
    onlyStaked.add(two, 0, 'mn2');
    expect(onlyStaked.add(orphan(200), 0, 'mn2')).toBe(true);
    expect([...kept(onlyStaked, one), onlyStaked.has(two.txid)]).toEqual([false, true, true, true]);
  });

  it("a sender's class is the one its share began in, until its share is empty", () => {
    let staked = false;
    const pool = new OrphanPool({ maxCount: 3, maxBytes: 1_000_000, ttlMs: 60_000 }, () => staked);
    const early = orphan(200);
    pool.add(early, 0, 'p'); // without stake
    staked = true; // it joins the active set…
    const late = orphan(200);
    pool.add(late, 0, 'p'); // …but its share stays where it began
    const q = [0, 1, 2].map(() => orphan(200));
    pool.add(q[0]!, 0, 'q'); // q is staked: p's orphans give way first, the late one too
    pool.add(q[1]!, 0, 'q');
    expect([pool.has(early.txid), pool.has(late.txid), pool.unitsOf('q')]).toEqual([false, true, 2]);
    pool.add(q[2]!, 0, 'q');
    expect([pool.has(late.txid), pool.unitsOf('p'), pool.unitsOf('q'), pool.senderCount]).toEqual([
      false,
      0,
      3,
      1,
    ]);
    // p's share emptied: its next orphan counts by its stake now.
    pool.add(orphan(200), 0, 'p');
    expect([pool.unitsOf('p'), pool.unitsOf('q'), pool.size]).toEqual([1, 2, 3]);
    // The other way round: a masternode that leaves the active set keeps its class while it holds.
    const stake = new Set(['mn']);
    const pool2 = new OrphanPool({ maxCount: 3, maxBytes: 1_000_000, ttlMs: 60_000 }, (id) => stake.has(id));
    const mn = [0, 1, 2].map(() => orphan(200));
    pool2.add(mn[0]!, 0, 'mn');
    stake.delete('mn');
    pool2.add(mn[1]!, 0, 'mn');
    pool2.add(mn[2]!, 0, 'mn');
    const x = orphan(200);
    expect(pool2.add(x, 0, 'x')).toBe(false); // x has no stake: it gives way, not mn with its 3
    expect(kept(pool2, mn)).toEqual([true, true, true]);
  });
});

describe('TxGossip batching', () => {
  it('sends full batches at once, keeps under the frame budget, and flushes the rest after flushMs', async () => {
    const sent: Uint8Array[][] = [];
    const g = new TxGossip({ flushMs: 5, send: (b) => sent.push(b) });
    for (let i = 0; i < MAX_TXS_PER_BATCH + 3; i++) g.add(new Uint8Array(100));
    expect(sent.map((b) => b.length)).toEqual([MAX_TXS_PER_BATCH]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.map((b) => b.length)).toEqual([MAX_TXS_PER_BATCH, 3]);
    const big = new Uint8Array(100_000);
    g.add(big);
    g.add(big);
    g.add(big);
    g.flush();
    for (const b of sent) expect(b.reduce((s, t) => s + t.length, 0)).toBeLessThanOrEqual(GOSSIP_BATCH_BYTES);
    expect(sent.slice(2).map((b) => b.length)).toEqual([2, 1]);
    g.stop();
  });
});

describe('TxFetcher', () => {
  it('coalesces requests per peer, asks for a txid once per retry window, skips known ones', async () => {
    const requests: { peer: string; n: number }[] = [];
    let now = 0;
    const known = new Set<string>();
    const f = new TxFetcher({
      request: async (peer, txids) => {
        requests.push({ peer, n: txids.length / 32 });
        return [];
      },
      deliver: () => undefined,
      known: (t) => known.has(toHex(t)),
      now: () => now,
      batchMs: 1,
      retryAfterMs: 1_000,
      maxTracked: 100,
    });
    const id = (i: number) => new Uint8Array(32).fill(i);
    f.want('p1', id(1));
    f.want('p1', id(2));
    f.want('p2', id(1)); // asked already (from p1) within the window
    known.add(toHex(id(3)));
    f.want('p2', id(3));
    await new Promise((r) => setTimeout(r, 10));
    expect(requests).toEqual([{ peer: 'p1', n: 2 }]);
    now = 1_000;
    f.want('p2', id(1));
    await new Promise((r) => setTimeout(r, 10));
    expect(requests).toEqual([
      { peer: 'p1', n: 2 },
      { peer: 'p2', n: 1 },
    ]);
    f.stop();
  });
});

describe('TxFetcher requests and deliveries', () => {
  const id = (i: number) => {
    const t = new Uint8Array(32);
    new DataView(t.buffer).setUint32(0, i);
    return t;
  };
  const unpack = (packed: Uint8Array) =>
    Array.from({ length: packed.length / 32 }, (_, j) => toHex(packed.subarray(j * 32, j * 32 + 32)));

  function fetcher(
    o: {
      maxTracked?: number;
      answer?: (txids: Uint8Array) => Promise<Uint8Array[]>;
      pollFetchBudget?: { perSec: number; burst: number };
      maxBudgets?: number;
    } = {},
  ) {
    const requests: { peer: string; txids: string[] }[] = [];
    const delivered: { peer: string; n: number }[] = [];
    const known = new Set<string>();
    const arriving = new Set<string>();
    const clock = { now: 0 };
    const calls = { known: 0 };
    const f = new TxFetcher({
      request: (peer, txids) => {
        requests.push({ peer, txids: unpack(txids) });
        return o.answer ? o.answer(txids) : Promise.resolve([]);
      },
      deliver: (peer, txs) => delivered.push({ peer, n: txs.length }),
      known: (t) => {
        calls.known++;
        return known.has(toHex(t)) || arriving.has(toHex(t));
      },
      arriving: (t) => arriving.has(toHex(t)),
      now: () => clock.now,
      batchMs: 1,
      retryAfterMs: 1_000,
      maxTracked: o.maxTracked ?? 10_000,
      ...(o.pollFetchBudget ? { pollFetchBudget: o.pollFetchBudget } : {}),
      ...(o.maxBudgets ? { maxBudgets: o.maxBudgets } : {}),
    });
    return { f, requests, delivered, known, arriving, clock, calls };
  }

  it("fetches txids named in one peer's polls only within that peer's budget; other peers have their own", async () => {
    const { f, requests, clock } = fetcher({ pollFetchBudget: { perSec: 10, burst: 3 } });
    for (let i = 0; i < 5; i++) f.wantNamedInPoll('p1', id(i));
    f.wantNamedInPoll('p2', id(100));
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    expect(requests).toEqual([
      { peer: 'p1', txids: [id(0), id(1), id(2)].map(toHex) },
      { peer: 'p2', txids: [toHex(id(100))] },
    ]);
    expect(f.overBudget).toBe(2);
    clock.now = 100; // one more token for p1
    f.wantNamedInPoll('p1', id(3));
    f.wantNamedInPoll('p1', id(4));
    await vi.waitFor(() => expect(requests).toHaveLength(3));
    expect(requests[2]).toEqual({ peer: 'p1', txids: [toHex(id(3))] });
    expect(f.overBudget).toBe(3);
    // Catch-up (want) is not a poll: no budget.
    for (let i = 10; i < 20; i++) f.want('p1', id(i));
    await vi.waitFor(() => expect(requests).toHaveLength(4));
    expect(requests[3]!.txids).toHaveLength(10);
    f.stop();
  });

  it("remembers at most maxBudgets peers' budgets: the least recently used is forgotten and starts full again", async () => {
    const { f, requests } = fetcher({ pollFetchBudget: { perSec: 0, burst: 1 }, maxBudgets: 2 });
    f.wantNamedInPoll('p1', id(1));
    f.wantNamedInPoll('p1', id(2)); // p1 spent
    f.wantNamedInPoll('p2', id(3));
    f.wantNamedInPoll('p1', id(4)); // still remembered as spent, and now the most recently used
    expect(f.overBudget).toBe(2);
    f.wantNamedInPoll('p3', id(5)); // a third peer: p2, the least recently used, is forgotten
    f.wantNamedInPoll('p1', id(6)); // p1 still remembered: spent
    f.wantNamedInPoll('p2', id(7)); // p2 anew: a full budget (and p3 is forgotten for it)
    expect(f.overBudget).toBe(3);
    await vi.waitFor(() => expect(requests.flatMap((r) => r.txids)).toHaveLength(4));
    expect(requests.flatMap((r) => r.txids).sort()).toEqual([1, 3, 5, 7].map((i) => toHex(id(i))).sort());
    f.stop();
  });

  it('naming a txid on its way to us, or asked for within the window, uses no budget', async () => {
    const { f, requests, arriving } = fetcher({ pollFetchBudget: { perSec: 0, burst: 1 } });
    arriving.add(toHex(id(9))); // being verified: polls name it until our intake is done
    for (let i = 0; i < 5; i++) expect(f.wantNamedInPoll('p1', id(9))).toBe(true);
    expect(f.wantNamedInPoll('p1', id(1))).toBe(true); // the one token: fetched
    for (let i = 0; i < 5; i++) expect(f.wantNamedInPoll('p1', id(1))).toBe(true); // asked already
    expect(f.overBudget).toBe(0);
    expect(f.wantNamedInPoll('p1', id(2))).toBe(false);
    expect(f.overBudget).toBe(1);
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]).toEqual({ peer: 'p1', txids: [toHex(id(1))] });
    f.stop();
  });

  it('a txid asked for within the retry window costs no ledger read when named again', () => {
    const { f, calls } = fetcher();
    f.want('p1', id(1));
    expect(calls.known).toBe(1);
    for (let i = 0; i < 10; i++) f.wantNamedInPoll(`p${i}`, id(1));
    expect(calls.known).toBe(1);
    f.stop();
  });

  it('sends a full request at once, the rest after the batch delay, each txid once and in order', async () => {
    const { f, requests } = fetcher();
    const ids = Array.from({ length: MAX_TXIDS_PER_REQUEST + 6 }, (_, i) => id(i));
    for (const t of ids) f.want('p1', t);
    // The 1,024th txid filled a request: sent without waiting for the timer.
    expect(requests.map((r) => r.txids.length)).toEqual([MAX_TXIDS_PER_REQUEST]);
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    expect(requests.flatMap((r) => r.txids)).toEqual(ids.map(toHex));
    expect(requests.map((r) => r.peer)).toEqual(['p1', 'p1']);
    f.stop();
  });

  it('drops txids that became known while queued; delivers answers, never empty ones, never after stop', async () => {
    let release: (txs: Uint8Array[]) => void = () => undefined;
    const answers: Uint8Array[][] = [[], [new Uint8Array(5), new Uint8Array(6)]];
    const { f, requests, delivered, known } = fetcher({
      answer: () => {
        const next = answers.shift();
        return next ? Promise.resolve(next) : new Promise((r) => (release = r));
      },
    });
    f.want('p1', id(1));
    f.want('p1', id(2));
    known.add(toHex(id(2))); // arrived by gossip before the request went out
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.txids).toEqual([toHex(id(1))]);
    f.want('p2', id(3));
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    await vi.waitFor(() => expect(delivered).toEqual([{ peer: 'p2', n: 2 }])); // the empty answer was not delivered
    // In flight when the node stops: its answer is dropped.
    f.want('p3', id(4));
    await vi.waitFor(() => expect(requests).toHaveLength(3));
    f.stop();
    release([new Uint8Array(7)]);
    await new Promise((r) => setImmediate(r));
    expect(delivered).toEqual([{ peer: 'p2', n: 2 }]);
    // Stopped: nothing more is queued or sent.
    f.want('p4', id(5));
    await new Promise((r) => setTimeout(r, 5));
    expect(requests).toHaveLength(3);
  });

  it('stop cancels a batch waiting for its timer', async () => {
    const { f, requests } = fetcher();
    vi.useFakeTimers();
    try {
      f.want('p1', id(1));
      f.stop();
      expect(vi.getTimerCount()).toBe(0); // nothing left to fire into a stopped fetcher
    } finally {
      vi.useRealTimers();
    }
    await new Promise((r) => setTimeout(r, 5));
    expect(requests).toEqual([]);
  });

  it('keeps its own copy of a queued txid: the caller may reuse its buffer (a received frame)', async () => {
    const { f, requests } = fetcher();
    const frame = id(7);
    f.want('p1', frame);
    frame.fill(0xee);
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.txids).toEqual([toHex(id(7))]);
    f.stop();
  });

  it('forgets a request once its retry window has passed: the memory follows the fetch rate', async () => {
    const { f, requests, clock } = fetcher();
    f.want('p1', id(1));
    clock.now = 400;
    f.want('p1', id(2));
    expect(f.tracked).toBe(2);
    clock.now = 999; // id(1) asked 999 ms ago: still holds back a second ask
    f.want('p1', id(3));
    expect(f.tracked).toBe(3);
    clock.now = 1_000; // id(1)'s window ended: forgotten when the next txid comes
    f.want('p1', id(4));
    expect(f.tracked).toBe(3);
    clock.now = 1_400; // id(2)'s too
    f.want('p1', id(5));
    expect(f.tracked).toBe(3);
    await vi.waitFor(() => expect(requests.flatMap((r) => r.txids)).toHaveLength(5));
    f.stop();
  });

  it('the retry window counts from the last ask; the memory keeps the newest maxTracked txids', async () => {
    const { f, requests, clock } = fetcher({ maxTracked: 2 });
    clock.now = 500;
    f.want('p1', id(1));
    clock.now = 1_400; // 900 ms after the ask: still inside the 1,000 ms window
    f.want('p1', id(1));
    f.want('p1', id(2)); // the memory now holds 1 and 2: exactly maxTracked
    f.want('p2', id(1));
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.txids).toEqual([toHex(id(1)), toHex(id(2))]);
    f.want('p1', id(3)); // 1 falls out of the memory (oldest first)...
    f.want('p2', id(1)); // ...so it is asked again, inside its window
    await vi.waitFor(() => expect(requests).toHaveLength(3));
    expect(requests.slice(1).map((r) => [r.peer, r.txids])).toEqual([
      ['p1', [toHex(id(3))]],
      ['p2', [toHex(id(1))]],
    ]);
    f.stop();
  });
});

describe('TxGossip edges', () => {
  it('every batch it sends is a Tx frame peers accept: within the frame limit, framing included', () => {
    // Our gossip over a peer's limit would get us banned by honest peers (issue 10). The worst
    // cases: transactions of the largest size peers accept, and the most transactions per batch
    // with CBOR's 3- and 5-byte length headers, with byte counts that just fit the budget.
    const sent: Uint8Array[][] = [];
    const g = new TxGossip({ flushMs: 60_000, send: (b) => sent.push(b) });
    const sizes = [
      ...Array.from({ length: 7 }, () => MAX_TX_BYTES),
      ...Array.from({ length: 3 * MAX_TXS_PER_BATCH }, (_, i) => 256 + ((i * 37) % 900)),
      ...Array.from({ length: 40 }, (_, i) => 65_536 + i),
    ];
    for (const n of sizes) g.add(new Uint8Array(n).fill(n & 0xff));
    g.flush();
    expect(sent.flat().length).toBe(sizes.length);
    for (const batch of sent) {
      const frame = encodeMessage({ t: MSG.tx, id: 0xffff_ffff, txs: batch });
      expect(frame.length).toBeLessThanOrEqual(TX_FRAME_LIMIT);
      const back = decodeFrame(frame) as { txs: Uint8Array[] };
      expect(back.txs.length).toBe(batch.length);
    }
    // And the budget is not wasted: a batch of the largest transactions carries two of them.
    expect(sent[0]!.length).toBe(Math.floor(GOSSIP_BATCH_BYTES / MAX_TX_BYTES));
  });

  it('fills a batch to exactly the byte budget; one byte more starts the next batch', () => {
    const sent: number[][] = [];
    const g = new TxGossip({ flushMs: 60_000, send: (b) => sent.push(b.map((t) => t.length)) });
    g.add(new Uint8Array(GOSSIP_BATCH_BYTES - 10));
    g.add(new Uint8Array(10)); // exactly the budget: same batch
    expect(sent).toEqual([]);
    g.add(new Uint8Array(1)); // over: the full batch leaves first
    expect(sent).toEqual([[GOSSIP_BATCH_BYTES - 10, 10]]);
    g.flush();
    expect(sent).toEqual([[GOSSIP_BATCH_BYTES - 10, 10], [1]]);
    // A transaction larger than the budget still leaves, alone (never an empty batch first).
    g.add(new Uint8Array(GOSSIP_BATCH_BYTES + 1));
    g.flush();
    expect(sent.at(-1)).toEqual([GOSSIP_BATCH_BYTES + 1]);
    g.flush(); // nothing pending: nothing sent
    expect(sent).toHaveLength(3);
    g.stop();
  });

  it('flush() and stop() leave no timer behind: a later batch waits its own full flushMs', () => {
    vi.useFakeTimers();
    try {
      const sent: number[][] = [];
      const g = new TxGossip({ flushMs: 5, send: (b) => sent.push(b.map((t) => t.length)) });
      g.add(new Uint8Array(1));
      g.flush();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(3);
      g.add(new Uint8Array(2)); // due 5 ms from now, not when the flushed batch's timer was
      vi.advanceTimersByTime(4);
      expect(sent).toEqual([[1]]);
      vi.advanceTimersByTime(1);
      expect(sent).toEqual([[1], [2]]);
      g.add(new Uint8Array(3));
      g.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a flush cancels the pending timer; stop drops the batch and its timer', async () => {
    const sent: number[][] = [];
    const g = new TxGossip({ flushMs: 5, send: (b) => sent.push(b.map((t) => t.length)) });
    g.add(new Uint8Array(1));
    g.flush();
    g.add(new Uint8Array(2)); // a new batch with its own timer
    await vi.waitFor(() => expect(sent).toEqual([[1], [2]]));
    g.add(new Uint8Array(3));
    g.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([[1], [2]]);
    g.add(new Uint8Array(4)); // usable after stop, from an empty batch
    g.flush();
    expect(sent).toEqual([[1], [2], [4]]);
  });
});

describe('ValidatorSet', () => {
  it('weights by tier, counts us and connected validators, leaves benched ones out of the draw only', async () => {
    const self = new Uint8Array(32).fill(1);
    const bench = new Benchlist([], {
      failureThreshold: 1,
      minBenchMs: 1_000,
      maxBenchMs: 1_000,
      maxBenchedPercent: 50,
    });
    const v = new ValidatorSet(DEVNET, self, bench);
    v.setActive([rec(1, 1), rec(2, 1), rec(3, 2), rec(4, 0)]);
    expect(v.isValidator).toBe(true);
    expect(v.activeWeight).toBe(10 + 10 + 100 + 1);
    expect(v.reachableWeight()).toBe(10);
    expect(v.poolAt(0)).toBeNull(); // 10 of 121: below α_c/k = 70 %
    v.peerConnected(toHex(new Uint8Array(32).fill(3)));
    v.peerConnected('not-a-validator');
    expect(v.reachableWeight()).toBe(110);
    expect(v.poolAt(0)!.pool.weight).toBe(110); // 110 · 20 ≥ 14 · 121
    v.peerConnected(toHex(new Uint8Array(32).fill(2)));
    expect(v.poolAt(0)!.pool.weight).toBe(120);
    // Benched: left out of the draw (the rest still meets the quorum), still reachable.
    expect(bench.recordFailure(toHex(new Uint8Array(32).fill(2)), 0)).toBe(true);
    expect(v.poolAt(0)!.pool.excluded.has(toHex(new Uint8Array(32).fill(2)))).toBe(true);
    expect(v.poolAt(0)!.pool.weight).toBe(110);
    expect(v.reachableWeight()).toBe(120);
    expect(v.poolAt(2_000)!.pool.weight).toBe(120); // the bench ended
    v.peerDisconnected(toHex(new Uint8Array(32).fill(3)));
    expect(v.reachableWeight()).toBe(20);
    const full = new ValidatorSet(DEVNET, new Uint8Array(32).fill(9), new Benchlist([]));
    full.setActive([rec(1, 1)]);
    expect(full.isValidator).toBe(false);
    expect(full.poolAt(0)).toBeNull();
  });
});

describe('ValidatorSet bookkeeping', () => {
  const id = (b: number) => toHex(new Uint8Array(32).fill(b));

  it('lists the active set, skips unknown tiers, benches only others, and the quorum follows connections', () => {
    const bench = new Benchlist([], {
      failureThreshold: 1,
      minBenchMs: 1_000,
      maxBenchMs: 1_000,
      maxBenchedPercent: 50,
    });
    const v = new ValidatorSet(DEVNET, new Uint8Array(32).fill(1), bench);
    v.setActive([rec(1, 1), rec(2, 1), rec(3, 1), rec(7, 99)]); // tier 99 does not exist
    expect(v.activeIds().sort()).toEqual([id(1), id(2), id(3)]);
    expect([v.activeCount, v.activeWeight]).toEqual([3, 30]);
    expect([v.isActive(id(2)), v.isActive(id(7)), v.isActive(id(9))]).toEqual([true, false, false]);
    // The benchlist tracks the others, never ourselves (a peer with the same record is benched).
    expect(bench.recordFailure(id(1), 0)).toBe(false);
    expect(bench.recordFailure(id(2), 0)).toBe(true);
    // Alone we hold 10 of 30: below the 70 % poll quorum; with one peer 20 of 30 (67 %): still
    // below; with both, 30 of 30.
    expect(v.quorumMet()).toBe(false);
    v.peerConnected(id(2));
    expect(v.quorumMet()).toBe(false);
    v.peerConnected(id(3));
    expect(v.quorumMet()).toBe(true);
    v.peerDisconnected(id(3));
    expect(v.quorumMet()).toBe(false);
  });

  it('rebuilds the sampler when a validator connects or leaves, not for other peers', () => {
    const v = new ValidatorSet(DEVNET, new Uint8Array(32).fill(1), new Benchlist([]));
    v.setActive([rec(1, 1), rec(2, 1)]);
    const first = v.reachableSampler();
    expect(first).not.toBeNull();
    v.peerConnected('a full node');
    expect(v.reachableSampler()).toBe(first); // unchanged inputs: the same sampler
    v.peerConnected(id(2));
    const second = v.reachableSampler();
    expect(second).not.toBe(first);
    expect(second!.ids.length).toBe(2);
    v.peerDisconnected('a full node');
    expect(v.reachableSampler()).toBe(second);
    v.peerDisconnected(id(2));
    expect(v.reachableSampler()!.ids.length).toBe(1);
    // Not a validator and nobody connected: nothing to draw from.
    const outsider = new ValidatorSet(DEVNET, new Uint8Array(32).fill(9), new Benchlist([]));
    outsider.setActive([rec(1, 1)]);
    expect(outsider.reachableSampler()).toBeNull();
  });
});

describe('SerialQueue', () => {
  it("runs operations one at a time in call order, whatever each one's outcome", async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const op = (name: string, ms: number, fail = false) =>
      q.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([op('a', 20), op('b', 1, true), op('c', 5)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await q.close();
    await expect(q.run(async () => 1)).rejects.toThrow('closed');
  });
});

describe('InventorySnapshot', () => {
  it('pages through every processing and finalized txid exactly once, in order, 1,024 at a time', async () => {
    const mp = new Mempool();
    const ids: string[] = [];
    for (let i = 0; i < 2_500; i++) {
      const txid = new Uint8Array(randomBytes(32));
      mp.admit(fakeTx(txid), 0n);
      if (i % 3 === 0) mp.finalize(txid);
      ids.push(toHex(txid));
    }
    let now = 0;
    const snap = new InventorySnapshot(mp, () => now);
    const seen: string[] = [];
    let cursor: Uint8Array = new Uint8Array(0);
    let pages = 0;
    do {
      const p = snap.page(cursor);
      pages++;
      expect(p.txids.length / 32).toBeLessThanOrEqual(INVENTORY_PAGE);
      for (let i = 0; i < p.txids.length; i += 32) seen.push(toHex(p.txids.subarray(i, i + 32)));
      cursor = p.next;
    } while (cursor.length > 0);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
    // A cursor past the end: an empty page, no next.
    const last = snap.page(Uint8Array.from(Buffer.from('ff'.repeat(32), 'hex')));
    expect([last.txids.length, last.next.length]).toEqual([0, 0]);
    now = 5_000; // the snapshot refreshes after maxAgeMs
    expect(snap.page(new Uint8Array(0)).txids.length / 32).toBe(INVENTORY_PAGE);
  });
});

describe('answerGetTx', () => {
  const entry = (size: number) => fakeTx(undefined, size);
  const packed = (ids: readonly Uint8Array[]) => {
    const out = new Uint8Array(ids.length * 32);
    ids.forEach((id, i) => {
      out.set(id, i * 32);
    });
    return out;
  };

  it('answers the held ones in request order, skipping unknown txids, processing and finalized alike', () => {
    const mp = new Mempool();
    const [a, b, c] = [entry(100), entry(200), entry(300)];
    for (const e of [a, b, c]) mp.admit(e, 0n);
    mp.finalize(b.txid);
    const unknown = new Uint8Array(randomBytes(32));
    const got = answerGetTx(mp, packed([c.txid, unknown, a.txid, b.txid]));
    expect(got.map((x) => x.length)).toEqual([300, 100, 200]);
    expect(got[0]).toBe(c.bytes);
    expect(answerGetTx(mp, new Uint8Array(0))).toEqual([]);
    // A trailing partial txid (31 bytes) is not read as one.
    expect(answerGetTx(mp, packed([a.txid]).subarray(0, 31))).toEqual([]);
  });

  it('stops at the gossip batch byte budget (never a frame a peer would refuse) and at the batch count', () => {
    const mp = new Mempool();
    const big = Array.from({ length: 20 }, () => entry(DEVNET.maxTxBytes));
    for (const e of big) mp.admit(e, 0n);
    const got = answerGetTx(mp, packed(big.map((e) => e.txid)));
    const fit = Math.floor(GOSSIP_BATCH_BYTES / DEVNET.maxTxBytes);
    expect(got.length).toBe(fit);
    expect(got.reduce((n, x) => n + x.length, 0)).toBeLessThanOrEqual(GOSSIP_BATCH_BYTES);
    // Exactly at the budget still fits: fill it with one transaction of the remaining size.
    const mp2 = new Mempool();
    const first = entry(GOSSIP_BATCH_BYTES - 1_000);
    const last = entry(1_000);
    for (const e of [first, last]) mp2.admit(e, 0n);
    expect(answerGetTx(mp2, packed([first.txid, last.txid])).length).toBe(2);
    const over = entry(1_001);
    const mp3 = new Mempool();
    for (const e of [first, over]) mp3.admit(e, 0n);
    expect(answerGetTx(mp3, packed([first.txid, over.txid])).length).toBe(1);
    // Many small ones: at most MAX_TXS_PER_BATCH.
    const mp4 = new Mempool();
    const small = Array.from({ length: MAX_TXS_PER_BATCH + 10 }, () => entry(50));
    for (const e of small) mp4.admit(e, 0n);
    expect(answerGetTx(mp4, packed(small.map((e) => e.txid))).length).toBe(MAX_TXS_PER_BATCH);
  });
});

describe('InventorySnapshot reuse', () => {
  it('serves one sorted snapshot for maxAgeMs, then takes a new one; a cursor of another length starts over', () => {
    const mp = new Mempool();
    let now = 0;
    const snap = new InventorySnapshot(mp, () => now, 1_000);
    const first = new Uint8Array(32).fill(0x10);
    mp.admit(fakeTx(first), 0n);
    expect(snap.page(new Uint8Array(0)).txids.length).toBe(32);
    const second = new Uint8Array(32).fill(0x20);
    mp.admit(fakeTx(second), 0n);
    now = 1_000; // exactly maxAgeMs later: still the old snapshot
    expect(snap.page(new Uint8Array(0)).txids.length).toBe(32);
    now = 1_001;
    const fresh = snap.page(new Uint8Array(0));
    expect(toHex(fresh.txids)).toBe(toHex(first) + toHex(second));
    // A malformed cursor (not 32 bytes) is read as "from the start".
    expect(toHex(snap.page(new Uint8Array(31).fill(0xff)).txids)).toBe(toHex(first) + toHex(second));
    expect(snap.page(first).txids).toEqual(second);
  });

  it("the next-page cursor is the caller's own copy: writing into it changes no later page", () => {
    const mp = new Mempool();
    const snap = new InventorySnapshot(mp, () => 0, 1_000);
    for (let i = 0; i <= INVENTORY_PAGE; i++) {
      const t = new Uint8Array(32);
      new DataView(t.buffer).setUint32(0, i);
      mp.admit(fakeTx(t), 0n);
    }
    const first = snap.page(new Uint8Array(0));
    const before = toHex(first.txids);
    first.next.fill(0xff); // e.g. a reused encode buffer
    expect(toHex(snap.page(new Uint8Array(0)).txids)).toBe(before);
  });
});
