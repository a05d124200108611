import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { minimumFee } from '../../../src/ledger/tx-validation.js';
import { DEVNET } from '../../../src/params/networks.js';
import { txSigMessage } from '../../../src/protocol/signing.js';
import { decodeTx } from '../../../src/protocol/tx-codec.js';
import { generateKeyPair, keyPairFromSecret } from '../../../src/wallet/keys.js';
import { buildPayment, PaymentError, type SpendableCoin } from '../../../src/wallet/payment.js';
import { signTx } from '../../../src/wallet/tx-builder.js';
import { thrownAs } from '../../support/thrown.js';

/*
 * The payment a wallet builds: which coins, what fee, what change, at the exact boundaries where
 * a one-token change to the rule would pay the wrong amount or refuse a payment it can make.
 */

const key = keyPairFromSecret(new Uint8Array(32).fill(7));
const to = generateKeyPair().addressPayload;
const coin = (i: number, value: bigint): SpendableCoin => ({
  outpoint: { txid: new Uint8Array(32).fill(i), vout: i },
  value,
});
const pay = (value: bigint) => [{ value, address: to }];
const WANT = 100_000n;

/** What a payment of WANT without change weighs (the fee does not change the size). */
function sizeWithoutChange(): number {
  return buildPayment(DEVNET, key, [coin(1, WANT + 5_000n)], pay(WANT), { fee: 5_000n }).tx.bytes.length;
}

const errorOf = (fn: () => unknown): PaymentError => thrownAs(fn, PaymentError);

describe('buildPayment: coins, fee and change', () => {
  it('signs every input with the key, over the txid the ledger checks', () => {
    const r = buildPayment(DEVNET, key, [coin(1, 60_000n), coin(2, 60_000n)], pay(WANT));
    const { tx, txid } = decodeTx(r.tx.bytes, DEVNET.maxTxBytes);
    expect(tx.inputs.map((i) => i.vout)).toEqual([1, 2]);
    expect(tx.witnesses).toHaveLength(2);
    for (const w of tx.witnesses) {
      expect(w.pubkey).toEqual(key.publicKey);
      expect(ed25519.verify(w.signature, txSigMessage(DEVNET.chainId, txid), key.publicKey)).toBe(true);
    }
  });

  it('stops at maxInputs: coins beyond it are not taken, even when they would cover the payment', () => {
    const coins = [coin(1, 40_000n), coin(2, 40_000n), coin(3, 40_000n)];
    expect(buildPayment(DEVNET, key, coins, pay(WANT), { maxInputs: 3 }).inputs).toBe(3);
    const err = errorOf(() => buildPayment(DEVNET, key, coins, pay(WANT), { maxInputs: 2 }));
    expect(err.code).toBe('INSUFFICIENT_FUNDS');
    expect(err.details['have']).toBe('80000');
  });

  it('reports what it had and what it needed: amount plus the fee estimate for the coins taken', () => {
    const err = errorOf(() => buildPayment(DEVNET, key, [coin(1, 5_000n), coin(2, 4_000n)], pay(10_000n)));
    const need = 10_000n + minimumFee(DEVNET, 200 + 100 * 2);
    expect(err.details).toEqual({ have: '9000', need: need.toString() });
    expect(err.message).toBe(
      `INSUFFICIENT_FUNDS: insufficient funds: 9000 sat spendable in 2 coins, ${need} sat needed`,
    );
    // With no coins at all the estimate is for one input.
    expect(errorOf(() => buildPayment(DEVNET, key, [], pay(10_000n))).details).toEqual({
      have: '0',
      need: (10_000n + minimumFee(DEVNET, 300)).toString(),
    });
    // A given fee is what it needs.
    expect(
      errorOf(() => buildPayment(DEVNET, key, [coin(1, 5_000n)], pay(10_000n), { fee: 777n })).details[
        'need'
      ],
    ).toBe('10777');
  });

  it('pays exactly amount + fee from coins that hold exactly that, with no change', () => {
    const fee = minimumFee(DEVNET, sizeWithoutChange() + 40);
    const r = buildPayment(DEVNET, key, [coin(1, WANT + fee)], pay(WANT));
    expect(r.fee).toBe(fee);
    expect(decodeTx(r.tx.bytes, DEVNET.maxTxBytes).tx.outputs).toHaveLength(1);
    expect(errorOf(() => buildPayment(DEVNET, key, [coin(1, WANT + fee - 1n)], pay(WANT))).code).toBe(
      'INSUFFICIENT_FUNDS',
    );
  });

  it('keeps change of exactly the dust limit, and gives change below it to the fee (reported as paid)', () => {
    const fee = 2_000n;
    const atDust = buildPayment(DEVNET, key, [coin(1, WANT + fee + DEVNET.dustLimit)], pay(WANT), { fee });
    const outs = decodeTx(atDust.tx.bytes, DEVNET.maxTxBytes).tx.outputs;
    expect(outs.map((o) => o.value)).toEqual([WANT, DEVNET.dustLimit]);
    expect(outs[1]!.address).toEqual(key.addressPayload);
    expect(atDust.fee).toBe(fee);
    const below = buildPayment(DEVNET, key, [coin(1, WANT + fee + DEVNET.dustLimit - 1n)], pay(WANT), {
      fee,
    });
    expect(decodeTx(below.tx.bytes, DEVNET.maxTxBytes).tx.outputs).toHaveLength(1);
    expect(below.fee).toBe(fee + DEVNET.dustLimit - 1n);
  });

  it('accepts a given fee equal to the relay minimum for the size, refuses one sat less, and needs coins to cover it', () => {
    const min = minimumFee(DEVNET, sizeWithoutChange());
    const exact = buildPayment(DEVNET, key, [coin(1, WANT + min)], pay(WANT), { fee: min });
    expect(exact.fee).toBe(min);
    const low = errorOf(() =>
      buildPayment(DEVNET, key, [coin(1, WANT + min - 1n)], pay(WANT), { fee: min - 1n }),
    );
    expect(low.code).toBe('FEE_TOO_LOW');
    expect(low.message).toBe(
      `FEE_TOO_LOW: a fee of ${min - 1n} sat is below the relay minimum ${min} for ${sizeWithoutChange()} bytes`,
    );
    // Coins one sat short of amount + the given fee: take the next coin.
    const two = buildPayment(DEVNET, key, [coin(1, WANT + min - 1n), coin(2, 50_000n)], pay(WANT), {
      fee: 3_000n,
    });
    expect(two.inputs).toBe(2);
    const one = buildPayment(DEVNET, key, [coin(1, WANT + 3_000n), coin(2, 50_000n)], pay(WANT), {
      fee: 3_000n,
    });
    expect(one.inputs).toBe(1);
  });

  it('makes the payload from the first input chosen and carries it', () => {
    const seen: unknown[] = [];
    const r = buildPayment(DEVNET, key, [coin(4, 500_000n)], pay(WANT), {
      payload: (first) => {
        seen.push(first);
        return { kind: 'deregister', nodePubkey: key.publicKey, nodeSignature: new Uint8Array(0) };
      },
    });
    expect(seen.at(-1)).toEqual(coin(4, 0n).outpoint);
    expect(decodeTx(r.tx.bytes, DEVNET.maxTxBytes).tx.payload).toMatchObject({ kind: 'deregister' });
  });
});

