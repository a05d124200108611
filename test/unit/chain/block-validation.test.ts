import { describe, expect, it } from 'vitest';
import {
  type AssemblyInputs,
  assembleBlock,
  assembleBlockWith,
  type BlockCandidate,
  selectTransactions,
} from '../../../src/chain/block-assembly.js';
import {
  BLOCK_ERROR_CODES,
  BlockError,
  type BlockErrorCode,
  type BlockFaultScope,
  blockFaultScope,
} from '../../../src/chain/block-errors.js';
import {
  type BlockValidationContext,
  parseBlock,
  startInputSignatures,
  TXS_PER_TURN,
  validateBlock,
} from '../../../src/chain/block-validation.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { checkHeaderRules, rankingWeights } from '../../../src/chain/header-rules.js';
import { rankWindow, slotStartMs } from '../../../src/chain/slot-time.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import type { SignatureItem, SignatureVerifier } from '../../../src/crypto/signature-verifier.js';
import { bytesEqual } from '../../../src/encoding/bytes.js';
import { dependencyOrder } from '../../../src/ledger/dependency-order.js';
import type { LedgerView, MasternodeRecord } from '../../../src/ledger/ledger-state.js';
import { time } from '../../../src/params/units.js';
import {
  type Block,
  type BlockHeader,
  decodeBlock,
  encodeBlock,
  headerHash,
} from '../../../src/protocol/block.js';
import {
  type BlockRootHasher,
  INLINE_BLOCK_ROOTS,
  inlineBlockRoots,
} from '../../../src/protocol/block-roots.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import { headerSigMessage } from '../../../src/protocol/signing.js';
import { NO_COLLATERAL } from '../../../src/protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../../../src/protocol/tx-codec.js';
import { witnessRoot } from '../../../src/protocol/witness-root.js';
import { devnetKeyPair, type KeyPair, sign } from '../../../src/wallet/keys.js';
import { registrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import { inlineBeacons, leaderKey, realBeacon } from '../../support/block-builder.js';
import { OpenSslSigner, selfSpend } from '../../support/chained-spends.js';
import {
  devnetLedger,
  FUNDED,
  fundedOutpoint,
  genesisMasternodes,
  key,
  params,
  pay,
  spendFunded,
} from '../../support/devnet-ledger.js';

const genesis = genesisBlock(params);
const genesisHash = headerHash(genesis.header);
const parent = { hash: genesisHash, height: 0, slot: 0 };
const verifier = new NobleVerifier();
const beacons = inlineBeacons(params);
const active = genesisMasternodes(devnetLedger());
// Slots 1 and 2 are anchored on genesis (the newest block with slot < s − 1).
const SLOT = 2;
const beacon = realBeacon(params, SLOT, genesisHash);
const rank0 = leaderKey(params, active, beacon.y, 0)!;
const rank1 = leaderKey(params, active, beacon.y, 1)!;

function context(over: Partial<BlockValidationContext> = {}): BlockValidationContext {
  return {
    params,
    parent,
    view: devnetLedger(),
    anchorHash: genesisHash,
    activeMasternodes: active,
    beacons,
    verifier,
    ...over,
  };
}

function candidates(txs: EncodedTx[], fee = 10_000n): BlockCandidate[] {
  return txs.map((etx) => ({ etx, fee }));
}

function build(
  txs: EncodedTx[] = [spendFunded(0, [pay(key(1), time(3))])],
  opts: { producer?: KeyPair; nowMs?: number; slot?: number; y?: Uint8Array; proof?: Uint8Array } = {},
): Block {
  const slot = opts.slot ?? SLOT;
  const b = slot === SLOT ? beacon : realBeacon(params, slot, genesisHash);
  return assembleBlock({
    params,
    parent,
    slot,
    nowMs: opts.nowMs ?? slotStartMs(params, slot) + 10,
    activeMasternodes: active,
    beaconY: opts.y ?? b.y,
    beaconProof: opts.proof ?? b.proof,
    producerKey: opts.producer ?? rank0,
    view: null, // unchecked: some cases build invalid blocks on purpose
    candidates: candidates(txs),
  });
}

/** What the rank-0 producer assembles `txs` from at SLOT, checked against the devnet ledger. */
function checkedInputs(txs: EncodedTx[]): AssemblyInputs {
  return {
    params,
    parent,
    slot: SLOT,
    nowMs: slotStartMs(params, SLOT) + 10,
    activeMasternodes: active,
    beaconY: beacon.y,
    beaconProof: beacon.proof,
    producerKey: rank0,
    view: devnetLedger(),
    candidates: candidates(txs),
  };
}

/** Re-sign after changing the header, so only the rule under test can fail. */
function withHeader(
  block: Block,
  change: Partial<BlockHeader>,
  signer: KeyPair = rank0,
  txs: readonly EncodedTx[] = block.txs,
): Block {
  const header = { ...block.header, ...change };
  return { header, txs, signature: sign(headerSigMessage(headerHash(header)), signer.secretKey) };
}

/** Replace the body, fixing count and both roots, and re-sign. */
function withTxs(block: Block, txs: EncodedTx[]): Block {
  return withHeader(
    block,
    { merkleRoot: merkleRoot(txs.map((t) => t.txid)), witnessRoot: witnessRoot(txs), txCount: txs.length },
    rank0,
    txs,
  );
}

async function failure(block: Block, ctx = context()): Promise<BlockError | 'OK'> {
  try {
    await validateBlock(block, ctx);
    return 'OK';
  } catch (err) {
    if (err instanceof BlockError) return err;
    throw err;
  }
}

async function codeOf(block: Block, ctx = context()): Promise<BlockErrorCode | 'OK'> {
  const f = await failure(block, ctx);
  return f === 'OK' ? 'OK' : f.code;
}

/** A bit flipped in the first witness signature of transaction `index`: same txid, other bytes. */
function corruptWitness(etx: EncodedTx): EncodedTx {
  const w = etx.tx.witnesses[0]!;
  const signature = w.signature.slice();
  signature[10] = signature[10]! ^ 4;
  const bad = encodeTx({
    ...etx.tx,
    witnesses: [{ pubkey: w.pubkey, signature }, ...etx.tx.witnesses.slice(1)],
  });
  expect(bad.txid).toEqual(etx.txid);
  return bad;
}

describe('block validity rules', () => {
  it('accepts an assembled block, and the same block after an encode/decode round trip', async () => {
    const block = build([spendFunded(0, [pay(key(1), time(3))]), spendFunded(1, [pay(key(2), time(4))])]);
    expect(block.header.rank).toBe(0);
    expect(await codeOf(block)).toBe('OK');
    const bytes = encodeBlock(block);
    expect(await codeOf(decodeBlock(bytes, params.maxBlockBytes))).toBe('OK');
    const result = await validateBlock(block, context());
    expect(result.fees).toBe(20_000n);
    expect(result.hash).toEqual(headerHash(block.header));
  });

  it('the rank-1 leader builds a valid block in its own window', async () => {
    const block = build(undefined, { producer: rank1, nowMs: slotStartMs(params, SLOT) });
    expect(block.header.rank).toBe(1);
    const w = rankWindow(params, SLOT, 1);
    expect(block.header.timestampMs).toBe(w.startMs); // clamped up into its window
    expect(await codeOf(block)).toBe('OK');
    const late = build(undefined, { producer: rank1, nowMs: w.endMs + 10_000 });
    expect(late.header.timestampMs).toBe(w.endMs - 1); // clamped down: still valid by the rules
    expect(await codeOf(late)).toBe('OK');
  });

  const badSigner = devnetKeyPair('not a masternode', 0);
  // Each refusal with the message an operator reads in the log (after the code).
  const cases: [BlockErrorCode, string | RegExp, () => Block, (() => BlockValidationContext)?][] = [
    ['UNSUPPORTED_VERSION', 'version 2', () => withHeader(build(), { version: 2 })],
    ['WRONG_CHAIN', 'chain id 1', () => withHeader(build(), { chainId: 1 })],
    [
      'BAD_PREV_HASH',
      'prev hash is not the parent',
      () => withHeader(build(), { prevHash: new Uint8Array(32).fill(1) }),
    ],
    ['BAD_HEIGHT', 'height 2 after 0', () => withHeader(build(), { height: 2 })],
    [
      'BAD_SLOT',
      "slot 2 is not after the parent's slot 2",
      () => build(),
      () => context({ parent: { ...parent, slot: SLOT } }),
    ],
    [
      'BAD_BEACON',
      'beacon y and proof must be 256 bytes, got 1 and 256',
      () => withHeader(build(), { beaconY: new Uint8Array(1) }),
    ],
    [
      'BAD_BEACON',
      'y and π are not the beacon of slot 2 on this branch',
      () => {
        // A real beacon of another slot, with its own rank-0 leader: every rule holds but this one.
        const other = realBeacon(params, 7, genesisHash);
        return build(undefined, {
          y: other.y,
          proof: other.proof,
          producer: leaderKey(params, active, other.y, 0)!,
        });
      },
    ],
    [
      'TOO_FEW_MASTERNODES',
      '2 active, 3 needed',
      () => build(),
      () => context({ activeMasternodes: active.slice(0, 2) }),
    ],
    [
      'UNKNOWN_PRODUCER',
      'the producer is not in the active set as of the anchor',
      () => withHeader(build(), { producerPubkey: badSigner.publicKey }, badSigner),
    ],
    [
      'WRONG_RANK',
      'the producer is not the leader at rank 1 for this beacon',
      () => withHeader(build(), { rank: 1 }),
    ],
    [
      'BAD_TIMESTAMP',
      /^timestamp \d+ is outside rank 0's window \[\d+, \d+\) of slot 2$/,
      () => withHeader(build(), { timestampMs: rankWindow(params, SLOT, 0).endMs }),
    ],
    [
      'BAD_SIGNATURE',
      'producer signature is invalid',
      () => {
        const b = build();
        const signature = b.signature.slice();
        signature[0] = signature[0]! ^ 1;
        return { ...b, signature };
      },
    ],
    ['TX_COUNT_MISMATCH', 'header says 5, body has 2', () => withHeader(build(), { txCount: 5 })],
    [
      'BAD_MERKLE_ROOT',
      'merkle root does not match the transactions',
      () => withHeader(build(), { merkleRoot: new Uint8Array(32) }),
    ],
    [
      'BAD_WITNESS_ROOT',
      'witness root does not match the transactions',
      () => withHeader(build(), { witnessRoot: new Uint8Array(32) }),
    ],
    ['NO_COINBASE', 'first transaction must be the coinbase', () => withTxs(build(), build().txs.slice(1))],
    [
      'EXTRA_COINBASE',
      'transaction 1 has no inputs',
      () => {
        const b = build();
        return withTxs(b, [b.txs[0]!, encodeTx({ ...b.txs[0]!.tx, lockTime: 99 })]);
      },
    ],
    [
      'BAD_COINBASE',
      'coinbase differs from the reward rule (outputs, lock time or payload)',
      () => {
        const b = build();
        const cb = b.txs[0]!.tx;
        const outputs = [...cb.outputs];
        outputs[1] = { ...outputs[1]!, value: outputs[1]!.value + 1n };
        return withTxs(b, [encodeTx({ ...cb, outputs }), ...b.txs.slice(1)]);
      },
    ],
    [
      'UNSORTED_TXS',
      'transaction 2 is not in ascending txid order',
      () => {
        const b = build([spendFunded(0, [pay(key(1), time(3))]), spendFunded(1, [pay(key(2), time(4))])]);
        return withTxs(b, [b.txs[0]!, b.txs[2]!, b.txs[1]!]);
      },
    ],
    [
      'DOUBLE_SPEND',
      'transaction 2 spends an outpoint already spent in this block',
      () => {
        const a = spendFunded(0, [pay(key(1), time(3))]);
        const b = spendFunded(0, [pay(key(2), time(3))]);
        const block = build([a]);
        const sorted = [a, b].sort((x, y) => Buffer.compare(x.txid, y.txid));
        // The double spend is found before the coinbase (which counted one fee) is compared.
        return withTxs(block, [block.txs[0]!, ...sorted]);
      },
    ],
    [
      'BAD_TX',
      'transaction 1: DUST_OUTPUT: output 0 of 999 sat is below the dust limit 1000',
      () =>
        build([
          signTx(
            params,
            {
              inputs: [fundedOutpoint(0)],
              outputs: [pay(key(1), params.dustLimit - 1n), pay(key(0), time(1))],
            },
            [key(0)],
          ),
        ]),
    ],
    [
      'CONFLICTS_FINALIZED',
      'transaction 1 conflicts with a locally finalized transaction',
      () => build(),
      () => context({ finalizedSpender: (o) => (o.vout === 0 ? new Uint8Array(32).fill(5) : undefined) }),
    ],
    [
      'TOO_LARGE',
      /^\d+ bytes exceeds 2000000$/,
      () => {
        const b = build();
        const filler = Array.from({ length: 9_400 }, () => b.txs[1]!);
        return withTxs(b, [b.txs[0]!, ...filler]);
      },
    ],
  ];

  it('the table names every code but MALFORMED (a decode error, tested below)', () => {
    expect(new Set([...cases.map((c) => c[0]), 'MALFORMED'])).toEqual(new Set(BLOCK_ERROR_CODES));
  });

  it.each(cases)('%s: %s', async (code, message, make, ctx) => {
    const f = await failure(make(), ctx?.());
    expect(f === 'OK' ? 'OK' : f.code).toBe(code);
    if (f !== 'OK') {
      const text = f.message.slice(`${code}: `.length);
      if (typeof message === 'string') expect(text).toBe(message);
      else expect(text).toMatch(message);
    }
    if (f !== 'OK') expect(f.scope).toBe(blockFaultScope(code));
  });

  it('issue 12: a Free-tier block for slot 5,000,000,000 with a 1-byte y, an empty π and rank 0 is refused', async () => {
    const free = devnetKeyPair('free tier', 1);
    const freeRecord: MasternodeRecord = {
      nodePubkey: free.publicKey,
      tier: 0,
      collateral: null,
      rewardAddress: free.addressPayload,
      registeredHeight: 0,
      deregisteredHeight: null,
    };
    const withFree = [...active, freeRecord];
    const slot = 5_000_000_000;
    const good = build();
    const forged = withHeader(
      good,
      {
        slot,
        timestampMs: slotStartMs(params, slot),
        beaconY: new Uint8Array(1),
        beaconProof: new Uint8Array(0),
        producerPubkey: free.publicKey,
        rank: 0,
      },
      free,
    );
    expect(await codeOf(forged, context({ activeMasternodes: withFree }))).toBe('BAD_BEACON');
    // With well-formed (but not verified) beacon bytes it is still refused: rank 0 is not the Free node.
    const shaped = withHeader(forged, { beaconY: beacon.y, beaconProof: beacon.proof }, free);
    expect(await codeOf(shaped, context({ activeMasternodes: withFree }))).toBe('WRONG_RANK');
  });

  it('the timestamp must lie in the window of the claimed rank, both edges included/excluded exactly', async () => {
    const w0 = rankWindow(params, SLOT, 0);
    const b = build();
    expect(await codeOf(withHeader(b, { timestampMs: w0.startMs }))).toBe('OK');
    expect(await codeOf(withHeader(b, { timestampMs: w0.endMs - 1 }))).toBe('OK');
    expect(await codeOf(withHeader(b, { timestampMs: w0.startMs - 1 }))).toBe('BAD_TIMESTAMP');
    expect(await codeOf(withHeader(b, { timestampMs: w0.endMs }))).toBe('BAD_TIMESTAMP');
    // The rank-1 leader may not publish inside rank 0's window.
    const r1 = build(undefined, { producer: rank1 });
    expect(await codeOf(withHeader(r1, { timestampMs: w0.startMs }, rank1))).toBe('BAD_TIMESTAMP');
  });

  it('WRONG_RANK: another node claiming rank 0, or a rank without a window in the slot', async () => {
    const r1 = build(undefined, { producer: rank1 });
    expect(await codeOf(withHeader(r1, { rank: 0, timestampMs: slotStartMs(params, SLOT) }, rank1))).toBe(
      'WRONG_RANK',
    );
    // Devnet has 4 windows (2 s / 500 ms): ranks 4+ never produce, even the true rank-4 leader.
    const rank4 = leaderKey(params, active, beacon.y, 4)!;
    const r4 = withHeader(
      r1,
      { rank: 4, producerPubkey: rank4.publicKey, timestampMs: slotStartMs(params, SLOT + 1) },
      rank4,
    );
    expect(await codeOf(r4)).toBe('WRONG_RANK');
    expect(() => build(undefined, { producer: rank4 })).toThrow(
      /^WRONG_RANK: rank \d+ has no publishing window in a slot$/,
    );
  });

  it('BAD_BEACON: the right y with another proof, and a beacon for another anchor', async () => {
    const other = realBeacon(params, SLOT + 5, genesisHash);
    expect(await codeOf(build(undefined, { proof: other.proof }))).toBe('BAD_BEACON');
    // The same slot anchored elsewhere has another y: the block is judged on its own branch's anchor.
    expect(
      await codeOf(
        build(),
        context({ anchorHash: new Uint8Array(32).fill(9), beacons: inlineBeacons(params) }),
      ),
    ).toBe('BAD_BEACON');
  });

  it('a relayed copy with a swapped witness fails as a copy (BAD_WITNESS_ROOT), and the hash stays good', async () => {
    const block = build([spendFunded(0, [pay(key(1), time(3))])]);
    const swapped: Block = { ...block, txs: [block.txs[0]!, corruptWitness(block.txs[1]!)] };
    expect(headerHash(swapped.header)).toEqual(headerHash(block.header));
    const f = await failure(swapped);
    expect(f === 'OK' ? 'OK' : [f.code, f.scope, f.provesHeaderInvalid]).toEqual([
      'BAD_WITNESS_ROOT',
      'copy',
      false,
    ]);
    // The same header with the producer's body is valid: the hash must not have been blacklisted.
    expect(await codeOf(block)).toBe('OK');
  });

  it('a header that commits to a bad witness is invalid for every copy (BAD_TX, header scope)', async () => {
    const bad = corruptWitness(spendFunded(0, [pay(key(1), time(3))]));
    const f = await failure(build([bad]));
    expect(f).toBeInstanceOf(BlockError);
    const e = f as BlockError;
    expect([e.code, e.scope, e.provesHeaderInvalid]).toEqual(['BAD_TX', 'header', true]);
    expect(e.details).toMatchObject({ index: 1, txError: 'BAD_SIGNATURE' });
  });

  it('parse faults are about the bytes only: MALFORMED and an oversize frame are copy faults', () => {
    const bytes = encodeBlock(build());
    const cut = bytes.subarray(0, bytes.length - 1);
    for (const make of [
      () => parseBlock(cut, params),
      () => parseBlock(new Uint8Array(params.maxBlockBytes + 1), params),
    ]) {
      try {
        make();
        expect.unreachable('malformed bytes parsed');
      } catch (err) {
        expect((err as BlockError).scope).toBe('copy');
      }
    }
    // y of a length other than 0 or 256 does not decode.
    const header = { ...build().header, beaconY: new Uint8Array(255) };
    const odd = encodeBlock({ ...build(), header });
    expect(() => parseBlock(odd, params)).toThrow(/MALFORMED/);
  });

  it('every code has a documented scope, and the copy faults are exactly those another body could fix', () => {
    const scopes: Record<BlockFaultScope, BlockErrorCode[]> = { header: [], copy: [], context: [] };
    for (const c of BLOCK_ERROR_CODES) scopes[blockFaultScope(c)].push(c);
    expect(scopes.copy.sort()).toEqual(
      ['BAD_MERKLE_ROOT', 'BAD_SIGNATURE', 'BAD_WITNESS_ROOT', 'MALFORMED', 'TX_COUNT_MISMATCH'].sort(),
    );
    expect(scopes.context).toEqual(['BAD_PREV_HASH']);
  });

  it('a child may precede its parent in txid order inside one block', async () => {
    const parentTx = spendFunded(0, [pay(key(5), time(10))]);
    const children = Array.from({ length: 6 }, (_, i) =>
      signTx(
        params,
        {
          inputs: [{ txid: parentTx.txid, vout: 0 }],
          outputs: [pay(key(6), time(10) - 10_000n - BigInt(i) * 1_000n)],
        },
        [key(5)],
      ),
    );
    // Only one child can be valid (they double-spend); pick one whose txid sorts before the parent's.
    const child = children.find((c) => Buffer.compare(c.txid, parentTx.txid) < 0);
    expect(child, 'a child sorting before its parent exists among 6 tries').toBeDefined();
    const block = build([parentTx, child!]);
    expect(Buffer.compare(block.txs[1]!.txid, block.txs[2]!.txid)).toBeLessThan(0);
    expect(await codeOf(block)).toBe('OK');
    // The order validation checked in is the one the store writes and reverts in: coinbase, parent, child.
    const { order } = await validateBlock(block, context());
    expect(order).toEqual(dependencyOrder(block.txs));
    expect(order.map((t) => t.txid)).toEqual([block.txs[0]!.txid, parentTx.txid, child!.txid]);
  });

  it('assembly respects the size budget and keeps parents with their children', () => {
    const txs = Array.from({ length: 10 }, (_, i) => spendFunded(i, [pay(key(9), time(1))]));
    const block = build(txs);
    expect(block.txs).toHaveLength(11);
    const limit = encodeBlock(build([])).length + txs[0]!.bytes.length * 3 + 10;
    const small = assembleBlock({ ...checkedInputs(txs), params: { ...params, maxBlockBytes: limit } });
    expect(small.txs).toHaveLength(4);
    expect(encodeBlock(small).length).toBeLessThanOrEqual(limit);
  });

  it('assembly refuses what validation would: a producer outside the active set, a short beacon', () => {
    expect(() => build(undefined, { producer: key(3) })).toThrow(
      'UNKNOWN_PRODUCER: this node is not in the active set as of the anchor',
    );
    expect(() => build(undefined, { y: new Uint8Array(32) })).toThrow(
      'BAD_BEACON: beacon y and proof must be 256 bytes',
    );
  });
});

describe('block assembly keeps a child out when its parent does not fit (issue 15)', () => {
  // A parent with many outputs (large) and a child spending one of them (small).
  const parentTx = spendFunded(
    0,
    Array.from({ length: 40 }, () => pay(key(5), time(1))),
  );
  const child = signTx(
    params,
    { inputs: [{ txid: parentTx.txid, vout: 0 }], outputs: [pay(key(6), time(1) - 10_000n)] },
    [key(5)],
  );
  const both = candidates([parentTx, child]);

  it('the fixture: the parent is much larger than the child', () => {
    expect(parentTx.bytes.length).toBeGreaterThan(4 * child.bytes.length);
  });

  it('a budget that fits the child alone selects nothing, in either candidate order', () => {
    expect(selectTransactions(both, child.bytes.length)).toEqual([]);
    expect(selectTransactions([...both].reverse(), child.bytes.length)).toEqual([]);
    // Room for the parent alone: the parent goes in, the child waits for the next block.
    expect(selectTransactions(both, parentTx.bytes.length).map((c) => c.etx.txid)).toEqual([parentTx.txid]);
  });

  it('a budget of exactly parent + child selects both; one byte less drops the child', () => {
    const exact = parentTx.bytes.length + child.bytes.length;
    const sortedIds = [parentTx.txid, child.txid].sort(Buffer.compare);
    expect(selectTransactions(both, exact).map((c) => c.etx.txid)).toEqual(sortedIds);
    expect(selectTransactions(both, exact - 1).map((c) => c.etx.txid)).toEqual([parentTx.txid]);
  });

  it('an assembled block with room for the child but not the parent is valid and holds neither', async () => {
    const small = assembleBlock({
      params: { ...params, maxBlockBytes: encodeBlock(build([])).length + child.bytes.length },
      parent,
      slot: SLOT,
      nowMs: slotStartMs(params, SLOT),
      activeMasternodes: active,
      beaconY: beacon.y,
      beaconProof: beacon.proof,
      producerKey: rank0,
      view: devnetLedger(),
      candidates: both,
    });
    expect(small.txs).toHaveLength(1);
    expect(await codeOf(small)).toBe('OK');
  });
});

describe('rule edges a mutation run of src/chain found untested (issue 15)', () => {
  it('a block of exactly maxBlockBytes is valid; one byte less of limit makes it TOO_LARGE', async () => {
    const b = build();
    const size = encodeBlock(b).length;
    expect(await codeOf(b, context({ params: { ...params, maxBlockBytes: size } }))).toBe('OK');
    expect(await codeOf(b, context({ params: { ...params, maxBlockBytes: size - 1 } }))).toBe('TOO_LARGE');
  });

  it('parseBlock: bytes of exactly the limit decode; one byte over is TOO_LARGE before decoding', () => {
    const bytes = encodeBlock(build());
    expect(headerHash(parseBlock(bytes, { ...params, maxBlockBytes: bytes.length }).header)).toEqual(
      headerHash(build().header),
    );
    for (const data of [bytes, new Uint8Array(bytes.length)]) {
      try {
        parseBlock(data, { ...params, maxBlockBytes: bytes.length - 1 });
        expect.unreachable('oversize bytes parsed');
      } catch (err) {
        expect((err as BlockError).code).toBe('TOO_LARGE');
      }
    }
  });

  it('an empty body is NO_COINBASE, not a crash', async () => {
    expect(await codeOf(withTxs(build(), []))).toBe('NO_COINBASE');
  });

  it('the same transaction twice is UNSORTED_TXS (txids strictly ascending)', async () => {
    const b = build();
    expect(await codeOf(withTxs(b, [b.txs[0]!, b.txs[1]!, b.txs[1]!]))).toBe('UNSORTED_TXS');
  });

  it('a slot whose windows lie beyond any representable time is BAD_SLOT', async () => {
    const f = await failure(withHeader(build(), { slot: 2 ** 50 }));
    expect(f === 'OK' ? f : [f.code, f.message]).toEqual([
      'BAD_SLOT',
      expect.stringMatching(/representable/),
    ]);
  });

  it('exactly minActiveMasternodes active is enough; one fewer is TOO_FEW_MASTERNODES', async () => {
    const few = active.slice(0, params.minActiveMasternodes);
    const leader = leaderKey(params, few, beacon.y, 0)!;
    const block = assembleBlock({
      params,
      parent,
      slot: SLOT,
      nowMs: slotStartMs(params, SLOT) + 10,
      activeMasternodes: few,
      beaconY: beacon.y,
      beaconProof: beacon.proof,
      producerKey: leader,
      view: null,
      candidates: [],
    });
    expect(await codeOf(block, context({ activeMasternodes: few }))).toBe('OK');
    expect(await codeOf(block, context({ activeMasternodes: few.slice(0, -1) }))).toBe('TOO_FEW_MASTERNODES');
  });

  it('assembly decides candidates in txid order, whatever order they come in', () => {
    const txs = [0, 1, 2, 3].map((i) => spendFunded(i, [pay(key(9), time(1))]));
    const byId = [...txs].sort((a, b) => Buffer.compare(a.txid, b.txid));
    const lowest = byId[0]!;
    // Room for one: it is the lowest txid, from any starting order.
    const budget = Math.max(...txs.map((t) => t.bytes.length));
    for (const order of [byId, [...byId].reverse(), [byId[2]!, byId[0]!, byId[3]!, byId[1]!]])
      expect(selectTransactions(candidates(order), budget).map((c) => c.etx.txid)).toEqual([lowest.txid]);
  });

  it('a child with one input from a parent left out and one from the chain is left out too', () => {
    const parentTx = spendFunded(
      0,
      Array.from({ length: 40 }, () => pay(key(5), time(1))),
    );
    const child = signTx(
      params,
      {
        inputs: [{ txid: parentTx.txid, vout: 0 }, fundedOutpoint(1)],
        outputs: [pay(key(6), time(2) - 10_000n)],
      },
      [key(5), key(1)],
    );
    expect(parentTx.bytes.length).toBeGreaterThan(child.bytes.length);
    expect(selectTransactions(candidates([parentTx, child]), child.bytes.length)).toEqual([]);
    expect(selectTransactions(candidates([child, parentTx]), child.bytes.length)).toEqual([]);
  });
});

describe('validateBlock takes the body roots from ctx.roots (the node: the crypto pool)', () => {
  const good = build();
  const real = inlineBlockRoots(good.txs);

  it('the header is compared with what the hasher returns, in the documented order', async () => {
    const swapped: BlockRootHasher = {
      blockRoots: async () => ({ merkleRoot: real.witnessRoot, witnessRoot: real.merkleRoot }),
    };
    expect(await codeOf(good, context({ roots: swapped }))).toBe('BAD_MERKLE_ROOT');
    const witnessOff: BlockRootHasher = {
      blockRoots: async () => ({ merkleRoot: real.merkleRoot, witnessRoot: new Uint8Array(32) }),
    };
    expect(await codeOf(good, context({ roots: witnessOff }))).toBe('BAD_WITNESS_ROOT');
    expect(await codeOf(good, context({ roots: INLINE_BLOCK_ROOTS }))).toBe('OK');
  });

  it('nothing is hashed for a block whose producer signature fails', async () => {
    let calls = 0;
    const counting: BlockRootHasher = {
      blockRoots: async (txs) => {
        calls++;
        return inlineBlockRoots(txs);
      },
    };
    const signature = good.signature.slice();
    signature[3] = signature[3]! ^ 1;
    expect(await codeOf({ ...good, signature }, context({ roots: counting }))).toBe('BAD_SIGNATURE');
    expect(calls).toBe(0);
    expect(await codeOf(good, context({ roots: counting }))).toBe('OK');
    expect(calls).toBe(1);
  });

  it('a hasher that fails while the beacon is refused leaves BAD_BEACON, and no stray rejection', async () => {
    const failing: BlockRootHasher = { blockRoots: () => Promise.reject(new Error('pool closed')) };
    const other = realBeacon(params, 7, genesisHash);
    const wrongBeacon = build(undefined, {
      y: other.y,
      proof: other.proof,
      producer: leaderKey(params, active, other.y, 0)!,
    });
    expect(await codeOf(wrongBeacon, context({ roots: failing }))).toBe('BAD_BEACON');
    await expect(validateBlock(good, context({ roots: failing }))).rejects.toThrow('pool closed');
  });
});

describe('assembleBlockWith: the same block, its roots hashed by the given hasher', () => {
  const inputs = checkedInputs([
    spendFunded(0, [pay(key(1), time(3))]),
    spendFunded(1, [pay(key(2), time(2))]),
  ]);

  it('equals assembleBlock byte for byte with the reference hasher, and validates', async () => {
    const a = encodeBlock(assembleBlock(inputs));
    const withRef = await assembleBlockWith(inputs, INLINE_BLOCK_ROOTS);
    expect(Buffer.from(encodeBlock(withRef))).toEqual(Buffer.from(a));
    expect(await codeOf(withRef)).toBe('OK');
  });

  it('commits to what the hasher returns (so the pool, in the node, is what the header holds)', async () => {
    const fixed: BlockRootHasher = {
      blockRoots: async () => ({
        merkleRoot: new Uint8Array(32).fill(7),
        witnessRoot: new Uint8Array(32).fill(8),
      }),
    };
    const b = await assembleBlockWith(inputs, fixed);
    expect(b.header.merkleRoot).toEqual(new Uint8Array(32).fill(7));
    expect(b.header.witnessRoot).toEqual(new Uint8Array(32).fill(8));
    expect(await codeOf(b)).toBe('BAD_MERKLE_ROOT');
  });
});

/**
 * `work()` awaited, and how many turns the event loop took meanwhile: a tick queued before the work
 * starts runs once per turn the work gives back (ticks queue before its resumptions).
 */
async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work();
  running = false;
  return { result, turns };
}

