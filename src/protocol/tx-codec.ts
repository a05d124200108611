import { sha256 } from '../crypto/sha256.js';
import { ByteReader, DecodeError } from '../encoding/byte-reader.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { copyBytes } from '../encoding/bytes.js';
import { TAG } from './domain-tags.js';
import {
  ADDRESS_PAYLOAD_BYTES,
  type OutPoint,
  PAYLOAD_KIND,
  PUBKEY_BYTES,
  SIGNATURE_BYTES,
  type Transaction,
  TXID_BYTES,
  type TxOutput,
  type TxPayload,
  type Witness,
} from './transaction.js';

const INPUT_BYTES = TXID_BYTES + 4;
const OUTPUT_BYTES = 8 + ADDRESS_PAYLOAD_BYTES;
const WITNESS_BYTES = PUBKEY_BYTES + SIGNATURE_BYTES;

/**
 * A transaction with its bytes: `bytes` is the serialized transaction (body ‖ witnesses) and
 * `txid` = SHA-256(TAG.tx ‖ body). Encoding once and keeping both avoids re-serializing on the
 * hot path (size checks, storage, txid).
 */
export interface EncodedTx {
  readonly tx: Transaction;
  readonly txid: Uint8Array;
  readonly bytes: Uint8Array;
}

function writeBody(w: ByteWriter, tx: Transaction): void {
  w.u32(tx.version).u32(tx.chainId);
  w.u32(tx.inputs.length);
  for (const i of tx.inputs) w.fixed(i.txid, TXID_BYTES).u32(i.vout);
  w.u32(tx.outputs.length);
  for (const o of tx.outputs) w.u64(o.value).fixed(o.address, ADDRESS_PAYLOAD_BYTES);
  w.u64(tx.lockTime);
  const p = tx.payload;
  if (p === null) {
    w.u8(PAYLOAD_KIND.none);
  } else if (p.kind === 'register') {
    w.u8(PAYLOAD_KIND.register)
      .fixed(p.nodePubkey, PUBKEY_BYTES)
      .u32(p.collateralVout)
      .fixed(p.rewardAddress, ADDRESS_PAYLOAD_BYTES)
      .fixed(p.nodeSignature, SIGNATURE_BYTES);
  } else {
    w.u8(PAYLOAD_KIND.deregister).fixed(p.nodePubkey, PUBKEY_BYTES).varBytes(p.nodeSignature);
  }
}

/** Serializes a transaction and computes its txid in one pass over one buffer. */
export function encodeTx(tx: Transaction): EncodedTx {
  const w = new ByteWriter(
    64 + tx.inputs.length * (INPUT_BYTES + WITNESS_BYTES) + tx.outputs.length * OUTPUT_BYTES,
  );
  w.raw(TAG.tx);
  writeBody(w, tx);
  const bodyEnd = w.length;
  for (const wit of tx.witnesses) w.fixed(wit.pubkey, PUBKEY_BYTES).fixed(wit.signature, SIGNATURE_BYTES);
  const all = w.finish();
  return { tx, txid: sha256(all.subarray(0, bodyEnd)), bytes: all.subarray(TAG.tx.length) };
}

export function txidOf(tx: Transaction): Uint8Array {
  const w = new ByteWriter(256);
  w.raw(TAG.tx);
  writeBody(w, tx);
  return sha256(w.finish());
}

function readCount(r: ByteReader, itemBytes: number, what: string): number {
  const n = r.u32(`${what} count`);
  // Reject counts the remaining bytes cannot hold before allocating anything for them.
  if (n * itemBytes > r.remaining) {
    throw new DecodeError(
      'TRUNCATED',
      `${what} count ${n} needs ${n * itemBytes} bytes, ${r.remaining} remain`,
    );
  }
  return n;
}

function readPayload(r: ByteReader): TxPayload | null {
  const kind = r.u8('payload kind');
  switch (kind) {
    case PAYLOAD_KIND.none:
      return null;
    case PAYLOAD_KIND.register:
      return {
        kind: 'register',
        nodePubkey: r.fixed(PUBKEY_BYTES, 'node pubkey'),
        collateralVout: r.u32('collateral vout'),
        rewardAddress: r.fixed(ADDRESS_PAYLOAD_BYTES, 'reward address'),
        nodeSignature: r.fixed(SIGNATURE_BYTES, 'node signature'),
      };
    case PAYLOAD_KIND.deregister: {
      const nodePubkey = r.fixed(PUBKEY_BYTES, 'node pubkey');
      const nodeSignature = r.varBytes(SIGNATURE_BYTES, 'node signature');
      if (nodeSignature.length !== 0 && nodeSignature.length !== SIGNATURE_BYTES) {
        throw new DecodeError(
          'INVALID_VALUE',
          `node signature must be 0 or 64 bytes, got ${nodeSignature.length}`,
        );
      }
      return { kind: 'deregister', nodePubkey, nodeSignature };
    }
    default:
      throw new DecodeError('INVALID_VALUE', `unknown payload kind ${kind}`);
  }
}

