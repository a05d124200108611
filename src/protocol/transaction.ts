/**
 * Transaction types and their one byte layout (DESIGN §3, §4). The serialized form is the txid
 * body followed by one witness per input; the txid hashes the body only, so witnesses cannot make
 * a transaction malleable.
 */

export const TXID_BYTES = 32;
export const ADDRESS_PAYLOAD_BYTES = 20;
export const PUBKEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const TX_VERSION = 1;
/** collateralVout value meaning "Free tier, no collateral". */
export const NO_COLLATERAL = 0xffff_ffff;

export interface OutPoint {
  readonly txid: Uint8Array;
  readonly vout: number;
}

export interface TxOutput {
  /** sat */
  readonly value: bigint;
  /** SHA-256(pubkey)[0..20] of the key that may spend it. */
  readonly address: Uint8Array;
}

export interface Witness {
  readonly pubkey: Uint8Array;
  readonly signature: Uint8Array;
}

export const PAYLOAD_KIND = Object.freeze({ none: 0, register: 1, deregister: 2 });

/** Registers `nodePubkey` as a masternode; its tier follows the collateral output's value. */
export interface MasternodeRegistration {
  readonly kind: 'register';
  readonly nodePubkey: Uint8Array;
  /** Index of this transaction's output held as collateral, or NO_COLLATERAL (Free tier). */
  readonly collateralVout: number;
  /** Where the node's rewards are paid. */
  readonly rewardAddress: Uint8Array;
  /** Node key's signature over registrationMessage(): proves the operator consents. */
  readonly nodeSignature: Uint8Array;
}

/**
 * Retires `nodePubkey`. Authorized by the node key's signature, or (empty signature) by spending
 * the node's collateral output in this same transaction, so the collateral's owner can always exit.
 */
export interface MasternodeDeregistration {
  readonly kind: 'deregister';
  readonly nodePubkey: Uint8Array;
  /** 64 bytes, or empty when the transaction spends the collateral. */
  readonly nodeSignature: Uint8Array;
}

export type TxPayload = MasternodeRegistration | MasternodeDeregistration;

export interface Transaction {
  readonly version: number;
  readonly chainId: number;
  readonly inputs: readonly OutPoint[];
  readonly outputs: readonly TxOutput[];
  /** 0 = none; otherwise the lowest block height that may include it. Coinbase: its block height. */
  readonly lockTime: number;
  readonly payload: TxPayload | null;
  /** One per input, in input order; empty for a coinbase. */
  readonly witnesses: readonly Witness[];
}

export function isCoinbase(tx: Transaction): boolean {
  return tx.inputs.length === 0;
}