describe('a full block does not hold the event loop for its whole validation or assembly', () => {
  // One transaction splitting a funded coin, and a child spending each of its outputs: a valid
  // block of more than TXS_PER_TURN transactions.
  const n = TXS_PER_TURN + 50;
  const value = time(1) / 10n;
  const split = spendFunded(
    0,
    Array.from({ length: n }, () => pay(key(1), value)),
    100_000n,
  );
  const signer = new OpenSslSigner(key(1));
  const kids = Array.from({ length: n }, (_, vout) =>
    signer.sign(params, selfSpend(params, key(1), { txid: split.txid, vout }, value - 10_000n)),
  );

  it(`assembleBlockWith lets the loop turn after the sort and every ${TXS_PER_TURN} candidates, and builds assembleBlock's block`, async () => {
    const inputs = checkedInputs([split, ...kids]);
    // Counts the turns of the loop while the block is assembled: none if it ran in one stretch.
    const { result: block, turns } = await loopTurnsDuring(() =>
      assembleBlockWith(inputs, INLINE_BLOCK_ROOTS),
    );
    expect(Buffer.from(encodeBlock(block))).toEqual(Buffer.from(encodeBlock(assembleBlock(inputs))));
    expect(block.txs).toHaveLength(n + 2);
    // A tick runs once per turn the assembly gives the loop (ticks queue before its resumptions):
    // three for n + 1 candidates — after the sort, after the dependency order, after TXS_PER_TURN
    // candidates — not one per candidate, and not none.
    expect(turns).toBe(3);
  });

  it(`the ledger rules let the loop turn after every ${TXS_PER_TURN} transactions`, async () => {
    // Assembled against the ledger, so the coinbase collects the fees each transaction really pays.
    const block = assembleBlock(checkedInputs([split, ...kids]));
    expect(block.txs).toHaveLength(n + 2);
    // The first input the ledger rules look at schedules an immediate; it must run while they
    // still have inputs to look at, not after the last one.
    let looked = 0;
    let ranAfter = -1;
    const ctx = context({
      signaturesVerified: () => true,
      finalizedSpender: () => {
        if (looked++ === 0) setImmediate(() => (ranAfter = looked));
        return undefined;
      },
    });
    const { result, turns } = await loopTurnsDuring(() => failure(block, ctx));
    expect(result).toBe('OK');
    expect(looked).toBe(n + 1);
    expect(ranAfter).toBeGreaterThan(0);
    expect(ranAfter).toBeLessThan(looked);
    // Two turns (the verifier and beacons here answer within the turn): after the body's shape and
    // dependency order, and after TXS_PER_TURN transactions.
    expect(turns).toBe(2);
  });
});

