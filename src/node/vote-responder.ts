import type { SnowballEngine } from '../consensus/snowball/engine.js';
import { Vote } from '../consensus/snowball/poll.js';
import { latin1Key } from '../encoding/bytes.js';
import type { Mempool } from '../ledger/mempool.js';

export interface VoteResponderDeps {
  readonly engine: SnowballEngine;
  /**
   * The ledger's answer, asked before the engine: YES when the transaction is final here although
   * the engine may not know it (loaded from disk after a restart, when the engine starts empty, or
   * in a block of our chain, which the engine forgets), NO when a transaction final here spends one
   * of its inputs (or registry keys), undefined when the ledger leaves it to the engine. `key` is
   * the txid's map key (its bytes as latin1, the ledger's and the engine's), built once per txid;
   * the txid itself is `txids[offset, offset + 32)`, so a view of it is made only by the rare
   * answer that needs one (a request's txids are a Buffer, and a view of one costs more than the
   * two map lookups of the common answer).
   */
  readonly ledgerVote: (key: string, txids: Uint8Array, offset: number) => Vote | undefined;
  /** Called for each txid we have not seen, with the peer that named it (it holds the transaction). */
  readonly unknown: (peerId: string, txid: Uint8Array) => void;
}

/**
 * Our answer to a PollRequest (DESIGN §5), the ledger first (final here → yes; conflicts with a
 * transaction final here → no), then the engine: yes when we prefer it in every conflict set it
 * belongs to, no when we prefer a rival, unknown when we have not seen it — and then we fetch it
 * from the asker. Asking the ledger first is what makes a restarted node (empty engine, persisted
 * finality) answer as it did before. The same function answers our own draws when we sample
 * ourselves.
 *
 * This is the node's hottest loop: every transaction is voted on by every validator about
 * β × k / (distinct validators per poll) times, so at 1,000 tx/s on 5 validators each answers tens
 * of thousands of votes a second. One key string per txid serves every map lookup.
 */
export class VoteResponder {
  constructor(private readonly deps: VoteResponderDeps) {}

  votes(txids: Uint8Array, askerId: string | undefined): Uint8Array {
    const n = txids.length >>> 5;
    const out = new Uint8Array(n);
    const { engine, ledgerVote } = this.deps;
    for (let i = 0; i < n; i++) {
      const at = i * 32;
      const key = latin1Key(txids, at, at + 32);
      let v = ledgerVote(key, txids, at);
      if (v === undefined) {
        v = engine.voteByKey(key);
        if (v === Vote.UNKNOWN && askerId !== undefined)
          this.deps.unknown(askerId, txids.subarray(at, at + 32));
      }
      out[i] = v;
    }
    return out;
  }
}

/**
 * The ledger's vote (VoteResponderDeps.ledgerVote) from the mempool and the chain's transaction
 * index. The pool is asked first: a transaction it holds is final here (yes) or processing — and
 * then in no block of our chain, since applying a block removes every transaction it includes from
 * the pool — so the vote is the engine's, without the LMDB lookup (nearly every vote is for a
 * processing transaction), unless a rival of it is an expired record here (no). Otherwise: in a
 * block of our chain → yes, before anything else (the chain is authoritative even over a rejection
 * remembered here); rejected here (its rival is final, and the engine forgot it) → no.
 */
export function ledgerVoteOf(
  mempool: Mempool,
  inOurChain: (txid: Uint8Array) => boolean,
): (key: string, txids: Uint8Array, offset: number) => Vote | undefined {
  return (key, txids, offset) => {
    const entry = mempool.getByKey(key);
    if (entry) {
      if (entry.status === 'finalized') return Vote.YES;
      // Back from expiry beside a rival that is still only an expired record here: alone in its
      // sets, the engine would prefer it, a yes this node may not have given before (expiry may
      // only withdraw yes votes). No until the rival's record goes (a block or a finalization).
      return mempool.hasExpiredRivalByKey(key) ? Vote.NO : undefined;
    }
    if (inOurChain(txids.subarray(offset, offset + 32))) return Vote.YES;
    if (mempool.wasRejectedByKey(key)) return Vote.NO;
    return undefined;
  };
}