/** Reads one transaction from `r` (used by block decoding); returns its bytes span too. */
export function readTx(r: ByteReader, source: Uint8Array): EncodedTx {
  const start = r.offset;
  const version = r.u32('version');
  const chainId = r.u32('chain id');
  const nIn = readCount(r, INPUT_BYTES + WITNESS_BYTES, 'input');
  const inputs: OutPoint[] = new Array(nIn);
  for (let i = 0; i < nIn; i++)
    inputs[i] = { txid: r.fixed(TXID_BYTES, 'input txid'), vout: r.u32('input vout') };
  const nOut = readCount(r, OUTPUT_BYTES, 'output');
  const outputs: TxOutput[] = new Array(nOut);
  for (let i = 0; i < nOut; i++) {
    outputs[i] = { value: r.u64('output value'), address: r.fixed(ADDRESS_PAYLOAD_BYTES, 'output address') };
  }
  const lockTime = r.u64Number('lock time');
  const payload = readPayload(r);
  const bodyEnd = r.offset;
  const witnesses: Witness[] = new Array(nIn);
  for (let i = 0; i < nIn; i++) {
    witnesses[i] = {
      pubkey: r.fixed(PUBKEY_BYTES, 'witness pubkey'),
      signature: r.fixed(SIGNATURE_BYTES, 'witness signature'),
    };
  }
  // A copy (unless the reader owns its bytes already): a kept transaction must not pin the block
  // or frame it came in.
  const bytes = r.owned ? source.subarray(start, r.offset) : copyBytes(source, start, r.offset);
  const tx: Transaction = { version, chainId, inputs, outputs, lockTime, payload, witnesses };
  return { tx, txid: txidOfBody(bytes.subarray(0, bodyEnd - start)), bytes };
}

/** Where readTx assembles each txid preimage TAG.tx ‖ body; hashed at once and never kept. */
let preimage = new Uint8Array(1024);
preimage.set(TAG.tx);

/** SHA-256(TAG.tx ‖ body) without a preimage allocation per decoded transaction. */
function txidOfBody(body: Uint8Array): Uint8Array {
  const n = TAG.tx.length + body.length;
  if (preimage.length < n) {
    preimage = new Uint8Array(Math.max(n, preimage.length * 2));
    preimage.set(TAG.tx);
  }
  preimage.set(body, TAG.tx.length);
  return sha256(preimage.subarray(0, n));
}

/** Decodes exactly one serialized transaction; throws DecodeError on any malformation. */
export function decodeTx(bytes: Uint8Array, maxBytes: number): EncodedTx {
  if (bytes.length > maxBytes)
    throw new DecodeError('OUT_OF_RANGE', `transaction of ${bytes.length} bytes exceeds ${maxBytes}`);
  // One copy of the whole transaction, its fields views into it (readTx copied each field and then
  // the whole again: six allocations more per 1-in-2-out transaction on the intake path).
  const own = copyBytes(bytes);
  const r = new ByteReader(own, { owned: true });
  const encoded = readTx(r, own);
  r.done('transaction');
  return encoded;
}

/** Outpoint as a fixed 36-byte key: txid ‖ vout as u32 big-endian (sorts by txid, then vout). */
export function outpointKey(o: OutPoint): Uint8Array {
  const key = new Uint8Array(TXID_BYTES + 4);
  key.set(o.txid);
  new DataView(key.buffer).setUint32(TXID_BYTES, o.vout, false);
  return key;
}

export function outpointFromKey(key: Uint8Array): OutPoint {
  if (key.length !== TXID_BYTES + 4)
    throw new DecodeError('INVALID_VALUE', `outpoint key of ${key.length} bytes`);
  return {
    txid: copyBytes(key, 0, TXID_BYTES),
    vout: new DataView(key.buffer, key.byteOffset).getUint32(TXID_BYTES, false),
  };
}
