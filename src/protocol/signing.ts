import { ByteWriter } from '../encoding/byte-writer.js';
import { TAG } from './domain-tags.js';
import { ADDRESS_PAYLOAD_BYTES, type OutPoint, PUBKEY_BYTES, TXID_BYTES } from './transaction.js';

/** What every input witness signs: TAG.sig ‖ u32 chain id ‖ txid. */
export function txSigMessage(chainId: number, txid: Uint8Array): Uint8Array {
  return new ByteWriter(TAG.sig.length + 4 + TXID_BYTES)
    .raw(TAG.sig)
    .u32(chainId)
    .fixed(txid, TXID_BYTES)
    .finish();
}

/**
 * What a node key signs to consent to a registration. It binds the transaction's first input (an
 * outpoint that can be spent only once), so the signature cannot be replayed in another
 * transaction, without making the txid depend on the signature.
 */
export function registrationMessage(
  chainId: number,
  firstInput: OutPoint,
  nodePubkey: Uint8Array,
  collateralVout: number,
  rewardAddress: Uint8Array,
): Uint8Array {
  return new ByteWriter(160)
    .raw(TAG.mnReg)
    .u32(chainId)
    .fixed(firstInput.txid, TXID_BYTES)
    .u32(firstInput.vout)
    .fixed(nodePubkey, PUBKEY_BYTES)
    .u32(collateralVout)
    .fixed(rewardAddress, ADDRESS_PAYLOAD_BYTES)
    .finish();
}

/** What a node key signs to deregister itself; bound to the first input like a registration. */
export function deregistrationMessage(
  chainId: number,
  firstInput: OutPoint,
  nodePubkey: Uint8Array,
): Uint8Array {
  return new ByteWriter(128)
    .raw(TAG.mnDereg)
    .u32(chainId)
    .fixed(firstInput.txid, TXID_BYTES)
    .u32(firstInput.vout)
    .fixed(nodePubkey, PUBKEY_BYTES)
    .finish();
}

/** What the block producer signs: TAG.hdrSig ‖ header hash. */
export function headerSigMessage(headerHash: Uint8Array): Uint8Array {
  return new ByteWriter(TAG.hdrSig.length + 32).raw(TAG.hdrSig).fixed(headerHash, 32).finish();
}

/**
 * The signed preimage: TAG.hello ‖ u32 chain id ‖ genesis hash (32) ‖ the VERIFIER's nonce (32) ‖
 * the signer's public key (32). Binding chain and genesis stops a signature made for one network from
 * authenticating on another; binding the signer's key stops it from being presented as someone else's.
 */
export function helloSigningMessage(
  chainId: number,
  genesis: Uint8Array,
  verifierNonce: Uint8Array,
  signerPubkey: Uint8Array,
): Uint8Array {
  return new ByteWriter(TAG.hello.length + 4 + 96)
    .raw(TAG.hello)
    .u32(chainId)
    .fixed(genesis, 32)
    .fixed(verifierNonce, 32)
    .fixed(signerPubkey, 32)
    .finish();
}
