import { ByteWriter } from '../encoding/byte-writer.js';
import { TAG } from './domain-tags.js';
import { ADDRESS_PAYLOAD_BYTES, type OutPoint, PUBKEY_BYTES, TXID_BYTES } from './transaction.js';

/**
 * What every input witness signs: TAG.sig ‖ u32 LE chain id ‖ txid. Built for every transaction a
 * block carries, twice on a validator (its signatures started, then its ledger check), so it is
 * written straight into one array instead of through a growable writer (four allocations and a
 * copy); the same checks as the writer's reject a chain id or txid of the wrong shape.
 */
export function txSigMessage(chainId: number, txid: Uint8Array): Uint8Array {
  if (!Number.isInteger(chainId) || chainId < 0 || chainId > 0xffff_ffff)
    throw new RangeError(`u32 out of range: ${chainId}`);
  if (txid.length !== TXID_BYTES) throw new RangeError(`expected ${TXID_BYTES} bytes, got ${txid.length}`);
  const tag = TAG.sig.length;
  const out = new Uint8Array(tag + 4 + TXID_BYTES);
  out.set(TAG.sig);
  out[tag] = chainId;
  out[tag + 1] = chainId >>> 8;
  out[tag + 2] = chainId >>> 16;
  out[tag + 3] = chainId >>> 24;
  out.set(txid, tag + 4);
  return out;
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

/** One side of a p2p handshake as it appears in the transcript. */
export interface HandshakeSide {
  readonly pubkey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly listenPort: number;
}

/** Who signs: the side that dialed (TLS client) or the side that accepted (TLS server). */
export type HandshakeRole = 'dialer' | 'listener';

/**
 * What each side of a p2p connection signs with its node key:
 * TAG.handshake ‖ u8 role of the signer (0 dialer, 1 listener) ‖ u32 chain id ‖ genesis hash (32) ‖
 * u32 protocol version ‖ channel binding (32: SHA-256 of the listener's TLS certificate, RFC 5929
 * tls-server-end-point) ‖ dialer pubkey (32) ‖ dialer nonce (32) ‖ u32 dialer listen port ‖
 * listener pubkey (32) ‖ listener nonce (32) ‖ u32 listener listen port.
 *
 * Both nonces make each signature fresh for both sides; both keys stop a signature from being
 * presented to a third node (no unknown key share); the role byte stops one side's signature from
 * being reflected back as the other's; the binding ties it to this TLS channel, because a relay
 * that terminates TLS must present its own certificate, so the two sides hash different ones.
 */
export function handshakeSigningMessage(
  role: HandshakeRole,
  chainId: number,
  genesis: Uint8Array,
  protocol: number,
  binding: Uint8Array,
  dialer: HandshakeSide,
  listener: HandshakeSide,
): Uint8Array {
  const w = new ByteWriter(TAG.handshake.length + 1 + 4 + 32 + 4 + 32 + 2 * (32 + 32 + 4))
    .raw(TAG.handshake)
    .u8(role === 'dialer' ? 0 : 1)
    .u32(chainId)
    .fixed(genesis, 32)
    .u32(protocol)
    .fixed(binding, 32);
  for (const side of [dialer, listener]) w.fixed(side.pubkey, 32).fixed(side.nonce, 32).u32(side.listenPort);
  return w.finish();
}
