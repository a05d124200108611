import type { Rng } from '../consensus/snowball/prng.js';
import { outpointKey } from '../protocol/tx-codec.js';

/** What a conflict group is made of (see TxUniverse). */
export type ConflictGroupKind = 'pair' | 'chain';

export interface ConflictGroup {
  readonly kind: ConflictGroupKind;
  /** Transaction indices, in the order the group lists them. */
  readonly txs: readonly number[];
}

/** How many of each kind of transaction a run has. */
export interface UniverseShape {
  /** Conflicting pairs: two transactions spending one outpoint. */
  readonly conflicts: number;
  /** Multi-input chains (see TxUniverse). */
  readonly chains: number;
  /** Two-input transactions per chain, >= 1 (1 is the triangle t1(A, B), t2(A), t3(B)). */
  readonly chainLength: number;
  /** Ordinary transactions, each spending an outpoint of its own. */
  readonly txs: number;
}

const TX_TAG = [0x54, 0x49, 0x4d, 0x45]; // "TIME"
const PREV_TAG = [0x50, 0x52, 0x45, 0x56]; // "PREV"

/**
 * The transactions of one simulated run and the outpoints they spend. Indices, in order:
 * - pair c: txs 2c and 2c + 1, both spending outpoint P_c;
 * - chain j of length L: outpoints A_0 … A_L; x_i spends A_i and A_{i+1} (i < L), y_0 spends A_0,
 *   y_L spends A_L; the group lists x_0 … x_{L-1}, y_0, y_L. L = 1 is the triangle
 *   t1(A, B), t2(A), t3(B); longer chains make one decision hang on another (accepting y_L rejects
 *   x_{L-1}, which may reopen A_{L-1}, and so on down the chain);
 * - then the ordinary transactions.
 *
 * A txid is "TIME", a 32-bit rank drawn from the seed, then the index in its last 4 bytes: the
 * engine breaks preference ties by txid, so the rank shuffles which member of a conflict every
 * node starts on from seed to seed, instead of always the lowest index.
 */
export class TxUniverse {
  readonly count: number;
  /** Index of the first ordinary (non-conflicting) transaction. */
  readonly firstOrdinary: number;
  readonly groups: readonly ConflictGroup[];
  /** Conflict group of each transaction, -1 for an ordinary one. */
  readonly groupOf: Int32Array;
  /** Outpoints each transaction spends. */
  readonly inputsOf: readonly (readonly number[])[];
  /** Transactions spending each outpoint. */
  readonly spenders: readonly (readonly number[])[];
  readonly txids: readonly Uint8Array[];
  /** Engine conflict keys (outpoint keys) of each transaction. */
  readonly keys: readonly (readonly Uint8Array[])[];
  /** The transactions conflicting with each transaction (sharing an outpoint), ascending. */
  private readonly rivals: readonly (readonly number[])[];

  constructor(shape: UniverseShape, rng: Rng) {
    const inputs: number[][] = [];
    const groups: ConflictGroup[] = [];
    let outpoints = 0;
    for (let c = 0; c < shape.conflicts; c++) {
      const p = outpoints++;
      groups.push({ kind: 'pair', txs: [inputs.push([p]) - 1, inputs.push([p]) - 1] });
    }
    for (let j = 0; j < shape.chains; j++) {
      const L = shape.chainLength;
      const a = outpoints;
      outpoints += L + 1;
      const txs: number[] = [];
      for (let i = 0; i < L; i++) txs.push(inputs.push([a + i, a + i + 1]) - 1);
      txs.push(inputs.push([a]) - 1, inputs.push([a + L]) - 1);
      groups.push({ kind: 'chain', txs });
    }
    this.firstOrdinary = inputs.length;
    for (let t = 0; t < shape.txs; t++) inputs.push([outpoints++]);
    this.count = inputs.length;
    this.inputsOf = inputs;
    this.groups = groups;
    this.groupOf = new Int32Array(this.count).fill(-1);
    groups.forEach((g, i) => {
      for (const t of g.txs) this.groupOf[t] = i;
    });
    const spenders: number[][] = Array.from({ length: outpoints }, () => []);
    inputs.forEach((ins, t) => {
      for (const o of ins) spenders[o]!.push(t);
    });
    this.spenders = spenders;
    this.rivals = inputs.map((ins, t) => {
      const out = new Set<number>();
      for (const o of ins) for (const r of spenders[o]!) if (r !== t) out.add(r);
      return [...out].sort((a, b) => a - b);
    });
    const prevKeys = Array.from({ length: outpoints }, (_, o) =>
      outpointKey({ txid: tagged(PREV_TAG, 0, o), vout: 0 }),
    );
    this.txids = inputs.map((_, t) => tagged(TX_TAG, rng.nextU32(), t));
    this.keys = inputs.map((ins) => ins.map((o) => prevKeys[o]!));
  }

  /** Whether two distinct transactions spend a common outpoint. */
  conflict(a: number, b: number): boolean {
    return this.rivals[a]!.includes(b);
  }

  /** The transactions conflicting with t (sharing an outpoint), ascending, without t. */
  rivalsOf(t: number): readonly number[] {
    return this.rivals[t]!;
  }
}

/** Transaction index from a simulator txid. */
export function txIndex(txid: Uint8Array): number {
  return new DataView(txid.buffer, txid.byteOffset, 32).getUint32(28, false);
}

function tagged(tag: readonly number[], rank: number, index: number): Uint8Array {
  const t = new Uint8Array(32);
  t.set(tag);
  const view = new DataView(t.buffer);
  view.setUint32(4, rank, false);
  view.setUint32(28, index, false);
  return t;
}