describe('what a refusal names, and what it must not become (mutation run of src/chain, second pass)', () => {
  /** Two independent spends in txid order: `lo` sorts first (index 1), `hi` second (index 2). */
  const [lo, hi] = [spendFunded(0, [pay(key(1), time(3))]), spendFunded(1, [pay(key(2), time(4))])].sort(
    (a, b) => Buffer.compare(a.txid, b.txid),
  ) as [EncodedTx, EncodedTx];

  const registration = signTx(
    params,
    {
      inputs: [fundedOutpoint(4)],
      outputs: [
        pay(key(4), FUNDED - params.freeRegistrationFee - 100_000n),
        { value: params.freeRegistrationFee, address: params.treasuryAddress },
      ],
      payload: registrationPayload(
        params,
        fundedOutpoint(4),
        devnetKeyPair('a node key', 1),
        NO_COLLATERAL,
        key(4).addressPayload,
      ),
    },
    [key(4)],
  );

  const detailCases: [string, () => Block, Record<string, unknown>, (() => BlockValidationContext)?][] = [
    [
      'EXTRA_COINBASE',
      () => {
        const b = build();
        return withTxs(b, [b.txs[0]!, encodeTx({ ...b.txs[0]!.tx, lockTime: 99 })]);
      },
      { index: 1 },
    ],
    [
      'UNSORTED_TXS',
      () => {
        const b = build([lo, hi]);
        return withTxs(b, [b.txs[0]!, hi, lo]);
      },
      { index: 2 },
    ],
    [
      'DOUBLE_SPEND',
      () => {
        const rival = spendFunded(0, [pay(key(2), time(3))]);
        const sorted = [spendFunded(0, [pay(key(1), time(3))]), rival].sort((x, y) =>
          Buffer.compare(x.txid, y.txid),
        );
        return withTxs(build(), [build().txs[0]!, ...sorted]);
      },
      { index: 2 },
    ],
    [
      'CONFLICTS_FINALIZED',
      () => build([lo, hi]),
      { index: 2 },
      () =>
        context({
          finalizedSpender: (o) =>
            bytesEqual(o.txid, hi.tx.inputs[0]!.txid) && o.vout === hi.tx.inputs[0]!.vout
              ? new Uint8Array(32).fill(5)
              : undefined,
        }),
    ],
    [
      'CONFLICTS_FINALIZED',
      () => build([registration]),
      { index: 1 },
      () =>
        context({
          finalizedRegistryChange: (p) => (p.kind === 'register' ? new Uint8Array(32).fill(6) : undefined),
        }),
    ],
    ['BAD_TX', () => build([lo, corruptWitness(hi)]), { index: 2, txError: 'BAD_SIGNATURE' }],
    ['BAD_TX', () => build([corruptWitness(lo), hi]), { index: 1, txError: 'BAD_SIGNATURE' }],
    // Leader mismatch, and a rank with no window (devnet: 4 windows).
    ['WRONG_RANK', () => withHeader(build(), { rank: 1 }), { rank: 1 }],
    [
      'WRONG_RANK',
      () => {
        const rank4 = leaderKey(params, active, beacon.y, 4)!;
        return withHeader(build(), { rank: 4, producerPubkey: rank4.publicKey }, rank4);
      },
      { rank: 4 },
    ],
  ];

  it.each(detailCases)('%s names %o', async (code, make, details, ctx) => {
    const f = await failure(make(), ctx?.());
    expect(f === 'OK' ? 'OK' : [f.code, f.details]).toEqual([code, details]);
  });

  it('a forged input signature is named with its transaction and input', async () => {
    const f = await failure(build([lo, corruptWitness(hi)]));
    expect(f === 'OK' ? 'OK' : f.message).toBe(
      'BAD_TX: transaction 2: BAD_SIGNATURE: input 0 signature is invalid',
    );
  });

  it('a registry change refused for a finalized rival says so (not "spends an outpoint")', async () => {
    const f = await failure(
      build([registration]),
      context({
        finalizedRegistryChange: (p) => (p.kind === 'register' ? new Uint8Array(32).fill(6) : undefined),
      }),
    );
    expect(f === 'OK' ? 'OK' : f.message).toBe(
      'CONFLICTS_FINALIZED: transaction 1 makes a registry change a locally finalized transaction makes',
    );
  });

  it('the messages carry the numbers an operator needs', async () => {
    const b = build();
    const size = encodeBlock(b).length;
    const tooLarge = await failure(b, context({ params: { ...params, maxBlockBytes: size - 1 } }));
    expect(tooLarge === 'OK' ? 'OK' : tooLarge.message).toBe(`TOO_LARGE: ${size} bytes exceeds ${size - 1}`);
    const count = await failure(withHeader(b, { txCount: 5 }));
    expect(count === 'OK' ? 'OK' : count.message).toBe('TX_COUNT_MISMATCH: header says 5, body has 2');
    const rank4 = leaderKey(params, active, beacon.y, 4)!;
    const noWindow = await failure(withHeader(b, { rank: 4, producerPubkey: rank4.publicKey }, rank4));
    expect(noWindow === 'OK' ? 'OK' : noWindow.message).toBe(
      'WRONG_RANK: rank 4 has no publishing window (ranks 0 … 3)',
    );
  });

  it('a storage fault while checking a transaction propagates as itself, not as BAD_TX', async () => {
    const base = devnetLedger();
    const diskFault = new Error('disk read failed');
    const spentByHi = hi.tx.inputs[0]!;
    const failing: LedgerView = {
      tipHeight: () => base.tipHeight(),
      getUtxo: (o) => {
        if (bytesEqual(o.txid, spentByHi.txid) && o.vout === spentByHi.vout) throw diskFault;
        return base.getUtxo(o);
      },
      collateralOwner: (o) => base.collateralOwner(o),
      getMasternode: (k) => base.getMasternode(k),
    };
    const block = build([lo, hi]);
    expect(await codeOf(block)).toBe('OK');
    // Our disk failed, not the block: refusing it as BAD_TX would blame the peer for a valid block.
    await expect(validateBlock(block, context({ view: failing }))).rejects.toBe(diskFault);
  });

  it('a storage fault while assembly checks a candidate propagates too, instead of dropping the candidate', () => {
    const base = devnetLedger();
    const diskFault = new Error('disk read failed');
    const failing: LedgerView = {
      tipHeight: () => base.tipHeight(),
      getUtxo: () => {
        throw diskFault;
      },
      collateralOwner: (o) => base.collateralOwner(o),
      getMasternode: (k) => base.getMasternode(k),
    };
    expect(assembleBlock(checkedInputs([lo, hi])).txs).toHaveLength(3);
    // Skipping it as invalid would hide our fault behind a smaller block.
    expect(() => assembleBlock({ ...checkedInputs([lo, hi]), view: failing })).toThrow(diskFault);
  });

  it('each transaction is judged by its own input signatures, whichever of two is bad', async () => {
    expect(await codeOf(build([lo, hi]))).toBe('OK');
    for (const [txs, index] of [
      [[lo, corruptWitness(hi)], 2],
      [[corruptWitness(lo), hi], 1],
    ] as const) {
      const f = await failure(build([...txs]));
      expect(f === 'OK' ? 'OK' : [f.code, f.details]).toEqual([
        'BAD_TX',
        { index, txError: 'BAD_SIGNATURE' },
      ]);
    }
  });

  it('input signatures started ahead are used for their own body only, and their verdicts count', async () => {
    const bad = build([lo, corruptWitness(hi)]);
    // Work started ahead for this very body: its verdicts are the ones read (the bad one refuses).
    const ahead = startInputSignatures(bad.txs, verifier);
    expect(await codeOf(bad, context({ inputSignatures: ahead }))).toBe('BAD_TX');
    // "Verdicts" claimed for another array, even one holding the same transactions, are ignored:
    // validation starts its own and still finds the bad signature.
    const claimed = {
      txs: [...bad.txs],
      at: new Map(bad.txs.slice(1).map((t, i) => [t, i])),
      results: Promise.resolve(bad.txs.slice(1).map(() => true)),
    };
    expect(await codeOf(bad, context({ inputSignatures: claimed }))).toBe('BAD_TX');
    // And the good body with work started ahead for it is valid.
    const good = build([lo, hi]);
    expect(await codeOf(good, context({ inputSignatures: startInputSignatures(good.txs, verifier) }))).toBe(
      'OK',
    );
  });

  it('signaturesVerified skips exactly the transactions it vouches for, no others', async () => {
    const seen: SignatureItem[] = [];
    const recording: SignatureVerifier = {
      verifyBatch: (items) => {
        seen.push(...items);
        return verifier.verifyBatch(items);
      },
    };
    const block = build([lo, hi]);
    const vouchesForLo = (etx: EncodedTx) => bytesEqual(etx.txid, lo.txid);
    expect(await codeOf(block, context({ verifier: recording, signaturesVerified: vouchesForLo }))).toBe(
      'OK',
    );
    // The producer's signature, then hi's one input: lo's witness is not verified again.
    expect(seen.map((i) => Buffer.from(i.signature).toString('hex'))).toEqual([
      Buffer.from(block.signature).toString('hex'),
      Buffer.from(hi.tx.witnesses[0]!.signature).toString('hex'),
    ]);
    // A transaction it does not vouch for is still verified: its bad witness is found.
    const bad = build([lo, corruptWitness(hi)]);
    const f = await failure(bad, context({ signaturesVerified: vouchesForLo }));
    expect(f === 'OK' ? 'OK' : [f.code, f.details]).toEqual([
      'BAD_TX',
      { index: 2, txError: 'BAD_SIGNATURE' },
    ]);
  });

  it('parseBlock: TOO_LARGE names both sizes; MALFORMED names the decode fault', () => {
    const bytes = encodeBlock(build());
    const caught = (data: Uint8Array, max: number): unknown => {
      try {
        parseBlock(data, { ...params, maxBlockBytes: max });
      } catch (err) {
        return err;
      }
      return 'parsed';
    };
    const big = caught(bytes, bytes.length - 1) as BlockError;
    expect([big.code, big.message, big.scope]).toEqual([
      'TOO_LARGE',
      `TOO_LARGE: ${bytes.length} bytes exceeds ${bytes.length - 1}`,
      'copy',
    ]);
    const cut = caught(bytes.subarray(0, bytes.length - 1), bytes.length) as BlockError;
    expect([cut.code, cut.details, cut.scope]).toEqual(['MALFORMED', { decode: 'TRUNCATED' }, 'copy']);
  });

  it('parseBlock: a fault that is not a malformation of the bytes propagates as itself, not MALFORMED', () => {
    // Bytes whose buffer was already transferred (to a worker, say): reading them fails with a
    // TypeError. That is this node's bug, not the sender's; MALFORMED would blame and ban the peer.
    const bytes = new Uint8Array(encodeBlock(build()));
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    let thrown: unknown;
    try {
      parseBlock(bytes, params);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).not.toBeInstanceOf(BlockError);
  });
});

