import type { SnowballEngine } from '../consensus/snowball/engine.js';
import { DecodeError } from '../encoding/byte-reader.js';
import type { LedgerService } from '../ledger/ledger-service.js';
import { bytesKey } from '../ledger/map-keys.js';
import { MempoolError } from '../ledger/mempool-errors.js';
import { TxError, type TxErrorCode } from '../ledger/tx-errors.js';
import { parseTx } from '../ledger/tx-validation.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { CodedError } from '../util/coded-error.js';
import type { NodeMetrics } from './node-metrics.js';
import type { OrphanPool } from './orphan-pool.js';
import type { TxGossip } from './tx-gossip.js';

/**
 * Transaction codes that prove the SENDER wrong: they follow from the bytes alone (or from an
 * output every honest node holds identically), so an honest relayer never sends such a
 * transaction. Codes that depend on this node's view of the chain at this moment (an input not
 * final here yet, a coinbase not yet mature, the registry) are not the sender's fault.
 *
 * The amount rules (INSUFFICIENT_INPUTS, FEE_TOO_LOW) read the inputs' values, which are the same
 * wherever the input exists: an outpoint names its transaction by txid, and the txid commits to
 * that output's value. A node that does not hold an input yet (its transaction final at the
 * relayer, not yet here) refuses with INPUT_NOT_FOUND before the amounts are summed: not scored,
 * the transaction waits as an orphan, and a refusal when it is retried scores nobody.
 * REGISTRATION_FEE reads the transaction's own outputs and the chain parameters only.
 */
const PEER_FAULT_CODES: ReadonlySet<string> = new Set<TxErrorCode | 'BAD_PUBKEY'>([
  'MALFORMED',
  'UNSUPPORTED_VERSION',
  'WRONG_CHAIN',
  'TOO_LARGE',
  'NO_INPUTS',
  'NO_OUTPUTS',
  'WITNESS_COUNT',
  'DUPLICATE_INPUT',
  'DUST_OUTPUT',
  'VALUE_OVERFLOW',
  'INSUFFICIENT_INPUTS',
  'FEE_TOO_LOW',
  'REGISTRATION_FEE',
  'WITNESS_KEY_MISMATCH',
  'BAD_SIGNATURE',
  'BAD_NODE_SIGNATURE',
  'BAD_PAYLOAD',
  'BAD_PUBKEY',
]);

export function isPeerFault(code: string): boolean {
  return PEER_FAULT_CODES.has(code);
}

/** Where a transaction stands at this node. */
export type TxStanding = 'processing' | 'finalized' | 'in-block' | 'rejected' | 'unknown';

/** Scoring hook into the transport (P2pNode). */
export interface PeerScorer {
  invalidTransaction(peerId: string, code: string, detail: string): void;
}

export class IntakeError extends CodedError<'INTAKE_BUSY' | 'SHUTTING_DOWN'> {}

export interface TxIntakeDeps {
  readonly ledger: LedgerService;
  readonly engine: SnowballEngine;
  /** Height of the block that includes `txid`, if any (the chain store's tx index). */
  readonly includedHeight: (txid: Uint8Array) => number | undefined;
  readonly orphans: OrphanPool;
  readonly gossip: TxGossip;
  readonly metrics: NodeMetrics;
  readonly scorer: PeerScorer;
  /** Called after each admission so the poll loop can start polling. */
  readonly onAdmitted: (etx: EncodedTx) => void;
  readonly now: () => number;
  /** Transactions being verified at once; beyond it peers' transactions are dropped (re-fetched when polled). */
  readonly maxInFlight: number;
  /**
   * Whether a peer's transaction may go to verification now (VerifyBudget: masternodes always,
   * others within a budget); refused ones are dropped like those over maxInFlight. Default: all.
   */
  readonly verifyBudget?: { allow(peerId: string): boolean };
  /**
   * Local submissions are refused (INTAKE_BUSY) while this many transactions await finality here
   * (processing, or being verified): the node's `consensus.maxSubmitBacklog`. Default: no limit.
   * Peers' transactions are never refused for it: every validator must see every transaction to
   * vote on it.
   */
  readonly maxSubmitBacklog?: number;
  /** Resolves when `txid` is final or rejected here, or after `timeoutMs` (FinalityWaiters.wait). */
  readonly waitOutcome: (
    txid: Uint8Array,
    timeoutMs: number,
  ) => Promise<'finalized' | 'rejected' | 'timeout'>;
  /** How long a local submission waits for parents still processing here (DEFAULT_PARENT_WAIT). */
  readonly parentWait?: ParentWaitLimits;
}

export interface ParentWaitLimits {
  /** Longest wait for the parents to become final before the submission is refused. */
  readonly timeoutMs: number;
  /** Local submissions waiting at once; beyond it one is refused at once (INPUT_NOT_FOUND). */
  readonly maxWaiting: number;
}

/**
 * Finality on the slowest honest node comes within a few poll rounds of the fastest (p99 well under
 * 2 s at 50 ms RTT in the e2e bench); 10 s also covers a loaded node, and 1,024 waiting
 * submissions hold a few hundred kilobytes.
 */
