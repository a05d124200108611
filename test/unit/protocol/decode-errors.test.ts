// A malformed transaction or block is answered with a DecodeError that names the field it broke
// at, with the offset and the byte counts (a peer's ban reason, an RPC error, a log line). The
// expected message at every truncation point comes from an independent walk of the documented
// layout (docs/protocol.md), not from the decoder.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import { DEVNET } from '../../../src/params/networks.js';
import {
  BEACON_BYTES,
  type Block,
  decodeBlock,
  decodeBlockHeader,
  encodeBlock,
  MIN_TX_BYTES,
} from '../../../src/protocol/block.js';
import { NO_COLLATERAL, type Transaction } from '../../../src/protocol/transaction.js';
import { decodeTx, encodeTx } from '../../../src/protocol/tx-codec.js';

const rb = (n: number) => new Uint8Array(randomBytes(n));

/** One step of a layout walk: a fixed field, a count with its up-front size check, a length-prefixed field, or a check. */
type Step =
  | { kind: 'field'; label: string; size: number }
  | { kind: 'count'; what: string; n: number; itemBytes: number }
  | { kind: 'var'; label: string; length: number }
  | { kind: 'fits'; n: number; itemBytes: number };

/** The documented transaction layout of `tx`, field by field. */
function txSteps(tx: Transaction): Step[] {
  const f = (label: string, size: number): Step => ({ kind: 'field', label, size });
  const steps: Step[] = [f('version', 4), f('chain id', 4)];
  steps.push({ kind: 'count', what: 'input', n: tx.inputs.length, itemBytes: 36 + 96 });
  for (const _ of tx.inputs) steps.push(f('input txid', 32), f('input vout', 4));
  steps.push({ kind: 'count', what: 'output', n: tx.outputs.length, itemBytes: 28 });
  for (const _ of tx.outputs) steps.push(f('output value', 8), f('output address', 20));
  steps.push(f('lock time', 8), f('payload kind', 1));
  const p = tx.payload;
  if (p?.kind === 'register')
    steps.push(
      f('node pubkey', 32),
      f('collateral vout', 4),
      f('reward address', 20),
      f('node signature', 64),
    );
  if (p?.kind === 'deregister')
    steps.push(f('node pubkey', 32), {
      kind: 'var',
      label: 'node signature',
      length: p.nodeSignature.length,
    });
  for (const _ of tx.witnesses) steps.push(f('witness pubkey', 32), f('witness signature', 64));
  return steps;
}

/** The documented block layout: header fields, producer signature, the tx count check, then each transaction. */
function blockSteps(block: Block): Step[] {
  const f = (label: string, size: number): Step => ({ kind: 'field', label, size });
  const h = block.header;
  return [
    f('version', 4),
    f('chain id', 4),
    f('height', 8),
    f('slot', 8),
    f('timestamp', 8),
    f('prev hash', 32),
    f('merkle root', 32),
    f('witness root', 32),
    f('tx count', 4),
    { kind: 'var', label: 'beacon y', length: h.beaconY.length },
    { kind: 'var', label: 'beacon proof', length: h.beaconProof.length },
    f('producer pubkey', 32),
    f('rank', 4),
    f('block signature', 64),
    { kind: 'fits', n: block.txs.length, itemBytes: MIN_TX_BYTES },
    ...block.txs.flatMap((t) => txSteps(t.tx)),
  ];
}

/** The message a decoder of this layout must give for the first `cut` bytes (undefined: it decodes). */
function expectedMessage(steps: readonly Step[], cut: number): string | undefined {
  let pos = 0;
  const need = (label: string, size: number): string | undefined => {
    if (cut < pos + size)
      return `TRUNCATED: ${label}: need ${size} bytes at offset ${pos}, have ${cut - pos}`;
    pos += size;
    return undefined;
  };
  for (const s of steps) {
    let m: string | undefined;
    if (s.kind === 'field') m = need(s.label, s.size);
    else if (s.kind === 'var') m = need(`${s.label} length`, 4) ?? need(s.label, s.length);
    else if (s.kind === 'count') {
      m = need(`${s.what} count`, 4);
      if (m === undefined && s.n * s.itemBytes > cut - pos)
        m = `TRUNCATED: ${s.what} count ${s.n} needs ${s.n * s.itemBytes} bytes, ${cut - pos} remain`;
    } else if (s.n * s.itemBytes > cut - pos) {
      m = `TRUNCATED: tx count ${s.n} cannot fit in ${cut - pos} bytes`;
    }
    if (m !== undefined) return m;
  }
  return cut === pos ? undefined : 'layout walk did not end at the cut';
}

function messageOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return (err as Error).message;
  }
}

const output = () => ({ value: 1_000n, address: rb(20) });
const witness = () => ({ pubkey: rb(32), signature: rb(64) });

