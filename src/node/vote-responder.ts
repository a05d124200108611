import type { SnowballEngine } from '../consensus/snowball/engine.js';
import { Vote } from '../consensus/snowball/poll.js';

export interface VoteResponderDeps {
  readonly engine: SnowballEngine;
  /**
   * True when the transaction is final here although the engine does not know it: loaded from disk
   * after a restart (the engine starts empty), or in a block (the engine forgets included ones).
   */
  readonly isFinal: (txid: Uint8Array) => boolean;
  /** True when a transaction final here spends one of this transaction's inputs (or registry keys). */
  readonly conflictsFinal: (txid: Uint8Array) => boolean;
  /** Called for each txid we have not seen, with the peer that named it (it holds the transaction). */
  readonly unknown: (peerId: string, txid: Uint8Array) => void;
}

/**
 * Our answer to a PollRequest (DESIGN §5), the ledger first: final here (finalized pool or a block
 * of our chain) → yes; conflicts with a transaction final here → no; then the engine: yes when we
 * prefer it in every conflict set it belongs to, no when we prefer a rival, unknown when we have not
 * seen it — and then we fetch it from the asker. Asking the ledger first is what makes a restarted
 * node (empty engine, persisted finality) answer as it did before. The same function answers our
 * own draws when we sample ourselves.
 */
export class VoteResponder {
  constructor(private readonly deps: VoteResponderDeps) {}

  votes(txids: Uint8Array, askerId: string | undefined): Uint8Array {
    const n = txids.length >>> 5;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const txid = txids.subarray(i * 32, i * 32 + 32);
      let v: number;
      if (this.deps.isFinal(txid)) v = Vote.YES;
      else if (this.deps.conflictsFinal(txid)) v = Vote.NO;
      else {
        v = this.deps.engine.vote(txid);
        if (v === Vote.UNKNOWN && askerId !== undefined) this.deps.unknown(askerId, txid);
      }
      out[i] = v;
    }
    return out;
  }
}
