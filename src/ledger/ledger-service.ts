import { type AssemblyInputs, draftBlockInTurns, sealBlockWith } from '../chain/block-assembly.js';
import {
  type BlockValidationContext,
  checkSignedBlock,
  type InputSignatureWork,
  type ParentInfo,
  type SlotContext,
  startInputSignatures,
  validateBlock,
} from '../chain/block-validation.js';
import type { SignatureItem, SignatureVerifier } from '../crypto/signature-verifier.js';
import { bytesEqual } from '../encoding/bytes.js';
import { SerialQueue } from '../ledger/serial-queue.js';
import type { ChainParams } from '../params/chain-params.js';
import { type Block, headerHash } from '../protocol/block.js';
import {
  type BlockRootHasher,
  type BlockRoots,
  INLINE_BLOCK_ROOTS,
  type RootedTx,
} from '../protocol/block-roots.js';
import { headerSigMessage } from '../protocol/signing.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { yieldToLoop } from '../util/yield-to-loop.js';
import { dependencyOrder } from './dependency-order.js';
import { LedgerOverlay } from './ledger-overlay.js';
import type { LedgerView, MasternodeRecord } from './ledger-state.js';
import {
  type AdmitResult,
  type Clock,
  DEFAULT_MEMPOOL_LIMITS,
  type FinalizeResult,
  Mempool,
  type MempoolLimits,
  monotonicClock,
} from './mempool.js';
import { MempoolError } from './mempool-errors.js';
import { checkTxAgainstLedger, checkTxStructure, parseTx, requireValidSignatures } from './tx-validation.js';

/** What the ledger needs from persistent storage (src/storage's chain store provides it). */
export interface CommittedChain extends LedgerView {
  tip(): { readonly height: number; readonly hash: Uint8Array; readonly slot: number };
  /** The active set as of a height ≤ tip (src/chain/active-set.ts), sorted by node pubkey. */
  activeMasternodes(asOfHeight: number): MasternodeRecord[];
  /**
   * One durable write transaction; resolves after the commit is flushed. `order` is the body in
   * dependency order as validation checked it (ValidatedBlock.order).
   */
  applyBlock(block: Block, order?: readonly EncodedTx[]): Promise<unknown>;
  /** Undoes the tip block durably and returns it. */
  revertTip(): Promise<Block>;
  /** Durable before it resolves: all of them in one write transaction. */
  putFinalized(...etxs: EncodedTx[]): Promise<void>;
  /** Up to `limit` finalized transactions in txid order, after `afterTxid` when given. */
  listFinalized(limit: number, afterTxid?: Uint8Array): EncodedTx[];
}

export interface SubmitResult extends AdmitResult {
  readonly txid: Uint8Array;
  readonly fee: bigint;
}

export interface BlockApplied {
  /**
   * Processing transactions the block made impossible (an input or registry change of theirs is
   * used up by it), in txid order: they are rejected; drop them from Snowball.
   */
  readonly rejected: readonly EncodedTx[];
}

export interface RevertedBlock {
  readonly block: Block;
  /** Processing transactions rejected because a transaction of the block, final again, conflicts. */
  readonly rejected: readonly EncodedTx[];
}

/** Finalized transactions are read from storage at start-up in pages of this many. */
export const STARTUP_PAGE = 1_000;

/**
 * The crypto the ledger uses: signature verification, and, when the implementation offers it
 * (the node's crypto pool does), hashing block roots off the calling thread for validateBlock.
 */
export type LedgerCrypto = SignatureVerifier &
  Partial<BlockRootHasher> & {
    /** verifyBatch at low priority, for blocks verified ahead of their turn (CryptoPool has it). */
    verifyBatchInBackground?(items: readonly SignatureItem[]): Promise<boolean[]>;
  };

/**
 * The ledger as the rest of the node sees it: committed chain (LMDB) + mempool + the view of
 * finalized transactions not yet in a block. It enforces the order that makes crashes harmless:
 * a finalized transaction is persisted before anyone is told it is final, and a block is durable
 * before its transactions leave the mempool. Its state changes that await storage (finalizeTx,
 * applyBlock, revertTip) run one at a time, in call order.
 */
export class LedgerService {
  private overlay: LedgerOverlay;
  /**
   * Counts the changes to what checkTxAgainstLedger reads that Mempool.admit does not check: the
   * chain's state and tip (blocks, reverts), each followed by a rebuilt overlay. A submission
   * compares it across its signature await.
   */
  private viewChanges = 0;
  /** Block writes and reverts under way (changingChain): the store may show them before viewChanges does. */
  private chainWritesInFlight = 0;
  private readonly writes = new SerialQueue();
  /** Input signatures started ahead of a block's turn (prepareBlock), until the block is dropped. */
  private readonly prepared = new WeakMap<Block, Promise<InputSignatureWork | undefined>>();
  /** Body roots by body (the txs array itself), so a block checked before it is applied is hashed once. */
  private readonly rootsByBody = new WeakMap<readonly RootedTx[], Promise<BlockRoots>>();

