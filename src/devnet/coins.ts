import { DEVNET_FUNDED_AMOUNT, devnetFundedKey, genesisBlock } from '../chain/genesis.js';
import { toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { DEVNET } from '../params/networks.js';
import type { OutPoint } from '../protocol/transaction.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { devnetKeyPair, type KeyPair } from '../wallet/keys.js';
import { type Signer, signTx } from '../wallet/tx-builder.js';

/**
 * Building blocks for devnet transactions (tests, load generators, benchmarks): coins of the devnet
 * funded keys, splits into many coins, and 1-in-2-out payments.
 */

/** A spendable output whose key we hold. */
export interface Coin {
  readonly outpoint: OutPoint;
  readonly value: bigint;
  readonly key: KeyPair;
}

/** Fee that covers 1 sat/byte for any transaction these helpers build. */
export const FEE = 100_000n;

export function hexOf(etx: EncodedTx): string {
  return toHex(etx.bytes);
}

/** Devnet funded key i's genesis allocation as a coin. */
export function fundedCoin(i: number, params: ChainParams = DEVNET): Coin {
  return {
    outpoint: { txid: genesisBlock(params).txs[0]!.txid, vout: i },
    value: DEVNET_FUNDED_AMOUNT,
    key: devnetFundedKey(i),
  };
}

/** Splits `coin` into `n` outputs of `each` sat to the same key (and the change). */
export function split(
  coin: Coin,
  n: number,
  each: bigint,
  params: ChainParams = DEVNET,
  signer?: Signer,
): { tx: EncodedTx; coins: Coin[] } {
  const change = coin.value - each * BigInt(n) - FEE;
  if (change < 0n) throw new RangeError('coin too small to split');
  const outputs = Array.from({ length: n }, () => ({ value: each, address: coin.key.addressPayload }));
  if (change >= params.dustLimit) outputs.push({ value: change, address: coin.key.addressPayload });
  const tx = signTx(params, { inputs: [coin.outpoint], outputs }, [coin.key], signer);
  const coins = Array.from({ length: n }, (_, vout) => ({
    outpoint: { txid: tx.txid, vout },
    value: each,
    key: coin.key,
  }));
  return { tx, coins };
}

/** Spends `coin`: `value` to `to`, the rest less FEE back to the coin's key. */
export function pay(
  coin: Coin,
  to: Uint8Array,
  value: bigint,
  params: ChainParams = DEVNET,
  signer?: Signer,
): EncodedTx {
  const change = coin.value - value - FEE;
  const outputs = [{ value, address: to }];
  if (change >= params.dustLimit) outputs.push({ value: change, address: coin.key.addressPayload });
  return signTx(params, { inputs: [coin.outpoint], outputs }, [coin.key], signer);
}

/** A fresh recipient address payload (deterministic per label). */
export function recipient(label: number): Uint8Array {
  return devnetKeyPair('timecoin test recipients', label).addressPayload;
}