export const DEFAULT_PARENT_WAIT: ParentWaitLimits = Object.freeze({ timeoutMs: 10_000, maxWaiting: 1_024 });

export interface SubmitOutcome {
  readonly txid: Uint8Array;
  /**
   * 'processing' for a newly admitted transaction, 'rejected' for a new one Snowball refused (a
   * rival was accepted here); otherwise where the known one stands.
   */
  readonly standing: TxStanding;
  readonly duplicate: boolean;
}

/**
 * The one way into the mempool: local submissions (RPC) and peers' transactions (gossip, GetTx
 * answers, catch-up) alike: decode → skip what we know → ledger validation with the signatures
 * verified in the worker pool → Snowball → gossip. A sender is scored only for faults an honest
 * relayer cannot make; a transaction whose parent is not final here yet waits in the orphan pool.
 */
export class TxIntake {
  private readonly inFlight = new Set<string>();
  /** First time this node saw each processing transaction (finality latency). */
  private readonly firstSeen = new Map<string, number>();
  /** Local submissions waiting for their parents (submitLocal). */
  private waitingForParents = 0;
  private closed = false;

  constructor(private readonly deps: TxIntakeDeps) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Where `txid` stands here. */
  standing(txid: Uint8Array): TxStanding {
    const entry = this.deps.ledger.mempool.get(txid);
    if (entry) return entry.status;
    if (this.deps.includedHeight(txid) !== undefined) return 'in-block';
    if (this.deps.ledger.mempool.wasRejected(txid) || this.deps.engine.statusOf(txid) === 'rejected')
      return 'rejected';
    return 'unknown';
  }

  /** True when `txid` needs no fetching: known in any state, being verified, or waiting as an orphan. */
  knows(txid: Uint8Array): boolean {
    return this.arriving(txid) || this.standing(txid) !== 'unknown';
  }

  /** Being verified or waiting for its parents as an orphan: here, but not yet voted on (map reads). */
  arriving(txid: Uint8Array): boolean {
    return this.inFlight.has(bytesKey(txid)) || this.deps.orphans.has(txid);
  }

  /** Milliseconds since the node first saw `txid`, and forgets it (called when it finalizes). */
  takeAge(txid: Uint8Array): number | undefined {
    const key = bytesKey(txid);
    const t = this.firstSeen.get(key);
    if (t === undefined) return undefined;
    this.firstSeen.delete(key);
    return this.deps.now() - t;
  }

  forgetAge(txid: Uint8Array): void {
    this.firstSeen.delete(bytesKey(txid));
  }

  /**
   * A block on our chain holds these transactions: none of them will be finalized here any more,
   * so none keeps an age. Not only those still processing: one the engine accepted whose finality
   * was not written yet has left the mempool with the block, its write skips it, and takeAge never
   * runs for it.
   */
  included(txs: readonly EncodedTx[]): void {
    for (const { txid } of txs) this.firstSeen.delete(bytesKey(txid));
  }

  /** Transactions whose first sighting is remembered (finality latency): bounded by what awaits finality. */
  get agesKept(): number {
    return this.firstSeen.size;
  }

  /**
   * A local submission (RPC `sendrawtransaction`): resolves with the transaction's standing, or
   * rejects with the typed validation error (TxError, MempoolError, IntakeError).
   *
   * A wallet that saw a payment become final at one node may spend its outputs at another node
   * before that one has finalized it too (finality reaches nodes a few poll rounds apart). So an
   * input that is missing only because its transaction is still processing here (or being verified,
   * or waiting as an orphan) is waited for, up to `parentWait.timeoutMs`, and the submission is then
   * checked again; an input of a transaction unknown here is refused at once, as is everything else.
   */
  async submitLocal(bytes: Uint8Array): Promise<SubmitOutcome> {
    try {
      return await this.submitLocalOnce(bytes);
    } catch (err) {
      if (!(err instanceof TxError && err.code === 'INPUT_NOT_FOUND')) throw err;
      const limits = this.deps.parentWait ?? DEFAULT_PARENT_WAIT;
      const etx = this.parse(bytes);
      const parents = new Map<string, Uint8Array>();
      for (const input of etx.tx.inputs) parents.set(bytesKey(input.txid), input.txid);
      const pending = [...parents.values()].filter((p) => this.pendingHere(p));
      if (pending.length === 0 || this.waitingForParents >= limits.maxWaiting) throw err;
      this.waitingForParents++;
      try {
        const outcomes = await Promise.all(pending.map((p) => this.deps.waitOutcome(p, limits.timeoutMs)));
        if (outcomes.some((o) => o !== 'finalized')) throw err;
      } finally {
        this.waitingForParents--;
      }
      return this.submitLocalOnce(bytes);
    }
  }

  /** Processing here, being verified or waiting as an orphan: it may become final soon. */
  private pendingHere(txid: Uint8Array): boolean {
    return (
      this.standing(txid) === 'processing' || this.inFlight.has(bytesKey(txid)) || this.deps.orphans.has(txid)
    );
  }

