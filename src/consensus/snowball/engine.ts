import { compareBytes, latin1Key } from '../../encoding/bytes.js';
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
/**
 * Decided and dropped by `forget`: the txid is unknown again. The handle is reused only once no
 * poll that may list it is open (reusableHandle).
 */
const FORGOTTEN = 3;
const NO_SETS: number[] = [];
const NO_TXID = new Uint8Array(0);
/** Stands in for a dropped conflict set; nothing reaches it (every transaction naming it is forgotten). */
const RETIRED = new ConflictSet({ alphaPreference: 1, alphaConfidence: 1, beta: 1 }, -1, () => false);
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
 * when a conflicting transaction is accepted (DESIGN §5) — not merely when one of its sets is
 * finalized on another member, because that member may itself be rejected through another input.
 * A set finalized on a member that is then rejected reopens among its remaining members with fresh
 * Snowball state (see ConflictSet.remove), which is the state a restarted node starts from.
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
  /** 1 while the handle is in `order` (compaction drops decided ones lazily). */
  private readonly inOrder: number[] = [];

  private readonly setByKey = new Map<string, number>();
  private readonly sets: ConflictSet[] = [];
  private readonly setKey: string[] = [];
  /** Known (not forgotten) transactions naming each set; the set is dropped when it reaches 0. */
  private readonly setRefs: number[] = [];
  /** 1 once the set's decision was accepted: the outpoint is spent for good. */
  private readonly setSpent: number[] = [];
  private readonly setStamp: number[] = [];
  /** Per poll: the member that reached alphaPreference (-1 none yet, -2 more than one) and its yes count. */
  private readonly setChoice: number[] = [];
  private readonly setChoiceYes: number[] = [];
  /**
   * Per poll: 1 when it is decided for the set's preference, 0 when the poll may have been a success
   * for it: the preference itself was in the poll, or a rival got more yes votes than the preference
   * could have lost and still reached alphaConfidence in that sample.
   */
  private readonly setPollDecides: number[] = [];
  private readonly touched: number[] = [];
  private readonly finalizedNow: number[] = [];
  private epoch = 0;

  /** Processing handles in arrival order; decided ones are compacted out lazily. */
  private order: number[] = [];
  private cursor = 0;
  private decidedInOrder = 0;
  private processing = 0;

  private readonly polls = new Map<number, Poll>();
  private nextRequestId = 1;
  /** Polls started so far (Poll.seq): what handle reuse measures "older than" against. */
  private pollsStarted = 0;

  /**
   * Forgotten transaction handles, oldest first, with the number of polls started when each was
   * forgotten. A handle is reused once every poll that may hold it is gone (the oldest open poll
   * started after it was forgotten) and `order` no longer holds it, so memory stays proportional to
   * the transactions known, not to every transaction ever seen (a forgotten one kept ~200 bytes:
   * 15 MB an hour at 20 tx/s in the soak).
   */
  private readonly freeTx: number[] = [];
  private readonly freeTxAfter: number[] = [];
  private freeTxHead = 0;
  /** Retired set slots: nothing refers to a retired set, so its slot is reused at once. */
  private readonly freeSets: number[] = [];

  /** Conflict-set tie-break: the lower txid (bytewise) ranks first, never the arrival order. */
  private readonly txidBefore = (a: number, b: number): boolean =>
    compareBytes(this.txids[a]!, this.txids[b]!) < 0;

  private newlyAccepted: number[] = [];
  private newlyRejected: number[] = [];
  private reopened = 0;

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

  /**
   * Conflict sets reopened so far because the member they were finalized on was rejected through
   * another input (a cascade of multi-input double spends; worth a metric).
   */
  get reopenedCount(): number {
    return this.reopened;
  }

  /** Polls started and neither applied nor cancelled (completed ones waiting for an older poll included). */
  get pollsInFlight(): number {
    return this.polls.size;
  }

  /**
   * Starts Snowball for a transaction. `conflictKeys` are its inputs' 36-byte `outpointKey()`s, as
   * bytes or as the latin1 strings the mempool keeps (`outpointStringKey`); the two forms name the
   * same set. Returns its status afterwards: 'processing', or 'rejected' at once when one of its
   * outpoints is spent by an accepted transaction. (A set finalized on a member that is still
   * processing is joined: the newcomer waits, and wins there only if that member is rejected.)
   * Adding a known txid again changes nothing and returns its current status.
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
      keys.add(typeof ck === 'string' ? ck : latin1Key(ck));
    }
    const handle = this.reusableHandle() ?? this.txids.length;
    this.handleByKey.set(key, handle);
    this.txids[handle] = txid.slice();
    this.pollsOf[handle] = 0;
    this.setsOf[handle] = [];
    this.inOrder[handle] = 0;
    // An outpoint spent by an accepted transaction: a conflicting transaction is accepted, reject.
    for (const k of keys) {
      const s = this.setByKey.get(k);
      if (s !== undefined && this.setSpent[s] === 1) {
        this.status[handle] = REJECTED;
        this.newlyRejected.push(handle);
        return 'rejected';
      }
    }
    this.status[handle] = PROCESSING;
    const mine = this.setsOf[handle]!;
    // Sorted keys: set handles are created in a deterministic order whatever the input order.
    for (const k of [...keys].sort()) {
      let s = this.setByKey.get(k);
      if (s === undefined) {
        s = this.freeSets.pop() ?? this.sets.length;
        this.setByKey.set(k, s);
        this.setKey[s] = k;
        this.sets[s] = new ConflictSet(this.params, handle, this.txidBefore);
        this.setRefs[s] = 0;
        this.setSpent[s] = 0;
        this.setStamp[s] = 0;
        this.setChoice[s] = -1;
        this.setChoiceYes[s] = 0;
        this.setPollDecides[s] = 0;
      } else this.sets[s]!.add(handle);
      this.setRefs[s]!++;
      mine.push(s);
    }
    this.order.push(handle);
    this.inOrder[handle] = 1;
    this.processing++;
    return 'processing';
  }

  /** Handles and conflict-set slots allocated (live or waiting for reuse): bounded by what is known. */
  get capacity(): { readonly handles: number; readonly sets: number } {
    return { handles: this.txids.length, sets: this.sets.length };
  }

  /**
   * The oldest forgotten handle if it can be reused now: no open poll started before it was
   * forgotten (such a poll may list it, and its votes must not reach a new transaction), `order`
   * no longer holds it, and no decision naming it awaits `takeDecided`.
   */
  private reusableHandle(): number | undefined {
    if (this.freeTxHead === this.freeTx.length) return undefined;
    if (this.newlyAccepted.length > 0 || this.newlyRejected.length > 0) return undefined;
    const h = this.freeTx[this.freeTxHead]!;
    if (this.inOrder[h] === 1) return undefined;
    const oldest = this.polls.values().next();
    if (!oldest.done && oldest.value.seq < this.freeTxAfter[this.freeTxHead]!) return undefined;
    this.freeTxHead++;
    if (this.freeTxHead === this.freeTx.length || this.freeTxHead > 1024) {
      this.freeTx.splice(0, this.freeTxHead);
      this.freeTxAfter.splice(0, this.freeTxHead);
      this.freeTxHead = 0;
    }
    return h;
  }

  /** Queues a forgotten handle for reuse (see reusableHandle). */
  private release(h: number): void {
    this.freeTx.push(h);
    this.freeTxAfter.push(this.pollsStarted);
  }

  /** A conflict set no transaction names any more: drop it and free its slot. */
  private retireSet(s: number): void {
    this.setByKey.delete(this.setKey[s]!);
    this.setKey[s] = '';
    this.sets[s] = RETIRED;
    this.freeSets.push(s);
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
    return this.voteByKey(txKey(txid));
  }

  /**
   * `vote` by the txid's map key (its 32 bytes as a latin1 string, as the ledger's maps use): the
   * vote path looks every queried txid up in several maps and builds the key once.
   */
  voteByKey(key: string): Vote {
    const h = this.handleByKey.get(key);
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
    const poll = new Poll(
      requestId,
      n === limit ? items : items.subarray(0, n),
      sample,
      this.params.alphaPreference,
      this.params.alphaConfidence,
      this.pollsStarted++,
    );
    this.polls.set(requestId, poll);
    const txids = new Array<Uint8Array>(poll.items.length);
    for (let i = 0; i < poll.items.length; i++) txids[i] = this.txids[poll.items[i]!]!;
    return { requestId, txids, validators: poll.validators() };
  }

  /**
   * One validator's votes for a poll, votes[i] answering txids[i] of the request. Returns true when
   * polls were applied: this answer completed its poll (every outcome settled) and no older poll is
   * still open (see `applyCompleted`). Unknown request ids, unsampled or repeated responders are
   * ignored; a vote list of the wrong length throws SnowballError('INVALID_VOTES') and leaves the poll
   * untouched.
   */
  recordResponse(requestId: number, validatorId: string, votes: ArrayLike<number>): boolean {
    const poll = this.polls.get(requestId);
    if (poll === undefined || !poll.record(validatorId, votes) || !poll.complete) return false;
    return this.applyCompleted();
  }

  /**
   * The poll timed out: missing answers count as no vote and it is complete. Returns true when polls
   * were applied (it, and the completed ones started after it, unless an older poll is still open);
   * false for an unknown request id.
   */
  timeoutPoll(requestId: number): boolean {
    const poll = this.polls.get(requestId);
    if (poll === undefined) return false;
    poll.close();
    return this.applyCompleted();
  }

  /**
   * Drops a poll without applying it (e.g. the node was offline and its answers are meaningless).
   * Completed polls that were waiting behind it are applied; call `takeDecided` afterwards.
   */
  cancelPoll(requestId: number): boolean {
    if (!this.polls.delete(requestId)) return false;
    this.applyCompleted();
    return true;
  }

  /** True while the poll is started and not yet applied or cancelled (it may be complete and waiting). */
  isPollOpen(requestId: number): boolean {
    return this.polls.has(requestId);
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
   * dropped with the last transaction naming it, so from then on only the ledger remembers that the
   * outpoint is spent. A poll in flight that queried it skips it, and the handle is reused only once
   * every poll started before the forget has been applied (reusableHandle).
   * Returns false for an unknown or still processing txid. What stays per forgotten transaction is
   * a few array slots (~50 bytes).
   */
  forget(txid: Uint8Array): boolean {
    const key = txKey(txid);
    const h = this.handleByKey.get(key);
    if (h === undefined || this.status[h] === PROCESSING) return false;
    // A rejected transaction already left its sets (reject → ConflictSet.remove); an accepted one
    // is still the member of each set that others (rejected rivals not yet forgotten) keep alive,
    // so its handle is reused only if every one of its sets is retired now.
    const accepted = this.status[h] === ACCEPTED;
    let reusable = true;
    this.handleByKey.delete(key);
    this.status[h] = FORGOTTEN;
    this.txids[h] = NO_TXID;
    for (const s of this.setsOf[h]!) {
      if (--this.setRefs[s]! > 0) {
        if (accepted) reusable = false;
        continue;
      }
      this.retireSet(s);
    }
    this.setsOf[h] = NO_SETS;
    if (reusable) this.release(h);
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
      // As a rejection does: a set finalized on it reopens among its remaining members.
      if (set.decision === h) this.reopened++;
      set.remove(h);
      if (--this.setRefs[s]! > 0) continue;
      this.retireSet(s);
    }
    this.setsOf[h] = NO_SETS;
    this.release(h);
    return true;
  }

  /** Transactions the engine still knows (processing or decided, not forgotten). */
  get knownCount(): number {
    return this.handleByKey.size;
  }

  /** The Snowball state of one outpoint's conflict set (for tests, RPC and debugging). */
  conflictSetState(conflictKey: Uint8Array | string): string | undefined {
    const s = this.setByKey.get(typeof conflictKey === 'string' ? conflictKey : latin1Key(conflictKey));
    return s === undefined ? undefined : this.sets[s]!.toString();
  }

  private isPreferred(h: number): boolean {
    const st = this.status[h];
    if (st === ACCEPTED) return true;
    if (st !== PROCESSING) return false;
    for (const s of this.setsOf[h]!) if (this.sets[s]!.preference !== h) return false;
    return true;
  }

  /**
   * Applies completed polls in the order they were started, stopping at the oldest one still open
   * (avalanchego's poll set does the same). Snowball's "β consecutive polls" means consecutive in
   * poll order: applied in completion order instead, a poll that fails because a silent validator
   * holds it open until the timeout would erase the confidence built by the polls started after it,
   * and a validator that stays silent would cost each transaction far more polls. A completed poll
   * waiting here still counts as in flight, so at most `concurrentPolls` polls exist at once.
   */
  private applyCompleted(): boolean {
    let applied = false;
    for (const [requestId, poll] of this.polls) {
      if (!poll.complete) break;
      this.polls.delete(requestId);
      this.applyPoll(poll);
      applied = true;
    }
    return applied;
  }

  /**
   * Applies a completed poll in two phases so the result does not depend on the order sets are
   * visited: first every touched set records this poll's outcome; then the sets that finalized try
   * to accept their decision, which rejects the decision's rivals and may reopen other sets (those
   * reopened sets do not see this poll: its votes were cast while they were still finalized).
   */
  private applyPoll(poll: Poll): void {
    const epoch = ++this.epoch;
    const touched = this.touched;
    touched.length = 0;
    const { items, yes } = poll;
    const alphaPreference = this.params.alphaPreference;
    // A rival with more yes votes than this leaves the preference short of alphaConfidence.
    const rivalDecides = this.params.k - this.params.alphaConfidence;
    for (let i = 0; i < items.length; i++) {
      const t = items[i]!;
      if (this.status[t] !== PROCESSING) continue;
      this.pollsOf[t]!++;
      const y = yes[i]!;
      const reached = y >= alphaPreference;
      for (const s of this.setsOf[t]!) {
        if (this.setStamp[s] !== epoch) {
          this.setStamp[s] = epoch;
          this.setChoice[s] = -1;
          this.setPollDecides[s] = 0;
          touched.push(s);
        }
        if (this.sets[s]!.preference === t || y > rivalDecides) this.setPollDecides[s] = 1;
        // -1: no member reached alphaPreference yet; -2: more than one did (only equivocating
        // voters can cause it, since k/2 < alphaPreference and an honest voter backs one member).
        if (reached) {
          this.setChoice[s] = this.setChoice[s] === -1 ? t : -2;
          this.setChoiceYes[s] = y;
        }
      }
    }
    const finalizedNow = this.finalizedNow;
    finalizedNow.length = 0;
    for (let j = 0; j < touched.length; j++) {
      const s = touched[j]!;
      const set = this.sets[s]!;
      if (set.finalized) continue;
      const c = this.setChoice[s]!;
      // No member reached alphaPreference: a failed poll for the set only if it asked about the
      // preference or a rival's votes rule the preference out. A poll that carried only a rival
      // the network rejects (a poll holds up to maxItemsPerPoll of the processing transactions,
      // round-robin, so it may carry B and not A) says nothing about A; counting it as a failure
      // reset A's confidence every few polls, and with more transactions processing than one poll
      // holds, a double spend never finalized however unanimous the network was.
      if (c === -2 || (c === -1 && this.setPollDecides[s] === 1)) set.recordUnsuccessful();
      else if (c >= 0) {
        set.recordPoll(this.setChoiceYes[s]!, c);
        if (set.finalized) finalizedNow.push(s);
      }
    }
    for (let j = 0; j < finalizedNow.length; j++) {
      const d = this.sets[finalizedNow[j]!]!.decision;
      if (d >= 0) this.tryAccept(d);
    }
  }

  /** Accepts t if it is processing and every one of its conflict sets is finalized on it. */
  private tryAccept(t: number): void {
    if (this.status[t] !== PROCESSING) return;
    for (const s of this.setsOf[t]!) if (this.sets[s]!.decision !== t) return;
    this.status[t] = ACCEPTED;
    this.processing--;
    this.decidedInOrder++;
    this.newlyAccepted.push(t);
    for (const s of this.setsOf[t]!) {
      this.setSpent[s] = 1;
      const set = this.sets[s]!;
      // A conflicting transaction is accepted: every other member is rejected (DESIGN §5).
      for (let i = set.members.length - 1; i >= 0; i--) {
        const m = set.members[i]!;
        if (m !== t) this.reject(m);
      }
    }
  }

  /**
   * A conflicting transaction was accepted. t leaves each of its conflict sets; a set that was
   * finalized on t reopens among its remaining members (ConflictSet.remove). Rejection never
   * accepts anything, so this does not recurse.
   */
  private reject(t: number): void {
    if (this.status[t] !== PROCESSING) return;
    this.status[t] = REJECTED;
    this.processing--;
    this.decidedInOrder++;
    this.newlyRejected.push(t);
    for (const s of this.setsOf[t]!) {
      const set = this.sets[s]!;
      if (set.decision === t) this.reopened++;
      set.remove(t);
    }
  }

  private compactOrder(): void {
    const kept: number[] = [];
    for (const t of this.order) {
      if (this.status[t] === PROCESSING) kept.push(t);
      else this.inOrder[t] = 0;
    }
    this.order = kept;
    this.cursor = 0;
    this.decidedInOrder = 0;
  }
}

function statusName(s: number): TxStatus {
  return s === PROCESSING ? 'processing' : s === ACCEPTED ? 'accepted' : 'rejected';
}

function txKey(txid: Uint8Array): string {
  if (!(txid instanceof Uint8Array) || txid.length !== 32)
    throw new SnowballError('INVALID_TXID', `a txid is 32 bytes, got ${txid?.length}`);
  return latin1Key(txid);
}
