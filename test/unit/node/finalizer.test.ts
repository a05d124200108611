import { afterEach, describe, expect, it, vi } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { pay as coinPay, fundedCoin, recipient } from '../../../src/devnet/coins.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { type CommittedChain, LedgerService } from '../../../src/ledger/ledger-service.js';
import { bytesKey } from '../../../src/ledger/map-keys.js';
import { Finalizer, releaseIncluded } from '../../../src/node/finalizer.js';
import { ledgerVoteOf, VoteResponder } from '../../../src/node/vote-responder.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { key, params, pay, spendFunded } from '../../support/devnet-ledger.js';
import { poll } from '../consensus/engine-driver.js';
import { tempDir } from '../storage/temp-dir.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What the store's finalized-pool writes do: fail (a full disk), or wait for `gate` (a slow disk). */
interface WriteState {
  failing: boolean;
  attempts: number;
  gate?: Promise<void>;
}

/** A store whose finalized-pool writes fail while `failing` is true and wait while `gate` is pending. */
function flakyStore(store: ChainStore, state: WriteState): CommittedChain {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putFinalized')
        return async (...etxs: EncodedTx[]) => {
          state.attempts++;
          if (state.gate) await state.gate;
          if (state.failing) throw new Error('MDB_MAP_FULL: mapsize limit reached');
          return target.putFinalized(...etxs);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as CommittedChain;
}

async function setup(state: WriteState, group: { minWriteIntervalMs?: number; now?: () => number } = {}) {
  const { dir, cleanup } = tempDir('finalizer');
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  cleanups.push(() => store.close());
  const ledger = LedgerService.open(params, flakyStore(store, state), new WasmVerifier());
  // k = 1, α = 1, β = 1: one yes vote decides, so the test drives the engine in one poll.
  const engine = new SnowballEngine({ k: 1, alphaPreference: 1, alphaConfidence: 1, beta: 1 } as never);
  const events = { final: [] as string[], rejected: [] as string[], halts: [] as boolean[] };
  const finalizer = new Finalizer({
    ledger,
    engine,
    onFinal: (e) => events.final.push(toHex(e.txid)),
    onRejected: (e) => events.rejected.push(toHex(e.txid)),
    onHalt: (h) => events.halts.push(h),
    retryMs: 5,
    maxRetryMs: 20,
    ...group,
  });
  cleanups.push(() => finalizer.close());
  return { store, ledger, engine, finalizer, events };
}

async function admit(ledger: LedgerService, engine: SnowballEngine, etx: EncodedTx): Promise<void> {
  await ledger.submitTx(etx.bytes);
  engine.add(etx.txid, ledger.mempool.get(etx.txid)!.conflictKeys);
}

/** Two processing spends of the same funded coin (one conflict set), admitted in this order. */
async function admitRivals(
  ledger: LedgerService,
  engine: SnowballEngine,
): Promise<{ a: EncodedTx; b: EncodedTx }> {
  const a = spendFunded(0, [pay(key(1), 5_000_000n)]);
  const b = spendFunded(0, [pay(key(2), 5_000_000n)]);
  await admit(ledger, engine, a);
  await admit(ledger, engine, b);
  return { a, b };
}

/** Two processing spends of different funded coins (no conflict between them), admitted in order. */
async function admitIndependent(
  ledger: LedgerService,
  engine: SnowballEngine,
): Promise<{ a: EncodedTx; b: EncodedTx }> {
  const a = spendFunded(0, [pay(key(1), 5_000_000n)]);
  const b = spendFunded(1, [pay(key(1), 5_000_000n)]);
  await admit(ledger, engine, a);
  await admit(ledger, engine, b);
  return { a, b };
}

function accept(engine: SnowballEngine, txid: Uint8Array): void {
  const req = engine.startPoll(['v'])!;
  const votes = req.txids.map((t) => (toHex(t) === toHex(txid) ? 1 : 0));
  expect(engine.recordResponse(req.requestId, 'v', votes)).toBe(true);
}

describe('Finalizer: persist before acknowledging', () => {
  it('writes the accepted transaction durably, then marks it final and rejects its rival', async () => {
    const state = { failing: false, attempts: 0 };
    const { store, ledger, engine, finalizer, events } = await setup(state);
    const { a, b } = await admitRivals(ledger, engine);
    accept(engine, a.txid);
    finalizer.collect();
    await finalizer.flush();
    expect(events.final).toEqual([toHex(a.txid)]);
    expect(events.rejected).toEqual([toHex(b.txid)]);
    expect(store.getFinalized(a.txid)).toBeDefined();
    expect(ledger.mempool.get(a.txid)?.status).toBe('finalized');
    expect(ledger.mempool.get(b.txid)).toBeUndefined();
  });

  it('a rejection Snowball decides for a transaction no longer processing here is skipped, not re-reported', async () => {
    const state = { failing: false, attempts: 0 };
    const { ledger, engine, finalizer, events } = await setup(state);
    const { a, b } = await admitRivals(ledger, engine);
    // b left the mempool another way first (e.g. a block used up its input); the engine still
    // holds it and rejects it when a is accepted.
    ledger.rejectTx(b.txid);
    accept(engine, a.txid);
    expect(() => finalizer.collect()).not.toThrow();
    await finalizer.flush();
    expect(events.final).toEqual([toHex(a.txid)]);
    expect(events.rejected).toEqual([]);
  });

  it('a failed write reports nothing final, halts, keeps the rival, and succeeds on retry', async () => {
    const state = { failing: true, attempts: 0 };
    const { store, ledger, engine, finalizer, events } = await setup(state);
    const { a, b } = await admitRivals(ledger, engine);
    accept(engine, a.txid);
    finalizer.collect();
    while (state.attempts < 3) await new Promise((r) => setTimeout(r, 5));
    expect(events.halts).toEqual([true]);
    expect(finalizer.isHalted).toBe(true);
    expect(events.final).toEqual([]);
    expect(store.getFinalized(a.txid)).toBeUndefined();
    expect(ledger.mempool.get(a.txid)?.status).toBe('processing');
    // The engine rejected the rival at once; the mempool drops it (its outcome is certain), but the
    // winner is not reported final before its write succeeds.
    expect(ledger.mempool.get(b.txid)).toBeUndefined();
    state.failing = false;
    while (events.final.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(events.final).toEqual([toHex(a.txid)]);
    expect(events.halts).toEqual([true, false]);
    expect(store.getFinalized(a.txid)).toBeDefined();
    expect(ledger.mempool.get(a.txid)?.status).toBe('finalized');
  });

  it('a batch of decisions is one write', async () => {
    const state = { failing: false, attempts: 0 };
    const { ledger, engine, finalizer, events } = await setup(state);
    const txs = [0, 1, 2, 3].map((i) => spendFunded(i, [pay(key(9), 1_000_000n)]));
    for (const t of txs) await admit(ledger, engine, t);
    const req = engine.startPoll(['v'])!;
    expect(
      engine.recordResponse(
        req.requestId,
        'v',
        req.txids.map(() => 1),
      ),
    ).toBe(true);
    finalizer.collect();
    await finalizer.flush();
    expect(events.final.sort()).toEqual(txs.map((t) => toHex(t.txid)).sort());
    expect(state.attempts).toBe(1);
    // Writes that succeed from the start never announce a halt, nor an end of one.
    expect(events.halts).toEqual([]);
  });

  it('decisions collected while a write runs wait for it, then share the next write', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const state: WriteState = { failing: false, attempts: 0, gate };
    const { ledger, engine, finalizer, events } = await setup(state);
    const [a, b, c] = [0, 1, 2].map((i) => spendFunded(i, [pay(key(9), 1_000_000n)])) as [
      EncodedTx,
      EncodedTx,
      EncodedTx,
    ];
    for (const t of [a, b, c]) await admit(ledger, engine, t);
    accept(engine, a.txid);
    finalizer.collect();
    while (state.attempts === 0) await new Promise((r) => setImmediate(r));
    accept(engine, b.txid);
    finalizer.collect();
    accept(engine, c.txid);
    finalizer.collect();
    expect(events.final).toEqual([]);
    state.gate = undefined;
    release();
    await finalizer.flush();
    expect(events.final[0]).toBe(toHex(a.txid));
    expect(events.final.slice(1).sort()).toEqual([toHex(b.txid), toHex(c.txid)].sort());
    expect(state.attempts).toBe(2);
  });
});

/** Write attempts after advancing the (fake) clock by `ms`. */
async function attemptsAfter(state: { attempts: number }, ms: number): Promise<number> {
  await vi.advanceTimersByTimeAsync(ms);
  return state.attempts;
}

/** The engine accepts `txid` and the finalizer collects it; timers due now run. */
async function decide(engine: SnowballEngine, finalizer: Finalizer, txid: Uint8Array): Promise<void> {
  accept(engine, txid);
  finalizer.collect();
  await vi.advanceTimersByTimeAsync(0);
}

describe('Finalizer: retry back-off and shutdown', () => {
  it('retries after 5, 10, 20, 20 ms (doubling to maxRetryMs), then from 5 ms again after a success', async () => {
    const state = { failing: true, attempts: 0 };
    const { ledger, engine, finalizer, events } = await setup(state);
    const { a, b } = await admitIndependent(ledger, engine);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await decide(engine, finalizer, a.txid);
      expect(state.attempts).toBe(1);
      expect(finalizer.pendingCount).toBe(1);
      // Each retry comes exactly when its delay is up, not a millisecond before.
      expect(await attemptsAfter(state, 4)).toBe(1);
      expect(await attemptsAfter(state, 1)).toBe(2); // 5 ms
      expect(await attemptsAfter(state, 9)).toBe(2);
      expect(await attemptsAfter(state, 1)).toBe(3); // 10 ms
      expect(await attemptsAfter(state, 19)).toBe(3);
      expect(await attemptsAfter(state, 1)).toBe(4); // 20 ms
      expect(await attemptsAfter(state, 19)).toBe(4);
      expect(await attemptsAfter(state, 1)).toBe(5); // capped at 20 ms
      state.failing = false;
      expect(await attemptsAfter(state, 20)).toBe(6);
      expect(events.final).toEqual([toHex(a.txid)]);
      expect(events.halts).toEqual([true, false]);
      expect(finalizer.pendingCount).toBe(0);
      // A new failure starts the back-off from the first delay again.
      state.failing = true;
      await decide(engine, finalizer, b.txid);
      expect(state.attempts).toBe(7);
      expect(await attemptsAfter(state, 4)).toBe(7);
      expect(await attemptsAfter(state, 1)).toBe(8);
      expect(events.halts).toEqual([true, false, true]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('while halted, a new decision waits for the pending retry instead of writing at once', async () => {
    const state = { failing: true, attempts: 0 };
    const { ledger, engine, finalizer, events } = await setup(state);
    const { a, b } = await admitIndependent(ledger, engine);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await decide(engine, finalizer, a.txid);
      expect(await attemptsAfter(state, 2)).toBe(1);
      state.failing = false;
      await decide(engine, finalizer, b.txid);
      expect(await attemptsAfter(state, 2)).toBe(1);
      // The retry, 5 ms after the failure, writes both.
      expect(await attemptsAfter(state, 1)).toBe(2);
      expect(events.final.sort()).toEqual([toHex(a.txid), toHex(b.txid)].sort());
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() stops the retries: no write after it, nothing reported final', async () => {
    const state = { failing: true, attempts: 0 };
    const { ledger, engine, finalizer, events } = await setup(state);
    const a = spendFunded(0, [pay(key(1), 5_000_000n)]);
    await admit(ledger, engine, a);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await decide(engine, finalizer, a.txid);
      expect(state.attempts).toBe(1);
      finalizer.close();
      // The pending retry is cancelled, not left to fire into a closed finalizer.
      expect(vi.getTimerCount()).toBe(0);
      state.failing = false;
      expect(await attemptsAfter(state, 1_000)).toBe(1);
      // Collecting after close writes nothing either, and flush() does not wait for it.
      finalizer.collect();
      await finalizer.flush();
      expect(await attemptsAfter(state, 1_000)).toBe(1);
      expect(events.final).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('after close() a new decision is not written, even with the store healthy', async () => {
    const state = { failing: false, attempts: 0 };
    const { ledger, engine, finalizer, events } = await setup(state);
    const a = spendFunded(0, [pay(key(1), 5_000_000n)]);
    await admit(ledger, engine, a);
    finalizer.close();
    accept(engine, a.txid);
    finalizer.collect();
    await finalizer.flush();
    expect(state.attempts).toBe(0);
    expect(events.final).toEqual([]);
    expect(ledger.mempool.get(a.txid)?.status).toBe('processing');
  });
});

describe('Finalizer: group commit', () => {
  /** A finalizer writing at most every 10 ms (clock: Date, faked by the tests) and three admitted spends. */
  async function groupSetup() {
    const state = { failing: false, attempts: 0 };
    const parts = await setup(state, { minWriteIntervalMs: 10, now: () => Date.now() });
    const txs = [0, 1, 2].map((i) => spendFunded(i, [pay(key(7), 1_000_000n)]));
    for (const t of txs) await admit(parts.ledger, parts.engine, t);
    return { state, ...parts, a: txs[0]!, b: txs[1]!, c: txs[2]! };
  }

  it('decisions within minWriteIntervalMs of a write wait for the interval and share one commit', async () => {
    const { state, ledger, engine, finalizer, events, a, b, c } = await groupSetup();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      // The first decision after a quiet spell is written at once.
      await decide(engine, finalizer, a.txid);
      expect(await attemptsAfter(state, 0)).toBe(1);
      expect(events.final).toEqual([toHex(a.txid)]);
      // Two more, 2 and 5 ms after that write started: nothing is written or reported final until
      // 10 ms have passed, then both go in one write.
      expect(await attemptsAfter(state, 2)).toBe(1);
      await decide(engine, finalizer, b.txid);
      expect(await attemptsAfter(state, 3)).toBe(1);
      await decide(engine, finalizer, c.txid);
      expect(await attemptsAfter(state, 4)).toBe(1);
      expect(events.final).toEqual([toHex(a.txid)]);
      expect(ledger.mempool.get(b.txid)?.status).toBe('processing');
      expect(await attemptsAfter(state, 1)).toBe(2);
      expect(events.final.slice(1).sort()).toEqual([toHex(b.txid), toHex(c.txid)].sort());
      expect(ledger.mempool.get(c.txid)?.status).toBe('finalized');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a decision a full interval after the last write is written at once, and flush() never waits', async () => {
    const { state, engine, finalizer, events, a, b, c } = await groupSetup();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      await decide(engine, finalizer, a.txid);
      expect(await attemptsAfter(state, 10)).toBe(1);
      await decide(engine, finalizer, b.txid);
      expect(await attemptsAfter(state, 0)).toBe(2);
      // 1 ms later the interval holds c back; flush() (shutdown) writes it now.
      expect(await attemptsAfter(state, 1)).toBe(2);
      await decide(engine, finalizer, c.txid);
      expect(await attemptsAfter(state, 0)).toBe(2);
      // The fake clock stands still: only a flush that skips the interval gets c written.
      await finalizer.flush();
      expect(state.attempts).toBe(3);
      expect(events.final.sort()).toEqual([a, b, c].map((t) => toHex(t.txid)).sort());
    } finally {
      vi.useRealTimers();
    }
  });

  it('without an injected clock the interval is measured on performance.now (monotonic)', async () => {
    const state = { failing: false, attempts: 0 };
    const { engine, finalizer, events, ledger } = await setup(state, { minWriteIntervalMs: 10 });
    const [a, b] = [0, 1].map((i) => spendFunded(i, [pay(key(7), 1_000_000n)]));
    for (const t of [a!, b!]) await admit(ledger, engine, t);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      await decide(engine, finalizer, a!.txid);
      expect(await attemptsAfter(state, 3)).toBe(1);
      await decide(engine, finalizer, b!.txid);
      // 3 ms after the first write started: b waits for the rest of the interval.
      expect(await attemptsAfter(state, 6)).toBe(1);
      expect(await attemptsAfter(state, 1)).toBe(2);
      expect(events.final).toEqual([toHex(a!.txid), toHex(b!.txid)]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() or flush() during a group-commit wait leaves no timer behind', async () => {
    for (const end of ['close', 'flush'] as const) {
      const { state, engine, finalizer, a, b, c } = await groupSetup();
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      try {
        await decide(engine, finalizer, a.txid);
        expect(await attemptsAfter(state, 2)).toBe(1);
        // Two decisions within the interval: both wait on one timer.
        await decide(engine, finalizer, b.txid);
        await decide(engine, finalizer, c.txid);
        expect(state.attempts).toBe(1);
        if (end === 'close') finalizer.close();
        else await finalizer.flush();
        expect(vi.getTimerCount()).toBe(0);
        expect(state.attempts).toBe(end === 'close' ? 1 : 2);
      } finally {
        vi.useRealTimers();
      }
    }
  });
});

describe('Finalizer: the engine lets go of what the ledger decided', () => {
  /** A ledger, the network's Snowball engine and a Finalizer, wired as node.ts wires them. */
  async function wired() {
    const { dir, cleanup } = tempDir('finalizer-release');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, params, genesisBlock(params));
    cleanups.push(() => store.close());
    const ledger = LedgerService.open(params, store, new WasmVerifier());
    const engine = new SnowballEngine(params.snowball);
    const rejected: string[] = [];
    const finalizer = new Finalizer({
      ledger,
      engine,
      onFinal: () => undefined,
      onRejected: (etx) => {
        rejected.push(toHex(etx.txid));
        engine.withdraw(etx.txid); // node.ts onRejected
      },
      onHalt: () => undefined,
    });
    cleanups.push(() => finalizer.close());
    // The vote a validator answers: the ledger first (node.ts), then the engine.
    const inChain = new Set<string>();
    const unknown: string[] = [];
    const responder = new VoteResponder({
      engine,
      ledgerVote: ledgerVoteOf(ledger.mempool, (t) => inChain.has(bytesKey(t))),
      unknown: (_peer, t) => unknown.push(toHex(t)),
    });
    const voteOf = (t: Uint8Array) => responder.votes(t, 'asker')[0];
    return { ledger, engine, finalizer, rejected, inChain, unknown, voteOf };
  }

  /** Admits `etx` to the ledger and the engine, as TxIntake does; the engine's answer. */
  async function add(ledger: LedgerService, engine: SnowballEngine, etx: EncodedTx) {
    const res = await ledger.submitEncoded(etx);
    const status = engine.add(res.txid, ledger.mempool.get(res.txid)!.conflictKeys);
    if (status !== 'processing') ledger.rejectTx(res.txid);
    return status;
  }

  it('forgets the losers of each double spend; the engine is empty once the winners are in a block', async () => {
    const { ledger, engine, finalizer, rejected } = await wired();
    const ROUNDS = 8;
    const VARIANTS = 20;
    const winners: EncodedTx[] = [];
    const losers: EncodedTx[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const coin = fundedCoin(r);
      const variants = Array.from({ length: VARIANTS }, (_, v) => coinPay(coin, recipient(v), 10_000_000n));
      for (const etx of variants) expect(await add(ledger, engine, etx)).toBe('processing');
      const win = toHex(variants[0]!.txid);
      for (let i = 0; i < 25 && engine.processingCount > 0; i++) {
        poll(engine, (h) => (h === win ? 20 : 0));
        finalizer.collect();
      }
      await finalizer.flush();
      expect(ledger.mempool.get(variants[0]!.txid)?.status).toBe('finalized');
      winners.push(variants[0]!);
      losers.push(...variants.slice(1));
    }
    expect(engine.processingCount).toBe(0);
    expect(rejected).toHaveLength(ROUNDS * (VARIANTS - 1));
    for (const l of losers) {
      expect(engine.statusOf(l.txid)).toBe('unknown');
      expect(ledger.mempool.wasRejected(l.txid)).toBe(true);
    }
    // Only the winners are left, each holding its spent outpoint's conflict set.
    expect(engine.knownCount).toBe(ROUNDS);
    // The winners are included in a block (node.ts onBlockApplied): nothing is left.
    expect(releaseIncluded(engine, winners)).toEqual([]);
    expect(engine.knownCount).toBe(0);
  });

  it('a loser forgotten by the engine is still voted NO (the ledger remembers it), never fetched again', async () => {
    const { ledger, engine, finalizer, inChain, unknown, voteOf } = await wired();
    const coin = fundedCoin(0);
    const win = coinPay(coin, recipient(1), 10_000_000n);
    const lose = coinPay(coin, recipient(2), 10_000_000n);
    await add(ledger, engine, win);
    await add(ledger, engine, lose);
    for (let i = 0; i < 25 && engine.processingCount > 0; i++) {
      poll(engine, (h) => (h === toHex(win.txid) ? 20 : 0));
      finalizer.collect();
    }
    expect(engine.statusOf(lose.txid)).toBe('unknown');
    // The engine alone would not know it any more: the NO is the ledger's.
    expect(engine.vote(lose.txid)).toBe(Vote.UNKNOWN);
    expect(voteOf(lose.txid)).toBe(Vote.NO);
    expect(voteOf(win.txid)).toBe(Vote.YES); // accepted here, its write may still be pending
    await finalizer.flush();
    expect([voteOf(win.txid), voteOf(lose.txid)]).toEqual([Vote.YES, Vote.NO]);
    // The winner in a block: the chain answers for it, the remembered rejection for the loser.
    inChain.add(bytesKey(win.txid));
    releaseIncluded(engine, [win]);
    expect(engine.knownCount).toBe(0);
    expect([voteOf(win.txid), voteOf(lose.txid)]).toEqual([Vote.YES, Vote.NO]);
    expect(unknown).toEqual([]);
  });

  it('a rival Snowball rejects at admission (the winner accepted, its write pending) is forgotten at the next collect', async () => {
    const { ledger, engine, finalizer } = await wired();
    const coin = fundedCoin(0);
    const win = coinPay(coin, recipient(1), 10_000_000n);
    const late = coinPay(coin, recipient(2), 10_000_000n);
    await add(ledger, engine, win);
    for (let i = 0; i < 25 && engine.statusOf(win.txid) !== 'accepted'; i++)
      poll(engine, (h) => (h === toHex(win.txid) ? 20 : 0));
    expect(ledger.mempool.get(win.txid)?.status).toBe('processing'); // not collected yet
    // The engine keeps the winner's conflict set: a rival is rejected at once, also after a loser
    // of the same outpoint was forgotten.
    expect(await add(ledger, engine, late)).toBe('rejected');
    finalizer.collect();
    expect(engine.statusOf(late.txid)).toBe('unknown');
    expect(ledger.mempool.wasRejected(late.txid)).toBe(true);
    const later = coinPay(coin, recipient(3), 10_000_000n);
    expect(await add(ledger, engine, later)).toBe('rejected');
    finalizer.collect();
    await finalizer.flush();
    expect(engine.knownCount).toBe(1);
  });

  it('releaseIncluded forgets decided transactions and withdraws one a block includes while it is still processing here', async () => {
    const { ledger, engine, finalizer } = await wired();
    const decided = coinPay(fundedCoin(0), recipient(1), 10_000_000n);
    const undecided = coinPay(fundedCoin(1), recipient(2), 10_000_000n);
    const rival = coinPay(fundedCoin(1), recipient(3), 10_000_000n);
    for (const etx of [decided, undecided, rival]) await add(ledger, engine, etx);
    for (let i = 0; i < 25 && engine.statusOf(decided.txid) !== 'accepted'; i++)
      poll(engine, (h) => (h === toHex(decided.txid) ? 20 : 0));
    finalizer.collect();
    await finalizer.flush();
    expect([engine.statusOf(decided.txid), engine.statusOf(undecided.txid)]).toEqual([
      'accepted',
      'processing',
    ]);
    // The block's rival of `undecided` is rejected by the ledger first (ChainController calls
    // onRejected before onApplied, and onRejected withdraws it).
    ledger.rejectTx(rival.txid);
    expect(engine.withdraw(rival.txid)).toBe(true);
    const withdrawn = releaseIncluded(engine, [
      decided,
      undecided,
      coinPay(fundedCoin(2), recipient(4), 10_000_000n),
    ]);
    expect(withdrawn.map(toHex)).toEqual([toHex(undecided.txid)]);
    expect([engine.knownCount, engine.processingCount]).toEqual([0, 0]);
    expect(engine.startPoll(Array.from({ length: 20 }, (_, i) => `v${i}`))).toBeNull();
  });
});
