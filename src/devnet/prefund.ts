import { genesisBlock } from '../chain/genesis.js';
import type { ChainParams } from '../params/chain-params.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { ChainStore } from '../storage/chain-store.js';
import type { Signer } from '../wallet/tx-builder.js';
import { type Coin, fundedCoin, split } from './coins.js';

/** Outputs per split transaction: 3,000 × 28 bytes stays under the 100 kB transaction limit. */
export const OUTPUTS_PER_SPLIT = 3_000;

/**
 * FOR BENCHMARKS AND SOAK RUNS: `count` spendable coins of `each` sat, made by splitting the devnet
 * funded allocations (two levels when one is not enough), as transactions already FINAL. The caller
 * writes them into every node's data dir before the nodes start (`writeFinalized`), as if an earlier
 * run had finalized them: every node then starts from the same state with the coins spendable, and
 * the measured run does not include the set-up. Functional tests fund through real finality instead.
 */
export function prefundCoins(
  params: ChainParams,
  count: number,
  each: bigint,
  signer?: Signer,
): { txs: EncodedTx[]; coins: Coin[] } {
  const txs: EncodedTx[] = [];
  const coins: Coin[] = [];
  const perParent = OUTPUTS_PER_SPLIT;
  const parentsNeeded = Math.ceil(count / perParent);
  // Level 1: funded key i → up to 3,000 parents big enough to split again.
  const level1Value = each * BigInt(perParent) + 1_000_000n;
  const parents: Coin[] = [];
  for (let i = 0; parents.length < parentsNeeded; i++) {
    if (i >= 10) throw new RangeError(`cannot prefund ${count} coins from the 10 devnet allocations`);
    const n = Math.min(perParent, parentsNeeded - parents.length);
    const s = split(fundedCoin(i, params), n, level1Value, params, signer);
    txs.push(s.tx);
    parents.push(...s.coins);
  }
  for (const parent of parents) {
    const n = Math.min(perParent, count - coins.length);
    const s = split(parent, n, each, params, signer);
    txs.push(s.tx);
    coins.push(...s.coins);
  }
  return { txs, coins };
}

/** Writes final transactions into a (new or existing) devnet data dir's finalized pool. */
export async function writeFinalized(
  datadir: string,
  params: ChainParams,
  txs: readonly EncodedTx[],
): Promise<void> {
  const store = await ChainStore.open(datadir, params, genesisBlock(params));
  try {
    await store.putFinalized(...txs);
  } finally {
    await store.close();
  }
}