  private constructor(
    readonly params: ChainParams,
    readonly chain: CommittedChain,
    readonly mempool: Mempool,
    private readonly verifier: LedgerCrypto,
  ) {
    this.overlay = new LedgerOverlay(chain, params);
  }

  /**
   * Opens over a store, restoring EVERY persisted finalized transaction: they are final, and their
   * double-spend protection must survive restarts. They count against the mempool limits exactly
   * as at run time (admission is refused while the pool is full; a final transaction never is).
   * `now` is the clock processing expiry measures with (monotonic milliseconds).
   */
  static open(
    params: ChainParams,
    chain: CommittedChain,
    verifier: LedgerCrypto,
    limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS,
    now: Clock = monotonicClock,
  ): LedgerService {
    const ledger = new LedgerService(params, chain, new Mempool(limits, now), verifier);
    const all: EncodedTx[] = [];
    for (let page = chain.listFinalized(STARTUP_PAGE); page.length > 0; ) {
      all.push(...page);
      page = page.length < STARTUP_PAGE ? [] : chain.listFinalized(STARTUP_PAGE, page[page.length - 1]!.txid);
    }
    ledger.restoreFinalized(all);
    return ledger;
  }

  /** Chain state plus finalized transactions: what new transactions are checked against. */
  get view(): LedgerView {
    return this.overlay;
  }

  /** Validates untrusted transaction bytes and admits the transaction as processing. */
  async submitTx(bytes: Uint8Array): Promise<SubmitResult> {
    return this.submitEncoded(parseTx(bytes, this.params));
  }

  /** As submitTx, for a transaction the caller already decoded with `parseTx` (it needed the txid). */
  async submitEncoded(etx: EncodedTx): Promise<SubmitResult> {
    checkTxStructure(etx, this.params);
    if (this.mempool.get(etx.txid))
      throw new MempoolError('ALREADY_KNOWN', 'transaction already in the mempool');
    this.mempool.checkNoFinalizedConflict(etx);
    const viewBefore = this.viewChanges;
    const check = checkTxAgainstLedger(etx, this.overlay, this.params, this.chain.tip().height + 1);
    requireValidSignatures(etx, check, await this.verifier.verifyBatch(check.signatures));
    // The await yielded: meanwhile a rival may have finalized (admit() checks that) or even been
    // included in a block, which leaves no finalized-spend record behind. So the ledger rules run
    // again against the view as it is now, unless nothing they read has changed: the same inputs
    // give the same answer, and the second run was about a tenth of the coordinator's CPU per
    // admitted transaction (node bench, ingest).
    if (this.viewChanges !== viewBefore || this.chainWritesInFlight > 0)
      checkTxAgainstLedger(etx, this.overlay, this.params, this.chain.tip().height + 1);
    const admitted = this.mempool.admit(etx, check.fee);
    return { txid: etx.txid, fee: check.fee, conflicts: admitted.conflicts };
  }

  /**
   * Snowball accepted `txid`: persist it, then make it final in memory and reject its rivals. If
   * the store refuses, nothing changes: it stays processing and its rivals stay. A transaction
   * that expired before this ran is still known by its bytes here (taken when called) and becomes
   * final the same way: Snowball's decision stands.
   */
  finalizeTx(txid: Uint8Array): Promise<FinalizeResult> {
    if (this.mempool.get(txid)?.status !== 'processing')
      return Promise.reject(new MempoolError('NOT_PROCESSING', 'not a processing transaction'));
    return this.finalizeTxs([txid]).then((done) => {
      if (done.length === 0) throw new MempoolError('NOT_PROCESSING', 'not a processing transaction');
      return done[0]!;
    });
  }

