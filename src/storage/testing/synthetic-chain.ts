import { compareBytes } from '../../encoding/bytes.js';
import type { ChainParams } from '../../params/chain-params.js';
import { type Block, type BlockHeader, headerHash } from '../../protocol/block.js';
import { merkleRoot } from '../../protocol/merkle.js';
import {
  NO_COLLATERAL,
  type OutPoint,
  type Transaction,
  type TxOutput,
  type TxPayload,
} from '../../protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../../protocol/tx-codec.js';
import { witnessRoot } from '../../protocol/witness-root.js';

/*
 * FOR TESTS AND BENCHMARKS ONLY. Deterministic chains of structurally well-formed but UNSIGNED
 * blocks (zero signatures, random pubkeys) that exercise everything the store does: 1-in-2-out
 * spends, masternode registrations with and without collateral, deregistrations. The store is
 * mechanical, so it accepts them; consensus validation would not. Lives under src/ because the
 * crash-test child process and the bench run from the compiled dist/.
 */

/** mulberry32: tiny seeded PRNG (32-bit state), enough for test data. */
export class SeededRandom {
  constructor(private state: number) {}

  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return this.nextU32() % n;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.nextU32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }

  clone(): SeededRandom {
    return new SeededRandom(this.state);
  }
}

interface Spendable {
  readonly outpoint: OutPoint;
  readonly value: bigint;
}

interface SyntheticNode {
  readonly nodePubkey: Uint8Array;
  /** Still-unspent collateral output, if the node has one. */
  readonly collateral: Spendable | null;
}

export interface BlockPlan {
  /** 1-in-2-out spends (besides the coinbase). */
  readonly spends: number;
  readonly registrations?: number;
  readonly deregistrations?: number;
}

const FEE = 1_000n;
const ZERO_SIG = new Uint8Array(64);

/** A generator of one chain; `fork()` gives an independent copy that can build a competing branch. */
export class SyntheticChain {
  private constructor(
    readonly params: ChainParams,
    private rng: SeededRandom,
    private spendables: Spendable[],
    private nodes: SyntheticNode[],
    private tipHeader: BlockHeader | null,
  ) {}

  /** A generator whose genesis allocates `allocations` outputs of `allocationValue` sat each. */
  static create(
    params: ChainParams,
    seed: number,
    allocations: number,
    allocationValue = 10n ** 15n,
  ): SyntheticChain {
    const chain = new SyntheticChain(params, new SeededRandom(seed), [], [], null);
    chain.allocationCount = allocations;
    chain.allocationValue = allocationValue;
    return chain;
  }

  private allocationCount = 0;
  private allocationValue = 0n;

  /** The genesis block: allocation transactions of 100 outputs each, no coinbase. */
  genesis(): Block {
    const txs: EncodedTx[] = [];
    for (let left = this.allocationCount, i = 0; left > 0; i++) {
      const n = Math.min(100, left);
      left -= n;
      const outputs = Array.from({ length: n }, () => ({
        value: this.allocationValue,
        address: this.rng.bytes(20),
      }));
      txs.push(encodeTx(this.tx([], outputs, i, null)));
    }
    return this.seal(0, txs);
  }

  fork(): SyntheticChain {
    const copy = new SyntheticChain(
      this.params,
      this.rng.clone(),
      [...this.spendables],
      [...this.nodes],
      this.tipHeader,
    );
    copy.allocationCount = this.allocationCount;
    copy.allocationValue = this.allocationValue;
    return copy;
  }

  /** Advances the random stream, so this fork builds different blocks from its twin. */
  diverge(): this {
    this.rng.nextU32();
    return this;
  }

  /** Number of outputs the generator may still spend. */
  get spendableCount(): number {
    return this.spendables.length;
  }