describe('checkHeaderRules on its own (what the producer runs before signing)', () => {
  const header = build().header;
  const ctx = { params, parent, activeMasternodes: active };
  const codeOfHeader = (h: BlockHeader): string => {
    try {
      checkHeaderRules(h, ctx);
      return 'OK';
    } catch (err) {
      return (err as BlockError).message;
    }
  };

  it('y and π must each be exactly 256 bytes, checked separately', () => {
    expect(codeOfHeader(header)).toBe('OK');
    const y = header.beaconY;
    const proof = header.beaconProof;
    const grown = (b: Uint8Array) => new Uint8Array([...b, 0]);
    for (const [h, got] of [
      [{ ...header, beaconY: y.subarray(0, 255) }, '255 and 256'],
      [{ ...header, beaconY: grown(y) }, '257 and 256'],
      [{ ...header, beaconProof: proof.subarray(0, 255) }, '256 and 255'],
      [{ ...header, beaconProof: grown(proof) }, '256 and 257'],
    ] as const)
      expect(codeOfHeader(h)).toBe(`BAD_BEACON: beacon y and proof must be 256 bytes, got ${got}`);
  });

  it('the numbers an operator needs are in the message', () => {
    const w = rankWindow(params, SLOT, 0);
    for (const [h, c, message] of [
      [{ ...header, height: 5 }, ctx, 'BAD_HEIGHT: height 5 after 0'],
      [
        header,
        { ...ctx, parent: { ...parent, slot: SLOT } },
        `BAD_SLOT: slot ${SLOT} is not after the parent's slot ${SLOT}`,
      ],
      [
        header,
        { ...ctx, activeMasternodes: active.slice(0, 2) },
        `TOO_FEW_MASTERNODES: 2 active, ${params.minActiveMasternodes} needed`,
      ],
      [
        { ...header, timestampMs: w.endMs },
        ctx,
        `BAD_TIMESTAMP: timestamp ${w.endMs} is outside rank 0's window [${w.startMs}, ${w.endMs}) of slot ${SLOT}`,
      ],
    ] as const) {
      expect(() => checkHeaderRules(h, c)).toThrow(message);
    }
  });

  it('a masternode record of an unknown tier is a RangeError naming the tier', () => {
    const odd: MasternodeRecord = { ...active[0]!, tier: 9 };
    expect(() => rankingWeights(params, [odd])).toThrow(
      new RangeError('masternode record with unknown tier 9'),
    );
    expect(rankingWeights(params, active).map((w) => w.weight)).toEqual(
      active.map((m) => params.tiers[m.tier]!.weight),
    );
  });
});