  /**
   * Snowball accepted these: persist them all in ONE durable write transaction (one fsync for a
   * poll's worth of decisions instead of one each), then make each final in memory, exactly as
   * finalizeTx does for one. Txids that are neither processing nor expired here are skipped. If
   * the store refuses, nothing in memory changes and the caller may retry.
   */
  finalizeTxs(txids: readonly Uint8Array[]): Promise<FinalizeResult[]> {
    const taken = txids
      .map((txid) => this.mempool.get(txid))
      .filter((e): e is NonNullable<typeof e> => e?.status === 'processing')
      .map((e) => ({ etx: e.etx, fee: e.fee }));
    if (taken.length === 0) return Promise.resolve([]);
    return this.writes.run(async () => {
      const live = taken.filter((t) => this.finalizable(t.etx));
      if (live.length === 0) return [];
      await this.chain.putFinalized(...live.map((t) => t.etx));
      const out: FinalizeResult[] = [];
      for (const { etx, fee } of live) {
        out.push(
          this.mempool.get(etx.txid)?.status === 'processing'
            ? this.mempool.finalize(etx.txid)
            : { finalized: etx, rejected: this.mempool.restoreFinalized(etx, fee) },
        );
        this.overlay.apply(etx);
      }
      // No viewChanges here: a finalization only uses up conflict keys (inputs, registry changes),
      // which Mempool.admit checks against the finalized ones itself, and creates outputs, which
      // can only make a transaction valid. So a submission that awaited across it needs no re-check.
      return out;
    });
  }

  rejectTx(txid: Uint8Array): EncodedTx {
    return this.mempool.reject(txid);
  }

  /**
   * Expires processing transactions undecided for `processingExpiryMs` (Mempool.expireProcessing)
   * and returns their txids: stop polling them and stop voting yes for them. Call it periodically.
   */
  expireProcessing(): Uint8Array[] {
    return this.mempool.expireProcessing();
  }

  /**
   * Validates a block against the committed tip and applies it durably; then its transactions
   * leave the mempool and every processing transaction it made impossible is rejected (returned).
   * `slot` is what the chain fixes for the block's slot (anchor, active set as of the anchor,
   * beacon verifier).
   */
  applyBlock(block: Block, slot: SlotContext): Promise<BlockApplied> {
    return this.writes.run(async () => {
      const ctx: BlockValidationContext = {
        ...slot,
        params: this.params,
        parent: this.chain.tip(),
        view: this.chain,
        verifier: this.verifier,
        roots: this.roots,
        finalizedSpender: (o) => this.mempool.finalizedSpender(o),
        finalizedRegistryChange: (p) => this.mempool.finalizedRegistryChange(p),
        signaturesVerified: this.signaturesVerified,
      };
      const early = await this.prepared.get(block);
      this.prepared.delete(block);
      const { order } = await validateBlock(block, early ? { ...ctx, inputSignatures: early } : ctx);
      // The write is one synchronous stretch of its own: let what waited during validation run first.
      await yieldToLoop();
      return this.changingChain(async () => {
        await this.chain.applyBlock(block, order);
        const rejected = this.mempool.removeBlock(block.txs);
        this.rebuildOverlay();
        return { rejected };
      });
    });
  }

  /**
   * Runs `read` between the ledger's writes: no finalization, block or revert is written from when
   * it starts until it settles, across all of its awaits.
   */
  betweenWrites<T>(read: () => Promise<T>): Promise<T> {
    return this.writes.run(read);
  }

  /**
   * The producer's block on the chain's tip from the finalized pool: drafted between the ledger's
   * writes, in turns that give the event loop back (draftBlockInTurns), against a committed state
   * and finalized pool that cannot move between those turns; then sealed with the roots hashed
   * through `roots` once the writes may go on (in the pool that task may wait behind signature
   * batches). Undefined when the tip is no longer `inputs.parent` (a block landed since the slot's
   * inputs were derived from it): the block would only compete with it from a stale parent.
   */
  async assembleOnTip(inputs: Omit<AssemblyInputs, 'candidates' | 'view'>): Promise<Block | undefined> {
    const drafted = await this.betweenWrites(async () => {
      if (!bytesEqual(this.chain.tip().hash, inputs.parent.hash)) return undefined;
      const candidates = this.mempool.finalized().map((etx) => ({
        etx,
        fee: this.mempool.get(etx.txid)?.fee ?? 0n,
      }));
      // Assembly re-checks every candidate against the parent state: the committed chain.
      const all: AssemblyInputs = { ...inputs, candidates, view: this.chain };
      return { all, draft: await draftBlockInTurns(all) };
    });
    return drafted && sealBlockWith(drafted.all, drafted.draft, this.roots);
  }

  /**
   * `checkSignedBlock` (header rules, producer signature, beacon, body roots) on a block whose
   * parent is `parent`, on whichever branch: what a received block must pass before the node holds
   * it for its transactions' finality. The roots it computes are kept for applyBlock.
   */
  checkSignedBlock(block: Block, slot: SlotContext, parent: ParentInfo): Promise<Uint8Array> {
    return checkSignedBlock(block, {
      ...slot,
      params: this.params,
      parent,
      verifier: this.verifier,
      roots: this.roots,
    });
  }

