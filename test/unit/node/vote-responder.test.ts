import { describe, expect, it } from 'vitest';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { bytesKey } from '../../../src/ledger/map-keys.js';
import { Mempool } from '../../../src/ledger/mempool.js';
import { ledgerVoteOf, VoteResponder } from '../../../src/node/vote-responder.js';
import { time } from '../../../src/params/units.js';
import { key, params, pay, spendFunded } from '../../support/devnet-ledger.js';

const txid = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const packed = (...ids: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(ids.length * 32);
  for (let i = 0; i < ids.length; i++) out.set(ids[i]!, i * 32);
  return out;
};

describe('VoteResponder', () => {
  it('answers each txid in order: the ledger first, then the engine; unknown ones are fetched from the asker', () => {
    const engine = new SnowballEngine(params.snowball);
    // 1 and 2 conflict: the engine prefers the first it saw (1); 3 stands alone.
    engine.add(txid(1), ['in']);
    engine.add(txid(2), ['in']);
    engine.add(txid(3), ['other']);
    const ledger = new Map<string, number>([
      [bytesKey(txid(2)), Vote.YES], // final here although the engine prefers its rival
      [bytesKey(txid(3)), Vote.NO], // a rival is final here
      [bytesKey(txid(9)), Vote.YES], // in a block; the engine never saw it
    ]);
    const keysSeen: string[] = [];
    const fetched: [string, number][] = [];
    const responder = new VoteResponder({
      engine,
      ledgerVote: (k, ids, at) => {
        expect(k).toBe(bytesKey(ids.subarray(at, at + 32)));
        keysSeen.push(k);
        return ledger.get(k) as Vote | undefined;
      },
      unknown: (peer, id) => fetched.push([peer, id[0]!]),
    });
    const q = packed(txid(1), txid(2), txid(3), txid(9), txid(7));
    expect([...responder.votes(q, 'peer-a')]).toEqual([Vote.YES, Vote.YES, Vote.NO, Vote.YES, Vote.UNKNOWN]);
    expect(keysSeen).toHaveLength(5);
    expect(fetched).toEqual([['peer-a', 7]]);
    // Our own draws (no asker) fetch nothing.
    expect([...responder.votes(packed(txid(2), txid(7)), undefined)]).toEqual([Vote.YES, Vote.UNKNOWN]);
    expect(fetched).toHaveLength(1);
    // Without the ledger, 2 is a no: the engine prefers 1.
    ledger.delete(bytesKey(txid(2)));
    expect([...responder.votes(packed(txid(2)), 'peer-a')]).toEqual([Vote.NO]);
  });

  it('answers an empty request with no votes', () => {
    const responder = new VoteResponder({
      engine: new SnowballEngine(params.snowball),
      ledgerVote: () => Vote.YES,
      unknown: () => undefined,
    });
    expect(responder.votes(new Uint8Array(0), 'p')).toHaveLength(0);
  });
});

describe('ledgerVoteOf (the ledger half of a vote)', () => {
  const a = spendFunded(0, [pay(key(1), time(1))]);
  const b = spendFunded(0, [pay(key(2), time(1))]);
  const c = spendFunded(1, [pay(key(3), time(1))]);
  const vote = (pool: Mempool, inChain: Set<string>, id: Uint8Array) =>
    ledgerVoteOf(pool, (t) => inChain.has(bytesKey(t)))(bytesKey(id), id, 0);

  it('processing → the engine decides, without asking the chain; finalized → yes; its rival → no', () => {
    const pool = new Mempool();
    pool.admit(a, 1n);
    pool.admit(b, 1n);
    let chainAsked = 0;
    const ask = ledgerVoteOf(pool, () => {
      chainAsked++;
      return false;
    });
    expect(ask(bytesKey(a.txid), a.txid, 0)).toBeUndefined();
    expect(chainAsked).toBe(0);
    pool.finalize(a.txid);
    expect(ask(bytesKey(a.txid), a.txid, 0)).toBe(Vote.YES);
    expect(ask(bytesKey(b.txid), b.txid, 0)).toBe(Vote.NO);
    expect(chainAsked).toBe(1); // b left the pool: the chain is asked before the rejection counts
  });

  it('in our chain → yes, even when a rejection of it is remembered here; unknown → the engine', () => {
    const pool = new Mempool();
    pool.admit(b, 1n);
    pool.reject(b.txid);
    expect(vote(pool, new Set(), b.txid)).toBe(Vote.NO);
    expect(vote(pool, new Set([bytesKey(b.txid)]), b.txid)).toBe(Vote.YES);
    expect(vote(pool, new Set([bytesKey(c.txid)]), c.txid)).toBe(Vote.YES);
    expect(vote(pool, new Set(), c.txid)).toBeUndefined();
    // The chain is asked for the txid at the given offset of a packed request, not its first one.
    const inChain = new Set([bytesKey(c.txid)]);
    const ask = ledgerVoteOf(pool, (t) => inChain.has(bytesKey(t)));
    expect(ask(bytesKey(c.txid), packed(txid(9), c.txid), 32)).toBe(Vote.YES);
    expect(ask(bytesKey(txid(9)), packed(txid(9), c.txid), 0)).toBeUndefined();
  });
});
