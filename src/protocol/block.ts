import { sha256 } from '../crypto/sha256.js';
import { ByteReader, DecodeError } from '../encoding/byte-reader.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { TAG } from './domain-tags.js';
import { PUBKEY_BYTES, SIGNATURE_BYTES } from './transaction.js';
import { type EncodedTx, readTx } from './tx-codec.js';

export const BLOCK_VERSION = 1;
export const HASH_BYTES = 32;
/**
 * Beacon y and proof π are RSA-2048 group elements: exactly 256 bytes in every block but genesis,
 * which carries none (length 0). No other length decodes.
 */
export const BEACON_BYTES = 256;
/**
 * The smallest transaction the codec reads: version, chain id, input and output counts (u32 each),
 * lock time (u64) and the payload kind byte, with no inputs, outputs or witnesses. The decoder's
 * bound on a block's transaction count; whether such a transaction is valid is the ledger's call.
 */
export const MIN_TX_BYTES = 4 + 4 + 4 + 4 + 8 + 1;

export interface BlockHeader {
  readonly version: number;
  readonly chainId: number;
  readonly height: number;
  readonly slot: number;
  readonly timestampMs: number;
  readonly prevHash: Uint8Array;
  /** RFC 6962 root over the txids (witnesses excluded). */
  readonly merkleRoot: Uint8Array;
  /** RFC 6962 root over the wtxids (full transactions): the header commits to every body byte. */
  readonly witnessRoot: Uint8Array;
  readonly txCount: number;
  /** VDF beacon output y for this slot (empty in genesis). */
  readonly beaconY: Uint8Array;
  /** Wesolowski proof π (empty in genesis). */
  readonly beaconProof: Uint8Array;
  readonly producerPubkey: Uint8Array;
  /** The producer's rank in this slot's leader order. */
  readonly rank: number;
}

export interface Block {
  readonly header: BlockHeader;
  /** Producer's signature over headerSigMessage(headerHash). */
  readonly signature: Uint8Array;
  /** Coinbase first, then finalized transactions in ascending txid order. */
  readonly txs: readonly EncodedTx[];
}

function writeHeaderFields(w: ByteWriter, h: BlockHeader): void {
  w.u32(h.version)
    .u32(h.chainId)
    .u64(h.height)
    .u64(h.slot)
    .u64(h.timestampMs)
    .fixed(h.prevHash, HASH_BYTES)
    .fixed(h.merkleRoot, HASH_BYTES)
    .fixed(h.witnessRoot, HASH_BYTES)
    .u32(h.txCount)
    .varBytes(h.beaconY)
    .varBytes(h.beaconProof)
    .fixed(h.producerPubkey, PUBKEY_BYTES)
    .u32(h.rank);
}

/** Header hash = SHA-256(TAG.hdr ‖ header fields); it identifies the block. */
export function headerHash(h: BlockHeader): Uint8Array {
  const w = new ByteWriter(288 + h.beaconY.length + h.beaconProof.length);
  w.raw(TAG.hdr);
  writeHeaderFields(w, h);
  return sha256(w.finish());
}

/** Block bytes: header fields ‖ producer signature ‖ each transaction (self-delimiting). */
export function encodeBlock(b: Block): Uint8Array {
  let size = 288 + b.header.beaconY.length + b.header.beaconProof.length;
  for (const t of b.txs) size += t.bytes.length;
  const w = new ByteWriter(size);
  writeHeaderFields(w, b.header);
  w.fixed(b.signature, SIGNATURE_BYTES);
  for (const t of b.txs) w.raw(t.bytes);
  return w.finish();
}

/** Serialized size without building the bytes (for assembling blocks against the size budget). */
export function blockSize(b: Pick<Block, 'header' | 'txs'>): number {
  let size = blockOverheadBytes(b.header);
  for (const t of b.txs) size += t.bytes.length;
  return size;
}

export function blockOverheadBytes(h: BlockHeader): number {
  return (
    4 +
    4 +
    8 +
    8 +
    8 +
    32 +
    32 +
    32 +
    4 +
    4 +
    h.beaconY.length +
    4 +
    h.beaconProof.length +
    32 +
    4 +
    SIGNATURE_BYTES
  );
}

/** varbytes of length exactly 0 (genesis) or BEACON_BYTES; any other length is malformed. */
function readBeaconElement(r: ByteReader, what: string): Uint8Array {
  const bytes = r.varBytes(BEACON_BYTES, what);
  if (bytes.length !== 0 && bytes.length !== BEACON_BYTES)
    throw new DecodeError('INVALID_VALUE', `${what} is ${bytes.length} bytes, not 0 or ${BEACON_BYTES}`);
  return bytes;
}

function readHeader(r: ByteReader): BlockHeader {
  const header: BlockHeader = {
    version: r.u32('version'),
    chainId: r.u32('chain id'),
    height: r.u64Number('height'),
    slot: r.u64Number('slot'),
    timestampMs: r.u64Number('timestamp'),
    prevHash: r.fixed(HASH_BYTES, 'prev hash'),
    merkleRoot: r.fixed(HASH_BYTES, 'merkle root'),
    witnessRoot: r.fixed(HASH_BYTES, 'witness root'),
    txCount: r.u32('tx count'),
    beaconY: readBeaconElement(r, 'beacon y'),
    beaconProof: readBeaconElement(r, 'beacon proof'),
    producerPubkey: r.fixed(PUBKEY_BYTES, 'producer pubkey'),
    rank: r.u32('rank'),
  };
  return header;
}

/** Decodes a block; the size limit is checked before any parsing. */
export function decodeBlock(bytes: Uint8Array, maxBytes: number): Block {
  if (bytes.length > maxBytes)
    throw new DecodeError('OUT_OF_RANGE', `block of ${bytes.length} bytes exceeds ${maxBytes}`);
  const r = new ByteReader(bytes);
  const header = readHeader(r);
  const signature = r.fixed(SIGNATURE_BYTES, 'block signature');
  // Refuse counts the remaining bytes cannot hold before allocating anything for them.
  if (header.txCount * MIN_TX_BYTES > r.remaining) {
    throw new DecodeError('TRUNCATED', `tx count ${header.txCount} cannot fit in ${r.remaining} bytes`);
  }
  const txs: EncodedTx[] = new Array(header.txCount);
  for (let i = 0; i < header.txCount; i++) txs[i] = readTx(r, bytes);
  r.done('block');
  return { header, signature, txs };
}

/**
 * The header and producer signature at the front of block bytes, without decoding the
 * transactions: what the node's index of recent blocks needs (a full 2 MB block decodes ~9,300
 * transactions). The bytes must come from a trusted place (our store); untrusted blocks go through
 * decodeBlock.
 */
export function decodeBlockHeader(bytes: Uint8Array): { header: BlockHeader; signature: Uint8Array } {
  const r = new ByteReader(bytes);
  const header = readHeader(r);
  return { header, signature: r.fixed(SIGNATURE_BYTES, 'block signature') };
}
