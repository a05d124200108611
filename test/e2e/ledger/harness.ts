import type { SlotContext } from '../../../src/chain/block-validation.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import type { SignatureVerifier } from '../../../src/crypto/signature-verifier.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import type { MempoolLimits } from '../../../src/ledger/mempool.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import type { Block } from '../../../src/protocol/block.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { params as devnet } from '../../support/devnet-ledger.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

/** A LedgerService over a real LMDB store in a temp dir, and what the tests do with it. */
export class LedgerHarness {
  private constructor(
    readonly dir: string,
    readonly params: ChainParams,
    public store: ChainStore,
    public ledger: LedgerService,
    private readonly options: HarnessOptions,
    private readonly removeDir: () => void,
  ) {}

  static async open(options: HarnessOptions = {}): Promise<LedgerHarness> {
    const { dir, cleanup } = tempDir('ledger-harness');
    const params = options.params ?? devnet;
    const store = await ChainStore.open(dir, params, genesisBlock(params));
    const ledger = LedgerService.open(
      params,
      store,
      options.verifier ?? new WasmVerifier(),
      options.limits,
      options.now,
    );
    return new LedgerHarness(dir, params, store, ledger, options, cleanup);
  }

  /** Closes the store and opens store and ledger again on the same directory (a restart). */
  async restart(): Promise<void> {
    await this.store.close();
    this.store = await ChainStore.open(this.dir, this.params, genesisBlock(this.params));
    this.ledger = LedgerService.open(
      this.params,
      this.store,
      this.options.verifier ?? new WasmVerifier(),
      this.options.limits,
      this.options.now,
    );
  }

  /** The next block as the slot's rank-0 leader assembles it (real beacon, real ranking). */
  nextBlock(candidates: readonly EncodedTx[] = this.ledger.mempool.finalized()): {
    block: Block;
    slot: SlotContext;
  } {
    return nextBlockOn(
      this.store,
      candidates.map((etx) => ({ etx, fee: this.ledger.mempool.get(etx.txid)?.fee ?? 0n })),
      { view: this.options.uncheckedAssembly ? null : this.store },
    );
  }

  /** Assembles the next block (from the finalized pool by default) and applies it through the ledger. */
  async mine(candidates?: readonly EncodedTx[]) {
    const { block, slot } = this.nextBlock(candidates);
    const result = await this.ledger.applyBlock(block, slot);
    return { block, result };
  }

  async close(): Promise<void> {
    await this.store.close();
    this.removeDir();
  }
}

export interface HarnessOptions {
  readonly params?: ChainParams;
  readonly verifier?: SignatureVerifier;
  readonly limits?: MempoolLimits;
  readonly now?: () => number;
  /** Assemble without checking candidates (to build blocks a validator must refuse). */
  readonly uncheckedAssembly?: boolean;
}
