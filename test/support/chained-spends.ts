import { createPrivateKey, type KeyObject, sign as opensslSign } from 'node:crypto';
import type { ChainParams } from '../../src/params/chain-params.js';
import { txSigMessage } from '../../src/protocol/signing.js';
import { type OutPoint, type Transaction, TX_VERSION } from '../../src/protocol/transaction.js';
import { type EncodedTx, encodeTx, txidOf } from '../../src/protocol/tx-codec.js';
import type { KeyPair } from '../../src/wallet/keys.js';

/** PKCS#8 DER prefix of a raw 32-byte Ed25519 seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An unsigned 1-in-1-out transaction paying `value` from `from` back to `key`. */
export function selfSpend(params: ChainParams, key: KeyPair, from: OutPoint, value: bigint): Transaction {
  return {
    version: TX_VERSION,
    chainId: params.chainId,
    inputs: [from],
    outputs: [{ value, address: key.addressPayload }],
    lockTime: 0,
    payload: null,
    witnesses: [],
  };
}

/**
 * Signs every input with one key through OpenSSL (node:crypto). Ed25519 signatures are
 * deterministic (RFC 8032), so they equal @noble's, which signs ~15 times slower: tests that need
 * tens of thousands of signed transactions use this.
 */
export class OpenSslSigner {
  private readonly secret: KeyObject;

  constructor(private readonly key: KeyPair) {
    this.secret = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, key.secretKey]),
      format: 'der',
      type: 'pkcs8',
    });
  }

  sign(params: ChainParams, tx: Transaction): EncodedTx {
    const message = txSigMessage(params.chainId, txidOf(tx));
    const signature = new Uint8Array(opensslSign(null, message, this.secret));
    return encodeTx({ ...tx, witnesses: tx.inputs.map(() => ({ pubkey: this.key.publicKey, signature })) });
  }
}

/**
 * `count` chained self-spends of `from` (worth `value`, owned by `key`): transaction i + 1 spends
 * transaction i's only output; each pays `fee`, the last pays `lastFee`. `signed: false` leaves the
 * witnesses out (txids do not depend on them), which makes choosing a chain by its txids cheap.
 */
export function chainedSpends(
  params: ChainParams,
  key: KeyPair,
  from: OutPoint,
  value: bigint,
  count: number,
  fee: bigint,
  opts: { lastFee?: bigint; signed?: boolean } = {},
): EncodedTx[] {
  const { lastFee = fee, signed = true } = opts;
  const signer = signed ? new OpenSslSigner(key) : null;
  const out: EncodedTx[] = [];
  let prev = from;
  let remaining = value;
  for (let i = 0; i < count; i++) {
    remaining -= i === count - 1 ? lastFee : fee;
    const tx = selfSpend(params, key, prev, remaining);
    const etx = signer ? signer.sign(params, tx) : encodeTx(tx);
    out.push(etx);
    prev = { txid: etx.txid, vout: 0 };
  }
  return out;
}
