import type { ChainParams } from '../params/chain-params.js';
import { deregistrationMessage, registrationMessage, txSigMessage } from '../protocol/signing.js';
import type {
  MasternodeDeregistration,
  MasternodeRegistration,
  OutPoint,
  Transaction,
  TxOutput,
  TxPayload,
} from '../protocol/transaction.js';
import { TX_VERSION } from '../protocol/transaction.js';
import { type EncodedTx, encodeTx, txidOf } from '../protocol/tx-codec.js';
import { type KeyPair, sign } from './keys.js';

export interface UnsignedTx {
  readonly inputs: readonly OutPoint[];
  readonly outputs: readonly TxOutput[];
  readonly lockTime?: number;
  readonly payload?: TxPayload | null;
}

/** Ed25519 signing function: @noble by default; load generators pass OpenSSL's (same signatures, faster). */
export type Signer = (message: Uint8Array, secretKey: Uint8Array) => Uint8Array;

/**
 * Builds and signs a transaction: the txid covers everything but the witnesses, so every input's
 * key signs the same message TAG.sig ‖ chain id ‖ txid. `keys[i]` owns input i.
 */
export function signTx(
  params: ChainParams,
  unsigned: UnsignedTx,
  keys: readonly KeyPair[],
  signer: Signer = sign,
): EncodedTx {
  if (keys.length !== unsigned.inputs.length) throw new RangeError('one key per input');
  const body: Transaction = {
    version: TX_VERSION,
    chainId: params.chainId,
    inputs: unsigned.inputs,
    outputs: unsigned.outputs,
    lockTime: unsigned.lockTime ?? 0,
    payload: unsigned.payload ?? null,
    witnesses: [],
  };
  const message = txSigMessage(params.chainId, txidOf(body));
  const witnesses = keys.map((k) => ({ pubkey: k.publicKey, signature: signer(message, k.secretKey) }));
  return encodeTx({ ...body, witnesses });
}

/** A registration payload signed by the node key; `firstInput` must be the transaction's input 0. */
export function registrationPayload(
  params: ChainParams,
  firstInput: OutPoint,
  nodeKey: KeyPair,
  collateralVout: number,
  rewardAddress: Uint8Array,
): MasternodeRegistration {
  const message = registrationMessage(
    params.chainId,
    firstInput,
    nodeKey.publicKey,
    collateralVout,
    rewardAddress,
  );
  return {
    kind: 'register',
    nodePubkey: nodeKey.publicKey,
    collateralVout,
    rewardAddress,
    nodeSignature: sign(message, nodeKey.secretKey),
  };
}

/**
 * A deregistration payload: signed by the node key, or unsigned (pass only the pubkey) when the
 * transaction spends the collateral, which the collateral owner's witness then authorizes.
 */
export function deregistrationPayload(
  params: ChainParams,
  firstInput: OutPoint,
  node: KeyPair | { publicKey: Uint8Array },
): MasternodeDeregistration {
  const nodeSignature =
    'secretKey' in node
      ? sign(deregistrationMessage(params.chainId, firstInput, node.publicKey), node.secretKey)
      : new Uint8Array(0);
  return { kind: 'deregister', nodePubkey: node.publicKey, nodeSignature };
}