/** Transactions that together reach every field, both counts' checks and both payloads. */
const transactions: Record<string, Transaction> = {
  'a spend (2 inputs, 1 output, register payload)': {
    version: 1,
    chainId: DEVNET.chainId,
    inputs: [
      { txid: rb(32), vout: 0 },
      { txid: rb(32), vout: 1 },
    ],
    outputs: [output()],
    lockTime: 7,
    payload: {
      kind: 'register',
      nodePubkey: rb(32),
      collateralVout: NO_COLLATERAL,
      rewardAddress: rb(20),
      nodeSignature: rb(64),
    },
    witnesses: [witness(), witness()],
  },
  // Without inputs nothing is counted ahead of the payload, so its fields are where a cut lands.
  'no inputs, 1 output, register payload': {
    version: 1,
    chainId: DEVNET.chainId,
    inputs: [],
    outputs: [output()],
    lockTime: 0,
    payload: {
      kind: 'register',
      nodePubkey: rb(32),
      collateralVout: 0,
      rewardAddress: rb(20),
      nodeSignature: rb(64),
    },
    witnesses: [],
  },
  'a coinbase-like body (no inputs, 3 outputs, deregister payload)': {
    version: 1,
    chainId: DEVNET.chainId,
    inputs: [],
    outputs: [output(), output(), output()],
    lockTime: 9,
    payload: { kind: 'deregister', nodePubkey: rb(32), nodeSignature: rb(64) },
    witnesses: [],
  },
};

describe('decode errors name the field, the offset and the byte counts', () => {
  for (const [name, tx] of Object.entries(transactions)) {
    it(`transaction, cut at every length: ${name}`, () => {
      const { bytes } = encodeTx(tx);
      const steps = txSteps(tx);
      expect(expectedMessage(steps, bytes.length)).toBeUndefined();
      for (let cut = 0; cut < bytes.length; cut++)
        expect(
          messageOf(() => decodeTx(bytes.subarray(0, cut), 1e9)),
          `cut ${cut}`,
        ).toBe(expectedMessage(steps, cut));
    });
  }

  it('block, cut at every length through the header, the signature, the count check and a transaction', () => {
    const txs = Object.values(transactions).map(encodeTx);
    const block: Block = {
      header: {
        version: 1,
        chainId: DEVNET.chainId,
        height: 3,
        slot: 4,
        timestampMs: 5,
        prevHash: rb(32),
        merkleRoot: rb(32),
        witnessRoot: rb(32),
        txCount: txs.length,
        beaconY: rb(BEACON_BYTES),
        beaconProof: rb(BEACON_BYTES),
        producerPubkey: rb(32),
        rank: 1,
      },
      signature: rb(64),
      txs,
    };
    const bytes = encodeBlock(block);
    const steps = blockSteps(block);
    expect(expectedMessage(steps, bytes.length)).toBeUndefined();
    const headerEnd = bytes.length - txs.reduce((n, t) => n + t.bytes.length, 0);
    for (let cut = 0; cut < bytes.length; cut++) {
      const expected = expectedMessage(steps, cut);
      expect(
        messageOf(() => decodeBlock(bytes.subarray(0, cut), 1e9)),
        `cut ${cut}`,
      ).toBe(expected);
      // The header-only reader names the same fields up to the signature.
      if (cut < headerEnd)
        expect(
          messageOf(() => decodeBlockHeader(bytes.subarray(0, cut))),
          `header cut ${cut}`,
        ).toBe(expected);
    }
  });

  it('limits, lengths, kinds and trailing bytes each say what they refused', () => {
    const spend = encodeTx(transactions['a spend (2 inputs, 1 output, register payload)']!).bytes;
    expect(messageOf(() => decodeTx(spend, spend.length - 1))).toBe(
      `OUT_OF_RANGE: transaction of ${spend.length} bytes exceeds ${spend.length - 1}`,
    );
    expect(messageOf(() => decodeTx(Uint8Array.of(...spend, 0, 0), 1e9))).toBe(
      'TRAILING_BYTES: transaction: 2 trailing bytes',
    );
    const header = {
      version: 1,
      chainId: 1,
      height: 0,
      slot: 0,
      timestampMs: 0,
      prevHash: rb(32),
      merkleRoot: rb(32),
      witnessRoot: rb(32),
      txCount: 0,
      beaconY: rb(3),
      beaconProof: new Uint8Array(0),
      producerPubkey: rb(32),
      rank: 0,
    };
    const block = encodeBlock({ header, signature: rb(64), txs: [] });
    expect(messageOf(() => decodeBlock(block, block.length - 1))).toBe(
      `OUT_OF_RANGE: block of ${block.length} bytes exceeds ${block.length - 1}`,
    );
    expect(messageOf(() => decodeBlock(block, 1e9))).toBe(
      `INVALID_VALUE: beacon y is 3 bytes, not 0 or ${BEACON_BYTES}`,
    );
    // A well-formed block (no beacon, as genesis) with one byte after its last transaction.
    const wellFormed = encodeBlock({
      header: { ...header, beaconY: new Uint8Array(0) },
      signature: rb(64),
      txs: [],
    });
    expect(decodeBlock(wellFormed, 1e9).txs).toEqual([]);
    expect(messageOf(() => decodeBlock(Uint8Array.of(...wellFormed, 0), 1e9))).toBe(
      'TRAILING_BYTES: block: 1 trailing bytes',
    );
    const dereg = encodeTx({
      ...transactions['a coinbase-like body (no inputs, 3 outputs, deregister payload)']!,
      payload: { kind: 'deregister', nodePubkey: rb(32), nodeSignature: rb(63) },
    }).bytes;
    expect(messageOf(() => decodeTx(dereg, 1e9))).toBe(
      'INVALID_VALUE: node signature must be 0 or 64 bytes, got 63',
    );
    const kind = encodeTx({
      ...transactions['a coinbase-like body (no inputs, 3 outputs, deregister payload)']!,
      payload: null,
    }).bytes;
    kind[kind.length - 1] = 7;
    expect(messageOf(() => decodeTx(kind, 1e9))).toBe('INVALID_VALUE: unknown payload kind 7');
  });
});
