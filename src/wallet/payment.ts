import { minimumFee } from '../ledger/tx-validation.js';
import type { ChainParams } from '../params/chain-params.js';
import type { OutPoint, TxOutput, TxPayload } from '../protocol/transaction.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { CodedError } from '../util/coded-error.js';
import type { KeyPair } from './keys.js';
import { signTx } from './tx-builder.js';

/**
 * A payment from one key's coins: coins taken oldest first until they cover the outputs and the
 * fee, the rest back to the key as change (dropped into the fee when below dust), signed by
 * signTx. The fee is the relay minimum for the signed size unless the caller gives one. A
 * masternode payload is signed over the first input, so it is made from the input chosen.
 */

export class PaymentError extends CodedError<'INSUFFICIENT_FUNDS' | 'FEE_TOO_LOW'> {}

export interface SpendableCoin {
  readonly outpoint: OutPoint;
  readonly value: bigint;
}

export function buildPayment(
  params: ChainParams,
  key: KeyPair,
  coins: readonly SpendableCoin[],
  outputs: readonly TxOutput[],
  opts: { fee?: bigint; payload?: (firstInput: OutPoint) => TxPayload; maxInputs?: number } = {},
): { tx: EncodedTx; fee: bigint; inputs: number } {
  const want = outputs.reduce((s, o) => s + o.value, 0n);
  const maxInputs = opts.maxInputs ?? 500;
  const chosen: SpendableCoin[] = [];
  let have = 0n;
  // Fee estimate grows with the inputs: build, measure, and take more coins until it fits.
  for (const coin of coins) {
    if (chosen.length >= maxInputs) break;
    chosen.push(coin);
    have += coin.value;
    const attempt = tryBuild(params, key, chosen, have, outputs, want, opts);
    if (attempt) return { ...attempt, inputs: chosen.length };
  }
  const fee = opts.fee ?? minimumFee(params, 200 + 100 * Math.max(1, chosen.length));
  throw new PaymentError(
    'INSUFFICIENT_FUNDS',
    `insufficient funds: ${have} sat spendable in ${chosen.length} coins, ${want + fee} sat needed`,
    { have: have.toString(), need: (want + fee).toString() },
  );
}

function tryBuild(
  params: ChainParams,
  key: KeyPair,
  chosen: readonly SpendableCoin[],
  have: bigint,
  outputs: readonly TxOutput[],
  want: bigint,
  opts: { fee?: bigint; payload?: (firstInput: OutPoint) => TxPayload },
): { tx: EncodedTx; fee: bigint } | null {
  const inputs = chosen.map((c) => c.outpoint);
  const keys = chosen.map(() => key);
  const build = (fee: bigint) => {
    const change = have - want - fee;
    const outs =
      change >= params.dustLimit ? [...outputs, { value: change, address: key.addressPayload }] : outputs;
    return signTx(params, { inputs, outputs: outs, payload: opts.payload?.(inputs[0]!) ?? null }, keys);
  };
  // With no change output (change below dust) the surplus is part of the fee actually paid.
  const paid = (tx: EncodedTx) =>
    have - want - tx.tx.outputs.slice(outputs.length).reduce((s, o) => s + o.value, 0n);
  if (opts.fee !== undefined) {
    if (have < want + opts.fee) return null;
    const tx = build(opts.fee);
    if (opts.fee < minimumFee(params, tx.bytes.length))
      throw new PaymentError(
        'FEE_TOO_LOW',
        `a fee of ${opts.fee} sat is below the relay minimum ${minimumFee(params, tx.bytes.length)} for ${tx.bytes.length} bytes`,
      );
    return { tx, fee: paid(tx) };
  }
  // The change output (or its absence) changes the size by a few bytes: size with change, fee for it.
  const fee = minimumFee(params, build(0n).bytes.length + 40);
  if (have < want + fee) return null;
  const tx = build(fee);
  return { tx, fee: paid(tx) };
}
