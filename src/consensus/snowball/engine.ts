import type { SnowballParams } from '../../params/chain-params.js';
import { ConflictSet } from './conflict-set.js';
import { SnowballError } from './errors.js';
import { verifySnowballParams } from './params.js';
import { Poll, Vote } from './poll.js';

/** Where a transaction stands in this engine. */
export type TxStatus = 'unknown' | 'processing' | 'accepted' | 'rejected';

/** What the coordinator sends: the txids in wire order, to each of the distinct sampled validators. */
export interface PollRequest {
  readonly requestId: number;
  readonly txids: readonly Uint8Array[];
  readonly validators: readonly string[];
}

/** Transactions decided since the previous `takeDecided`, in the order they were decided. */
export interface Decided {
  readonly accepted: Uint8Array[];
  readonly rejected: Uint8Array[];
}

const PROCESSING = 0;
const ACCEPTED = 1;
const REJECTED = 2;
/** Decided and dropped by `forget`: the txid is unknown again, the handle is never reused. */
const FORGOTTEN = 3;
const NO_SETS: number[] = [];
const NO_TXID = new Uint8Array(0);
/** Stands in for a dropped conflict set; nothing reaches it (its members are all forgotten). */
const RETIRED = new ConflictSet(1, -1);
RETIRED.finalized = true;

/** DESIGN §5: one poll message carries up to 1,024 txids. */
export const DEFAULT_MAX_ITEMS_PER_POLL = 1_024;

/**
 * Snowball finality over conflict sets (DESIGN §5). Pure and synchronous: no clock, no I/O, no
 * randomness (the caller samples validators with an injected Rng and passes the sample in).
 *
 * A transaction is identified by its 32-byte txid and enters with its conflict keys (36-byte
 * outpoint keys); every processing transaction spending one outpoint is in that outpoint's
 * ConflictSet. It is accepted when every one of its conflict sets is finalized on it, and rejected
 * as soon as one of its conflict sets is finalized on another member (that member may itself still
 * be waiting for its other sets, but this transaction can no longer win).
 *
 * Internally transactions and sets are small integer handles into plain arrays, so applying a poll
 * walks arrays and never allocates per vote.
 */
export class SnowballEngine {
  readonly params: SnowballParams;
  readonly maxItemsPerPoll: number;

  private readonly handleByKey = new Map<string, number>();
  private readonly txids: Uint8Array[] = [];
  private readonly status: number[] = [];
  private readonly setsOf: number[][] = [];
  private readonly pollsOf: number[] = [];

  private readonly setByKey = new Map<string, number>();
  private readonly sets: ConflictSet[] = [];
  private readonly setKey: string[] = [];
  private readonly setStamp: number[] = [];
  private readonly setChoice: number[] = [];
  private readonly touched: number[] = [];
  private epoch = 0;

  /** Processing handles in arrival order; decided ones are compacted out lazily. */
  private order: number[] = [];
  private cursor = 0;
  private decidedInOrder = 0;
  private processing = 0;

  private readonly polls = new Map<number, Poll>();
  private nextRequestId = 1;

  private newlyAccepted: number[] = [];
  private newlyRejected: number[] = [];

  constructor(params: SnowballParams, maxItemsPerPoll = DEFAULT_MAX_ITEMS_PER_POLL) {
    verifySnowballParams(params);
    if (!(Number.isInteger(maxItemsPerPoll) && maxItemsPerPoll >= 1))
      throw new SnowballError('INVALID_SAMPLE', `maxItemsPerPoll = ${maxItemsPerPoll}`);
    this.params = params;
    this.maxItemsPerPoll = maxItemsPerPoll;
  }

  /** Transactions still undecided. */
  get processingCount(): number {
    return this.processing;
  }

  /** Polls started and neither applied nor cancelled. */
  get pollsInFlight(): number {
    return this.polls.size;
  }