  /** The next block on this generator's tip; the generator moves onto it. */
  nextBlock(plan: BlockPlan): Block {
    if (!this.tipHeader) throw new Error('call genesis() first');
    const height = this.tipHeader.height + 1;
    const body: EncodedTx[] = [];
    const created: Spendable[] = [];
    // Outputs and nodes born in this block are usable from the next one, so tx order never matters.
    const newNodes: SyntheticNode[] = [];
    const keep = (e: EncodedTx, vouts: number[]): void => {
      for (const vout of vouts)
        created.push({ outpoint: { txid: e.txid, vout }, value: e.tx.outputs[vout]!.value });
    };
    for (let i = 0; i < plan.spends && this.spendables.length > 0; i++) {
      const input = this.take();
      const half = (input.value - FEE) / 2n;
      const e = encodeTx(
        this.tx([input.outpoint], [this.out(half), this.out(input.value - FEE - half)], 0, null),
      );
      keep(e, [0, 1]);
      body.push(e);
    }
    for (let i = 0; i < (plan.registrations ?? 0) && this.spendables.length > 0; i++) {
      const input = this.take();
      const nodePubkey = this.rng.bytes(32);
      const withCollateral = this.rng.below(2) === 0;
      const tierValue = this.params.tiers[1 + this.rng.below(this.params.tiers.length - 1)]!.collateral;
      const collateralValue = withCollateral && input.value > tierValue + 2n * FEE ? tierValue : 0n;
      const payload: TxPayload = {
        kind: 'register',
        nodePubkey,
        collateralVout: collateralValue > 0n ? 0 : NO_COLLATERAL,
        rewardAddress: this.rng.bytes(20),
        nodeSignature: ZERO_SIG,
      };
      const change = input.value - FEE - collateralValue;
      const outputs =
        collateralValue > 0n ? [this.out(collateralValue), this.out(change)] : [this.out(change)];
      const e = encodeTx(this.tx([input.outpoint], outputs, 0, payload));
      keep(e, collateralValue > 0n ? [1] : [0]);
      const collateral =
        collateralValue > 0n ? { outpoint: { txid: e.txid, vout: 0 }, value: collateralValue } : null;
      newNodes.push({ nodePubkey, collateral });
      body.push(e);
    }
    for (
      let i = 0;
      i < (plan.deregistrations ?? 0) && this.nodes.length > 0 && this.spendables.length > 0;
      i++
    ) {
      const node = this.nodes.splice(this.rng.below(this.nodes.length), 1)[0]!;
      const inputs = [this.take()];
      // Half the time the collateral owner exits by spending the collateral in the same transaction.
      if (node.collateral && this.rng.below(2) === 0) inputs.push(node.collateral);
      else if (node.collateral) this.spendables.push(node.collateral);
      const total = inputs.reduce((s, x) => s + x.value, 0n);
      const payload: TxPayload = { kind: 'deregister', nodePubkey: node.nodePubkey, nodeSignature: ZERO_SIG };
      const e = encodeTx(
        this.tx(
          inputs.map((x) => x.outpoint),
          [this.out(total - FEE)],
          0,
          payload,
        ),
      );
      keep(e, [0]);
      body.push(e);
    }
    body.sort((a, b) => compareBytes(a.txid, b.txid));
    const coinbase = encodeTx(this.tx([], [this.out(this.params.blockReward)], height, null));
    this.spendables.push(...created);
    this.nodes.push(...newNodes);
    return this.seal(height, [coinbase, ...body]);
  }

  private take(): Spendable {
    const i = this.rng.below(this.spendables.length);
    const last = this.spendables.length - 1;
    const picked = this.spendables[i]!;
    this.spendables[i] = this.spendables[last]!;
    this.spendables.pop();
    return picked;
  }

  private out(value: bigint): TxOutput {
    return { value, address: this.rng.bytes(20) };
  }

  private tx(
    inputs: OutPoint[],
    outputs: TxOutput[],
    lockTime: number,
    payload: TxPayload | null,
  ): Transaction {
    return {
      version: 1,
      chainId: this.params.chainId,
      inputs,
      outputs,
      lockTime,
      payload,
      witnesses: inputs.map(() => ({ pubkey: this.rng.bytes(32), signature: ZERO_SIG })),
    };
  }

  private seal(height: number, txs: EncodedTx[]): Block {
    const header: BlockHeader = {
      version: 1,
      chainId: this.params.chainId,
      height,
      slot: height,
      timestampMs: this.params.genesisTimeMs + height * this.params.slotMs,
      prevHash: this.tipHeader ? headerHash(this.tipHeader) : new Uint8Array(32),
      merkleRoot: merkleRoot(txs.map((t) => t.txid)),
      witnessRoot: witnessRoot(txs),
      txCount: txs.length,
      beaconY: new Uint8Array(0),
      beaconProof: new Uint8Array(0),
      producerPubkey: this.rng.bytes(32),
      rank: 0,
    };
    if (height === 0) {
      // Genesis allocations are spendable at once.
      for (const e of txs)
        for (let vout = 0; vout < e.tx.outputs.length; vout++)
          this.spendables.push({ outpoint: { txid: e.txid, vout }, value: e.tx.outputs[vout]!.value });
    }
    this.tipHeader = header;
    return { header, signature: ZERO_SIG, txs };
  }
}