  /**
   * Body roots, hashed by the verifier when it can (the crypto pool) and remembered per body while
   * the body lives: a gossiped block's header check and its validation, or a produced block's
   * assembly and validation, share one hashing of ~28,000 SHA-256 calls. The roots are a function of
   * the transactions' bytes, and a block's txs array is never changed once built.
   */
  readonly roots: BlockRootHasher = {
    blockRoots: (txs) => {
      const known = this.rootsByBody.get(txs);
      if (known) return known;
      const roots = this.verifier.blockRoots?.(txs) ?? INLINE_BLOCK_ROOTS.blockRoots(txs);
      this.rootsByBody.set(txs, roots);
      // A failure (the pool closing) proves nothing about the body: the next caller hashes again.
      // (Until this runs the entry is this promise: an entry is set only where there is none.)
      roots.catch(() => this.rootsByBody.delete(txs));
      return roots;
    },
  };

  /**
   * Starts verifying a fetched block's input signatures before its turn in applyBlock, so that
   * during sync the pool verifies the next blocks while this thread checks and writes the current
   * one (they were verified one block at a time, and this thread sat idle for a quarter of the
   * time). Only behind a valid producer signature by a key the registry knows: a peer must hold
   * a masternode key to make us verify a body, as validateBlock's order demands. applyBlock still
   * runs every rule; the work of a block that is never applied is simply dropped.
   */
  prepareBlock(block: Block): void {
    if (this.prepared.has(block)) return;
    const { header } = block;
    if (this.chain.getMasternode(header.producerPubkey) === undefined) return;
    const work = this.verifier
      .verifyBatch([
        {
          publicKey: header.producerPubkey,
          message: headerSigMessage(headerHash(header)),
          signature: block.signature,
        },
      ])
      .then(([producerOk]) =>
        producerOk === true
          ? startInputSignatures(block.txs, this.background, this.signaturesVerified)
          : undefined,
      );
    // A pool failure here is met again, and reported, when applyBlock verifies on its own.
    this.prepared.set(
      block,
      work.catch(() => undefined),
    );
  }

  /** Verification of blocks ahead: behind the current block's in the pool, never in front of it. */
  private readonly background: SignatureVerifier = {
    verifyBatch: (items) =>
      this.verifier.verifyBatchInBackground?.(items) ?? this.verifier.verifyBatch(items),
  };

  /**
   * Every mempool entry's signatures were verified at admission (or it came back from a block
   * validated here, or from our own store): the same bytes need no second check.
   */
  private readonly signaturesVerified = (etx: EncodedTx): boolean => {
    const known = this.mempool.get(etx.txid);
    return known !== undefined && bytesEqual(known.etx.bytes, etx.bytes);
  };

  /**
   * Undoes the tip block (reorg); its transactions stay final and return to the mempool, and
   * processing transactions conflicting with them are rejected (returned).
   */
  revertTip(): Promise<RevertedBlock> {
    return this.writes.run(async () => {
      return this.changingChain(async () => {
        const block = await this.chain.revertTip();
        const rejected = this.restoreFinalized(block.txs.slice(1));
        return { block, rejected };
      });
    });
  }

  /** A transaction finalizeTx may still finalize: processing, or expired here meanwhile. */
  private finalizable(etx: EncodedTx): boolean {
    return this.mempool.get(etx.txid)?.status === 'processing' || this.mempool.isExpired(etx.txid);
  }

  private restoreFinalized(txs: readonly EncodedTx[]): EncodedTx[] {
    // Fees are recomputed against the view they were finalized on: chain + earlier finalized.
    const view = new LedgerOverlay(this.chain, this.params);
    const rejected: EncodedTx[] = [];
    for (const etx of dependencyOrder(txs)) {
      let fee = 0n;
      let totalIn = 0n;
      for (const input of etx.tx.inputs) totalIn += view.getUtxo(input)?.value ?? 0n;
      const totalOut = etx.tx.outputs.reduce((s, o) => s + o.value, 0n);
      if (totalIn >= totalOut) fee = totalIn - totalOut;
      view.apply(etx);
      rejected.push(...this.mempool.restoreFinalized(etx, fee));
    }
    this.rebuildOverlay();
    return rejected;
  }

  private rebuildOverlay(): void {
    const overlay = new LedgerOverlay(this.chain, this.params);
    for (const etx of dependencyOrder(this.mempool.finalized())) overlay.apply(etx);
    this.overlay = overlay;
    this.viewChanges++;
  }

  /**
   * A store write that changes the chain (a block, a revert) and the overlay rebuilt after it. The
   * store shows the new chain as soon as its commit returns, before the write's promise (which
   * waits for the flush) resolves and the overlay is rebuilt: until both are done, every
   * submission checks its rules again.
   */
  private async changingChain<T>(change: () => Promise<T>): Promise<T> {
    this.chainWritesInFlight++;
    try {
      return await change();
    } finally {
      this.chainWritesInFlight--;
    }
  }
}