  /**
   * Starts Snowball for a transaction. `conflictKeys` are its inputs' 36-byte `outpointKey()`s, as
   * bytes or as the latin1 strings the mempool keeps (`outpointStringKey`); the two forms name the
   * same set. Returns its status afterwards: 'processing', or 'rejected' at once when one of its
   * outpoints already has a finalized decision. Adding a known txid again changes nothing and
   * returns its current status.
   */
  add(txid: Uint8Array, conflictKeys: readonly (Uint8Array | string)[]): TxStatus {
    const key = txKey(txid);
    const known = this.handleByKey.get(key);
    if (known !== undefined) return statusName(this.status[known]!);
    if (conflictKeys.length === 0)
      throw new SnowballError('INVALID_CONFLICT_KEYS', 'a transaction needs at least one conflict key');
    const keys = new Set<string>();
    for (const ck of conflictKeys) {
      if (typeof ck === 'string' ? ck.length === 0 : !(ck instanceof Uint8Array) || ck.length === 0)
        throw new SnowballError('INVALID_CONFLICT_KEYS', 'conflict keys are non-empty byte strings');
      keys.add(typeof ck === 'string' ? ck : latin1(ck));
    }
    const handle = this.txids.length;
    this.handleByKey.set(key, handle);
    this.txids.push(txid.slice());
    this.pollsOf.push(0);
    this.setsOf.push([]);
    // An outpoint whose conflict set is already finalized has been spent by the decision: reject.
    for (const k of keys) {
      const s = this.setByKey.get(k);
      if (s !== undefined && this.sets[s]!.finalized) {
        this.status.push(REJECTED);
        this.newlyRejected.push(handle);
        return 'rejected';
      }
    }
    this.status.push(PROCESSING);
    const mine = this.setsOf[handle]!;
    // Sorted keys: set handles are created in a deterministic order whatever the input order.
    for (const k of [...keys].sort()) {
      let s = this.setByKey.get(k);
      if (s === undefined) {
        s = this.sets.length;
        this.setByKey.set(k, s);
        this.setKey.push(k);
        this.sets.push(new ConflictSet(this.params.beta, handle));
        this.setStamp.push(0);
        this.setChoice.push(-1);
      } else this.sets[s]!.add(handle);
      mine.push(s);
    }
    this.order.push(handle);
    this.processing++;
    return 'processing';
  }

  /** The engine's view of a txid. */
  statusOf(txid: Uint8Array): TxStatus {
    const h = this.handleByKey.get(txKey(txid));
    return h === undefined ? 'unknown' : statusName(this.status[h]!);
  }

  /**
   * What a responder answers for this txid: yes when accepted, or processing and preferred in every
   * conflict set it belongs to.
   */
  preferred(txid: Uint8Array): boolean {
    const h = this.handleByKey.get(txKey(txid));
    return h !== undefined && this.isPreferred(h);
  }

  /** The wire answer for one queried txid (yes / no / unknown). */
  vote(txid: Uint8Array): Vote {
    const h = this.handleByKey.get(txKey(txid));
    if (h === undefined) return Vote.UNKNOWN;
    return this.isPreferred(h) ? Vote.YES : Vote.NO;
  }

  /** Polls in which this transaction was counted (0 if unknown). */
  pollCount(txid: Uint8Array): number {
    const h = this.handleByKey.get(txKey(txid));
    return h === undefined ? 0 : this.pollsOf[h]!;
  }

  /**
   * Opens a poll over up to `maxItems` processing transactions (round-robin, so more than a poll's
   * worth all get their turn). `sample` is the k validator ids drawn with replacement (see
   * StakeSampler); its length must be k. Returns null when nothing is processing.
   */
  startPoll(sample: readonly string[], maxItems = this.maxItemsPerPoll): PollRequest | null {
    if (sample.length !== this.params.k)
      throw new SnowballError('INVALID_SAMPLE', `sample of ${sample.length} draws, k = ${this.params.k}`);
    if (!(Number.isInteger(maxItems) && maxItems >= 1))
      throw new SnowballError('INVALID_SAMPLE', `maxItems = ${maxItems}`);
    if (this.processing === 0) return null;
    if (this.decidedInOrder * 2 > this.order.length) this.compactOrder();
    const len = this.order.length;
    const limit = Math.min(maxItems, this.maxItemsPerPoll, this.processing);
    const items = new Int32Array(limit);
    let n = 0;
    for (let scanned = 0; scanned < len && n < limit; scanned++) {
      const t = this.order[this.cursor]!;
      this.cursor = this.cursor + 1 === len ? 0 : this.cursor + 1;
      if (this.status[t] === PROCESSING) items[n++] = t;
    }
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xffff_ffff ? 1 : this.nextRequestId + 1;
    const poll = new Poll(requestId, n === limit ? items : items.subarray(0, n), sample, this.params.alpha);
    this.polls.set(requestId, poll);
    const txids = new Array<Uint8Array>(poll.items.length);
    for (let i = 0; i < poll.items.length; i++) txids[i] = this.txids[poll.items[i]!]!;
    return { requestId, txids, validators: poll.validators() };
  }

