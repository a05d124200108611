import { type BlockValidationContext, type SlotContext, validateBlock } from '../chain/block-validation.js';
import type { SignatureVerifier } from '../crypto/signature-verifier.js';
import type { ChainParams } from '../params/chain-params.js';
import type { Block } from '../protocol/block.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { dependencyOrder } from './dependency-order.js';
import { LedgerOverlay } from './ledger-overlay.js';
import type { LedgerView, MasternodeRecord } from './ledger-state.js';
import {
  type AdmitResult,
  DEFAULT_MEMPOOL_LIMITS,
  type FinalizeResult,
  Mempool,
  type MempoolLimits,
} from './mempool.js';
import { MempoolError } from './mempool-errors.js';
import { checkTxAgainstLedger, checkTxStructure, parseTx, requireValidSignatures } from './tx-validation.js';

/** What the ledger needs from persistent storage (src/storage's chain store provides it). */
export interface CommittedChain extends LedgerView {
  tip(): { readonly height: number; readonly hash: Uint8Array; readonly slot: number };
  /** The active set as of a height ≤ tip (src/chain/active-set.ts), sorted by node pubkey. */
  activeMasternodes(asOfHeight: number): MasternodeRecord[];
  /** One durable write transaction; resolves after the commit is flushed. */
  applyBlock(block: Block): Promise<unknown>;
  /** Undoes the tip block durably and returns it. */
  revertTip(): Promise<Block>;
  /** Durable before it resolves. */
  putFinalized(etx: EncodedTx): Promise<void>;
  listFinalized(limit: number): EncodedTx[];
}

export interface SubmitResult extends AdmitResult {
  readonly txid: Uint8Array;
  readonly fee: bigint;
}

/**
 * The ledger as the rest of the node sees it: committed chain (LMDB) + mempool + the view of
 * finalized transactions not yet in a block. It enforces the order that makes crashes harmless:
 * a finalized transaction is persisted before anyone is told it is final, and a block is durable
 * before its transactions leave the mempool.
 */
export class LedgerService {
  private overlay: LedgerOverlay;

  private constructor(
    readonly params: ChainParams,
    readonly chain: CommittedChain,
    readonly mempool: Mempool,
    private readonly verifier: SignatureVerifier,
  ) {
    this.overlay = new LedgerOverlay(chain, params);
  }

  /** Opens over a store, restoring the persisted finalized transactions (they survive restarts). */
  static open(
    params: ChainParams,
    chain: CommittedChain,
    verifier: SignatureVerifier,
    limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS,
  ): LedgerService {
    const ledger = new LedgerService(params, chain, new Mempool(limits), verifier);
    ledger.restoreFinalized(chain.listFinalized(limits.maxCount));
    return ledger;
  }

  /** Chain state plus finalized transactions: what new transactions are checked against. */
  get view(): LedgerView {
    return this.overlay;
  }

  /** Validates untrusted transaction bytes and admits the transaction as processing. */
  async submitTx(bytes: Uint8Array): Promise<SubmitResult> {
    const etx = parseTx(bytes, this.params);
    checkTxStructure(etx, this.params);
    if (this.mempool.get(etx.txid))
      throw new MempoolError('ALREADY_KNOWN', 'transaction already in the mempool');
    this.mempool.checkNoFinalizedConflict(etx);
    const check = checkTxAgainstLedger(etx, this.overlay, this.params, this.chain.tip().height + 1);
    requireValidSignatures(etx, check, await this.verifier.verifyBatch(check.signatures));
    // The await yielded: meanwhile a rival may have finalized (admit() checks that) or even been
    // included in a block, which leaves no finalized-spend record behind. The ledger rules are
    // cheap next to the signatures, so check them again against the view as it is now.
    checkTxAgainstLedger(etx, this.overlay, this.params, this.chain.tip().height + 1);
    const admitted = this.mempool.admit(etx, check.fee);
    return { txid: etx.txid, fee: check.fee, conflicts: admitted.conflicts };
  }

  /** Snowball accepted `txid`: persist it, then make it final in memory and reject its rivals. */
  async finalizeTx(txid: Uint8Array): Promise<FinalizeResult> {
    const entry = this.mempool.get(txid);
    if (entry?.status !== 'processing')
      throw new MempoolError('NOT_PROCESSING', 'not a processing transaction');
    await this.chain.putFinalized(entry.etx);
    const result = this.mempool.finalize(txid);
    this.overlay.apply(entry.etx);
    return result;
  }

  rejectTx(txid: Uint8Array): EncodedTx {
    return this.mempool.reject(txid);
  }

  /**
   * Validates a block against the committed tip and applies it durably. `slot` is what the chain
   * fixes for the block's slot (anchor, active set as of the anchor, beacon verifier).
   */
  async applyBlock(block: Block, slot: SlotContext): Promise<void> {
    const tip = this.chain.tip();
    const ctx: BlockValidationContext = {
      ...slot,
      params: this.params,
      parent: tip,
      view: this.chain,
      verifier: this.verifier,
      finalizedSpender: (o) => this.mempool.finalizedSpender(o),
      finalizedRegistryChange: (p) => this.mempool.finalizedRegistryChange(p),
    };
    await validateBlock(block, ctx);
    await this.chain.applyBlock(block);
    const included = block.txs.slice(1).map((t) => t.txid);
    this.mempool.removeIncluded(included);
    this.rebuildOverlay();
  }

  /** Undoes the tip block (reorg); its transactions stay final and return to the mempool. */
  async revertTip(): Promise<Block> {
    const block = await this.chain.revertTip();
    this.restoreFinalized(block.txs.slice(1));
    return block;
  }

  private restoreFinalized(txs: readonly EncodedTx[]): void {
    // Fees are recomputed against the view they were finalized on: chain + earlier finalized.
    const view = new LedgerOverlay(this.chain, this.params);
    for (const etx of dependencyOrder(txs)) {
      let fee = 0n;
      let totalIn = 0n;
      for (const input of etx.tx.inputs) totalIn += view.getUtxo(input)?.value ?? 0n;
      const totalOut = etx.tx.outputs.reduce((s, o) => s + o.value, 0n);
      if (totalIn >= totalOut) fee = totalIn - totalOut;
      view.apply(etx);
      this.mempool.restoreFinalized(etx, fee);
    }
    this.rebuildOverlay();
  }

  private rebuildOverlay(): void {
    const overlay = new LedgerOverlay(this.chain, this.params);
    for (const etx of dependencyOrder(this.mempool.finalized())) overlay.apply(etx);
    this.overlay = overlay;
  }
}