describe('assembly refuses a wrong beacon length or a rank without a window before choosing or hashing anything', () => {
  const rank4 = leaderKey(params, active, beacon.y, 4)!;
  const rank3 = leaderKey(params, active, beacon.y, 3)!;

  /** The code and details assembleBlockWith refuses with, and how many bodies it hashed first. */
  async function refusal(change: Partial<AssemblyInputs>): Promise<[string, unknown, number] | 'OK'> {
    let hashed = 0;
    const counting: BlockRootHasher = {
      blockRoots: async (txs) => {
        hashed++;
        return inlineBlockRoots(txs);
      },
    };
    try {
      await assembleBlockWith(
        { ...checkedInputs([spendFunded(0, [pay(key(1), time(3))])]), ...change },
        counting,
      );
      return 'OK';
    } catch (err) {
      if (!(err instanceof BlockError)) throw err;
      return [err.code, err.details, hashed];
    }
  }

  it('the last rank with a window assembles a valid block; the first without one is WRONG_RANK', async () => {
    const last = await assembleBlockWith({ ...checkedInputs([]), producerKey: rank3 }, INLINE_BLOCK_ROOTS);
    expect(last.header.rank).toBe(3);
    expect(await codeOf(last)).toBe('OK');
    expect(await refusal({ producerKey: rank4 })).toEqual(['WRONG_RANK', { rank: 4 }, 0]);
  });

  it('y or π of the wrong length is BAD_BEACON, each checked on its own, before ranking', async () => {
    // A y of the wrong length is a BlockError before the leader ranking refuses it (RankingError).
    expect(await refusal({ beaconY: beacon.y.subarray(0, 255) })).toEqual(['BAD_BEACON', {}, 0]);
    expect(await refusal({ beaconY: new Uint8Array(257) })).toEqual(['BAD_BEACON', {}, 0]);
    // With the right y, a rank-4 producer: only the proof's length check can name the fault
    // BAD_BEACON (the rank check that follows would say WRONG_RANK).
    expect(await refusal({ beaconProof: beacon.proof.subarray(0, 255), producerKey: rank4 })).toEqual([
      'BAD_BEACON',
      {},
      0,
    ]);
    expect(await refusal({ beaconProof: new Uint8Array(257), producerKey: rank4 })).toEqual([
      'BAD_BEACON',
      {},
      0,
    ]);
    expect(await refusal({})).toBe('OK');
  });
});