  /**
   * One validator's votes for a poll, votes[i] answering txids[i] of the request. Returns true when
   * this answer completed the poll (every outcome settled) and the poll was applied. Unknown request
   * ids, unsampled or repeated responders are ignored; a vote list of the wrong length throws
   * SnowballError('INVALID_VOTES') and leaves the poll untouched.
   */
  recordResponse(requestId: number, validatorId: string, votes: ArrayLike<number>): boolean {
    const poll = this.polls.get(requestId);
    if (poll === undefined || !poll.record(validatorId, votes) || !poll.complete) return false;
    this.polls.delete(requestId);
    this.applyPoll(poll);
    return true;
  }

  /** The poll timed out: missing answers count as no vote; the poll is applied. False if unknown. */
  timeoutPoll(requestId: number): boolean {
    const poll = this.polls.get(requestId);
    if (poll === undefined) return false;
    this.polls.delete(requestId);
    this.applyPoll(poll);
    return true;
  }

  /** Drops a poll without applying it (e.g. the node was offline and its answers are meaningless). */
  cancelPoll(requestId: number): boolean {
    return this.polls.delete(requestId);
  }

  /** Newly accepted and rejected txids since the last call. */
  takeDecided(): Decided {
    const live = (h: number) => this.status[h] !== FORGOTTEN;
    const out = {
      accepted: this.newlyAccepted.filter(live).map((h) => this.txids[h]!),
      rejected: this.newlyRejected.filter(live).map((h) => this.txids[h]!),
    };
    this.newlyAccepted = [];
    this.newlyRejected = [];
    return out;
  }

  /**
   * Drops a decided transaction so the engine does not grow without bound (call it once the ledger
   * itself refuses every spend of its outpoints: the transaction is in a committed block, or was
   * rejected long ago). Its txid becomes unknown (`vote` → UNKNOWN). An outpoint's conflict set is
   * dropped with its last member, so from then on only the ledger remembers that the outpoint is
   * spent. Handles are never reused: a poll in flight that queried it simply skips it. Returns false
   * for an unknown or still processing txid. What stays per forgotten transaction is a few array
   * slots (~50 bytes).
   */
  forget(txid: Uint8Array): boolean {
    const key = txKey(txid);
    const h = this.handleByKey.get(key);
    if (h === undefined || this.status[h] === PROCESSING) return false;
    this.handleByKey.delete(key);
    this.status[h] = FORGOTTEN;
    this.txids[h] = NO_TXID;
    for (const s of this.setsOf[h]!) {
      const set = this.sets[s]!;
      if (set.members.every((m) => this.status[m] === FORGOTTEN)) {
        this.setByKey.delete(this.setKey[s]!);
        this.sets[s] = RETIRED;
      }
    }
    this.setsOf[h] = NO_SETS;
    return true;
  }

  /**
   * Takes a processing transaction out of Snowball WITHOUT a decision: the ledger made it
   * impossible (a block used up one of its inputs) or it expired here. It leaves its conflict sets
   * (their preference moves to the remaining members), is never polled again, and the txid becomes
   * unknown (`vote` → UNKNOWN): withdrawing a vote never adds a yes anywhere. False when the txid is
   * not processing.
   */
  withdraw(txid: Uint8Array): boolean {
    const key = txKey(txid);
    const h = this.handleByKey.get(key);
    if (h === undefined || this.status[h] !== PROCESSING) return false;
    this.status[h] = FORGOTTEN;
    this.processing--;
    this.decidedInOrder++;
    this.handleByKey.delete(key);
    this.txids[h] = NO_TXID;
    for (const s of this.setsOf[h]!) {
      const set = this.sets[s]!;
      if (!set.finalized) set.remove(h);
      if (set.members.every((m) => this.status[m] === FORGOTTEN)) {
        this.setByKey.delete(this.setKey[s]!);
        this.sets[s] = RETIRED;
      }
    }
    this.setsOf[h] = NO_SETS;
    return true;
  }