  private async submitLocalOnce(bytes: Uint8Array): Promise<SubmitOutcome> {
    if (this.closed) throw new IntakeError('SHUTTING_DOWN', 'the node is stopping');
    const etx = this.parse(bytes);
    const known = this.standing(etx.txid);
    if (known !== 'unknown' && known !== 'rejected')
      return { txid: etx.txid, standing: known, duplicate: true };
    if (this.inFlight.size >= this.deps.maxInFlight)
      throw this.busy(`${this.inFlight.size} transactions are being verified; retry shortly`);
    const backlog = this.deps.engine.processingCount + this.inFlight.size;
    if (backlog >= (this.deps.maxSubmitBacklog ?? Number.POSITIVE_INFINITY))
      throw this.busy(`${backlog} transactions await finality here; retry shortly`);
    // The engine may refuse it: a rival of it was accepted and its finality is still being persisted.
    const standing = (await this.admit(etx)) ? 'processing' : 'rejected';
    return { txid: etx.txid, standing, duplicate: false };
  }

  /** Backpressure on a local submission, counted so an operator sees a saturated node. */
  private busy(message: string): IntakeError {
    this.deps.metrics.txRefused.inc({ code: 'INTAKE_BUSY' });
    return new IntakeError('INTAKE_BUSY', message);
  }

  /** Transactions from a peer (gossip, a GetTx answer, catch-up). Never throws. */
  fromPeer(peerId: string, txs: readonly Uint8Array[]): void {
    if (this.closed) return;
    for (const bytes of txs) {
      let etx: EncodedTx;
      try {
        etx = this.parse(bytes);
      } catch (err) {
        this.refused(err, peerId);
        continue;
      }
      if (this.knows(etx.txid)) continue;
      if (this.inFlight.size >= this.deps.maxInFlight) {
        // Verification is the bottleneck: a dropped transaction comes back when a poll names it
        // (unknown → GetTx) or through catch-up, so shedding here loses nothing.
        this.deps.metrics.txDropped.inc({ reason: 'intake_full' });
        continue;
      }
      if (this.deps.verifyBudget?.allow(peerId) === false) {
        this.deps.metrics.txDropped.inc({ reason: 'verify_budget' });
        continue;
      }
      this.admit(etx).catch((err: unknown) => this.refused(err, peerId, { etx, sender: peerId }));
    }
  }

  /**
   * `parentTxid` became final here: submit the orphans that were waiting for it. A refusal now
   * scores nobody (the sender may be long gone), but one that is still an orphan (another parent
   * not final yet) waits again on its sender's share.
   */
  parentFinalized(parentTxid: Uint8Array): void {
    for (const { etx, sender } of this.deps.orphans.takeChildrenOf(parentTxid, this.deps.now())) {
      if (this.knows(etx.txid)) continue;
      this.admit(etx).catch((err: unknown) => this.refused(err, undefined, { etx, sender }));
    }
  }

  close(): void {
    this.closed = true;
  }

  private parse(bytes: Uint8Array): EncodedTx {
    try {
      return parseTx(bytes, this.deps.ledger.params);
    } catch (err) {
      if (err instanceof DecodeError) throw new TxError('MALFORMED', err.message);
      throw err;
    }
  }

  /** Admits `etx` to the mempool and Snowball; false when Snowball refused it (it is rejected here). */
  private async admit(etx: EncodedTx): Promise<boolean> {
    const key = bytesKey(etx.txid);
    this.inFlight.add(key);
    const seen = this.deps.now();
    try {
      const result = await this.deps.ledger.submitEncoded(etx);
      const entry = this.deps.ledger.mempool.get(result.txid)!;
      const status = this.deps.engine.add(result.txid, entry.conflictKeys);
      this.deps.metrics.txAdmitted.inc();
      if (status !== 'processing') {
        // The engine already accepted a rival whose finality is still being persisted.
        this.deps.ledger.rejectTx(result.txid);
        return false;
      }
      this.firstSeen.set(key, seen);
      this.deps.gossip.add(etx.bytes);
      this.deps.onAdmitted(etx);
      return true;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * A transaction refused: counted; its sender scored (`peerId`) for a fault an honest relayer
   * cannot make; parked in the orphan pool on `orphan.sender`'s share if only an input is missing.
   */
  private refused(
    err: unknown,
    peerId: string | undefined,
    orphan?: { readonly etx: EncodedTx; readonly sender: string },
  ): void {
    if (!(err instanceof CodedError)) {
      this.deps.metrics.txRefused.inc({ code: 'INTERNAL' });
      return;
    }
    this.deps.metrics.txRefused.inc({ code: err.code });
    if (err instanceof TxError && err.code === 'INPUT_NOT_FOUND' && orphan) {
      if (!this.deps.orphans.add(orphan.etx, this.deps.now(), orphan.sender))
        this.deps.metrics.txDropped.inc({ reason: 'orphan' });
      return;
    }
    if (
      peerId !== undefined &&
      (err instanceof TxError || err instanceof MempoolError) &&
      isPeerFault(err.code)
    )
      this.deps.scorer.invalidTransaction(peerId, err.code, err.message);
  }
}