describe('buildPayment: first coins', () => {
  it('takes coins oldest first until they cover amount and the relay-minimum fee, with change back', () => {
    const r = buildPayment(
      DEVNET,
      key,
      [coin(1, 50_000n), coin(2, 60_000n), coin(3, 1_000_000n)],
      [{ value: 100_000n, address: to }],
    );
    expect(r.inputs).toBe(2);
    const tx = decodeTx(r.tx.bytes, DEVNET.maxTxBytes).tx;
    const change = tx.outputs[1]!.value;
    expect(110_000n - 100_000n - change).toBe(r.fee);
    expect(r.fee).toBeGreaterThanOrEqual(minimumFee(DEVNET, r.tx.bytes.length));
  });

  it('says INSUFFICIENT_FUNDS when the coins do not cover it, and refuses a fee below the minimum', () => {
    expect(() => buildPayment(DEVNET, key, [coin(1, 5_000n)], [{ value: 10_000n, address: to }])).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_FUNDS' }),
    );
    expect(() =>
      buildPayment(DEVNET, key, [coin(1, 500_000n)], [{ value: 10_000n, address: to }], { fee: 1n }),
    ).toThrow(PaymentError);
  });
});

describe('signTx and key pairs', () => {
  it('needs one key per input', () => {
    const unsigned = { inputs: [coin(1, 0n).outpoint, coin(2, 0n).outpoint], outputs: pay(1_000n) };
    expect(() => signTx(DEVNET, unsigned, [key])).toThrow(new RangeError('one key per input'));
    expect(() => signTx(DEVNET, unsigned, [key, key, key])).toThrow(RangeError);
    expect(decodeTx(signTx(DEVNET, unsigned, [key, key]).bytes, DEVNET.maxTxBytes).tx.witnesses).toHaveLength(
      2,
    );
  });

  it('takes only a 32-byte secret, and derives the RFC 8032 public key', () => {
    for (const n of [0, 31, 33, 64])
      expect(() => keyPairFromSecret(new Uint8Array(n))).toThrow(
        new RangeError('an Ed25519 secret key is 32 bytes'),
      );
    expect(key.publicKey).toEqual(ed25519.getPublicKey(new Uint8Array(32).fill(7)));
  });
});