  /** Transactions the engine still knows (processing or decided, not forgotten). */
  get knownCount(): number {
    return this.handleByKey.size;
  }

  /** The Snowball state of one outpoint's conflict set (for tests, RPC and debugging). */
  conflictSetState(conflictKey: Uint8Array | string): string | undefined {
    const s = this.setByKey.get(typeof conflictKey === 'string' ? conflictKey : latin1(conflictKey));
    return s === undefined ? undefined : this.sets[s]!.toString();
  }

  private isPreferred(h: number): boolean {
    const st = this.status[h];
    if (st === ACCEPTED) return true;
    if (st !== PROCESSING) return false;
    for (const s of this.setsOf[h]!) if (this.sets[s]!.preference !== h) return false;
    return true;
  }

  private applyPoll(poll: Poll): void {
    const epoch = ++this.epoch;
    const touched = this.touched;
    touched.length = 0;
    const { items, yes } = poll;
    const alpha = this.params.alpha;
    for (let i = 0; i < items.length; i++) {
      const t = items[i]!;
      if (this.status[t] !== PROCESSING) continue;
      this.pollsOf[t]!++;
      const won = yes[i]! >= alpha;
      for (const s of this.setsOf[t]!) {
        if (this.setStamp[s] !== epoch) {
          this.setStamp[s] = epoch;
          this.setChoice[s] = -1;
          touched.push(s);
        }
        // -1: no member reached alpha yet; -2: more than one did (only equivocators can cause it).
        if (won) this.setChoice[s] = this.setChoice[s] === -1 ? t : -2;
      }
    }
    for (let j = 0; j < touched.length; j++) {
      const s = touched[j]!;
      const set = this.sets[s]!;
      if (set.finalized) continue;
      const c = this.setChoice[s]!;
      if (c < 0) set.recordUnsuccessful();
      else if (this.status[c] === PROCESSING) {
        set.recordSuccess(c);
        if (set.finalized) this.onFinalized(set);
      }
    }
  }

  private onFinalized(set: ConflictSet): void {
    const d = set.decision;
    for (const m of set.members) if (m !== d && this.status[m] === PROCESSING) this.reject(m);
    if (this.status[d] !== PROCESSING) return;
    for (const s of this.setsOf[d]!) if (this.sets[s]!.decision !== d) return;
    this.status[d] = ACCEPTED;
    this.processing--;
    this.decidedInOrder++;
    this.newlyAccepted.push(d);
  }

  private reject(t: number): void {
    this.status[t] = REJECTED;
    this.processing--;
    this.decidedInOrder++;
    this.newlyRejected.push(t);
    for (const s of this.setsOf[t]!) {
      const set = this.sets[s]!;
      if (set.finalized) {
        // The set was decided for t, which lost elsewhere: the set's other members lost too.
        if (set.decision === t)
          for (const m of set.members) if (m !== t && this.status[m] === PROCESSING) this.reject(m);
      } else set.remove(t);
    }
  }

  private compactOrder(): void {
    this.order = this.order.filter((t) => this.status[t] === PROCESSING);
    this.cursor = 0;
    this.decidedInOrder = 0;
  }
}

function statusName(s: number): TxStatus {
  return s === PROCESSING ? 'processing' : s === ACCEPTED ? 'accepted' : 'rejected';
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function txKey(txid: Uint8Array): string {
  if (!(txid instanceof Uint8Array) || txid.length !== 32)
    throw new SnowballError('INVALID_TXID', `a txid is 32 bytes, got ${txid?.length}`);
  return latin1(txid);
}
