import { describe, expect, it } from 'vitest';
import { assembleBlock, type BlockCandidate } from '../../../src/chain/block-assembly.js';
import { BLOCK_ERROR_CODES, BlockError, type BlockErrorCode } from '../../../src/chain/block-errors.js';
import { type BlockValidationContext, validateBlock } from '../../../src/chain/block-validation.js';
import { devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { slotStartMs } from '../../../src/chain/slot-time.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import { time } from '../../../src/params/units.js';
import {
  type Block,
  type BlockHeader,
  decodeBlock,
  encodeBlock,
  headerHash,
} from '../../../src/protocol/block.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import { headerSigMessage } from '../../../src/protocol/signing.js';
import { type EncodedTx, encodeTx } from '../../../src/protocol/tx-codec.js';
import { sign } from '../../../src/wallet/keys.js';
import { signTx } from '../../../src/wallet/tx-builder.js';
import {
  devnetLedger,
  fundedOutpoint,
  genesisMasternodes,
  key,
  params,
  pay,
  spendFunded,
} from '../../support/devnet-ledger.js';

const genesis = genesisBlock(params);
const producer = devnetMasternodes()[0]!;
const verifier = new NobleVerifier();

function context(over: Partial<BlockValidationContext> = {}): BlockValidationContext {
  const ledger = devnetLedger();
  return {
    params,
    parent: { hash: headerHash(genesis.header), height: 0, slot: 0 },
    view: ledger,
    activeMasternodes: genesisMasternodes(ledger),
    verifier,
    ...over,
  };
}

function candidates(txs: EncodedTx[], fee = 10_000n): BlockCandidate[] {
  return txs.map((etx) => ({ etx, fee }));
}

function build(txs: EncodedTx[] = [spendFunded(0, [pay(key(1), time(3))])], slot = 1): Block {
  const ledger = devnetLedger();
  return assembleBlock({
    params,
    parent: { hash: headerHash(genesis.header), height: 0, slot: 0 },
    slot,
    timestampMs: slotStartMs(params, slot) + 10,
    beaconY: new Uint8Array(256).fill(7),
    beaconProof: new Uint8Array(256).fill(9),
    rank: 0,
    producerKey: producer.nodeKey,
    producerRewardAddress: producer.ownerKey.addressPayload,
    activeMasternodes: genesisMasternodes(ledger),
    candidates: candidates(txs),
  });
}

/** Re-sign after changing the header, so only the rule under test can fail. */
function withHeader(
  block: Block,
  change: Partial<BlockHeader>,
  txs: readonly EncodedTx[] = block.txs,
): Block {
  const header = { ...block.header, ...change };
  return { header, txs, signature: sign(headerSigMessage(headerHash(header)), producer.nodeKey.secretKey) };
}

/** Replace the body, fixing merkle root and count, and re-sign. */
function withTxs(block: Block, txs: EncodedTx[]): Block {
  return withHeader(block, { merkleRoot: merkleRoot(txs.map((t) => t.txid)), txCount: txs.length }, txs);
}

async function codeOf(block: Block, ctx = context()): Promise<BlockErrorCode | 'OK'> {
  try {
    await validateBlock(block, ctx);
    return 'OK';
  } catch (err) {
    if (err instanceof BlockError) return err.code;
    throw err;
  }
}

describe('block validity rules', () => {
  it('accepts an assembled block, and the same block after an encode/decode round trip', async () => {
    const block = build([spendFunded(0, [pay(key(1), time(3))]), spendFunded(1, [pay(key(2), time(4))])]);
    expect(await codeOf(block)).toBe('OK');
    const bytes = encodeBlock(block);
    expect(await codeOf(decodeBlock(bytes, params.maxBlockBytes))).toBe('OK');
    const result = await validateBlock(block, context());
    expect(result.fees).toBe(20_000n);
    expect(result.hash).toEqual(headerHash(block.header));
  });

  const cases: [BlockErrorCode, () => Block, (() => BlockValidationContext)?][] = [
    ['UNSUPPORTED_VERSION', () => withHeader(build(), { version: 2 })],
    ['WRONG_CHAIN', () => withHeader(build(), { chainId: 1 })],
    ['BAD_HEIGHT', () => withHeader(build(), { height: 2 })],
    ['BAD_PREV_HASH', () => withHeader(build(), { prevHash: new Uint8Array(32).fill(1) })],
    ['BAD_SLOT', () => build(undefined, 1), () => context({ parent: { ...context().parent, slot: 1 } })],
    ['BAD_TIMESTAMP', () => withHeader(build(), { timestampMs: slotStartMs(params, 2) })],
    ['TX_COUNT_MISMATCH', () => withHeader(build(), { txCount: 5 })],
    ['BAD_MERKLE_ROOT', () => withHeader(build(), { merkleRoot: new Uint8Array(32) })],
    ['NO_COINBASE', () => withTxs(build(), build().txs.slice(1))],
    [
      'EXTRA_COINBASE',
      () => {
        const b = build();
        return withTxs(b, [b.txs[0]!, encodeTx({ ...b.txs[0]!.tx, lockTime: 99 })]);
      },
    ],
    [
      'BAD_COINBASE',
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
      () => {
        const b = build([spendFunded(0, [pay(key(1), time(3))]), spendFunded(1, [pay(key(2), time(4))])]);
        return withTxs(b, [b.txs[0]!, b.txs[2]!, b.txs[1]!]);
      },
    ],
    [
      'DOUBLE_SPEND',
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
      () => build(),
      () => context({ finalizedSpender: (o) => (o.vout === 0 ? new Uint8Array(32).fill(5) : undefined) }),
    ],
    [
      'TOO_FEW_MASTERNODES',
      () => build(),
      () => context({ activeMasternodes: genesisMasternodes(devnetLedger()).slice(0, 2) }),
    ],
    ['UNKNOWN_PRODUCER', () => withHeader(build(), { producerPubkey: key(3).publicKey })],
    [
      'BAD_SIGNATURE',
      () => {
        const b = build();
        const signature = b.signature.slice();
        signature[0] = signature[0]! ^ 1;
        return { ...b, signature };
      },
    ],
    [
      'TOO_LARGE',
      () => {
        const b = build();
        const filler = Array.from({ length: 9_400 }, () => b.txs[1]!);
        return withTxs(b, [b.txs[0]!, ...filler]);
      },
    ],
  ];

  it('the table names every code but MALFORMED (a decode error, tested with the codec)', () => {
    expect([...cases.map((c) => c[0]), 'MALFORMED'].sort()).toEqual([...BLOCK_ERROR_CODES].sort());
  });

  it.each(cases)('%s', async (code, make, ctx) => {
    expect(await codeOf(make(), ctx?.())).toBe(code);
  });

  it('a bad witness signature inside the batch is reported as BAD_TX with the tx index', async () => {
    const good = spendFunded(0, [pay(key(1), time(3))]);
    const sig = good.tx.witnesses[0]!.signature.slice();
    sig[10] = sig[10]! ^ 4;
    const bad = encodeTx({
      ...good.tx,
      witnesses: [{ pubkey: good.tx.witnesses[0]!.pubkey, signature: sig }],
    });
    try {
      await validateBlock(build([bad]), context());
      expect.unreachable('block with a forged witness was accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(BlockError);
      expect((err as BlockError).code).toBe('BAD_TX');
      expect((err as BlockError).details).toMatchObject({ index: 1, txError: 'BAD_SIGNATURE' });
    }
  });

  it('a child may precede its parent in txid order inside one block', async () => {
    const parent = spendFunded(0, [pay(key(5), time(10))]);
    const children = Array.from({ length: 6 }, (_, i) =>
      signTx(
        params,
        {
          inputs: [{ txid: parent.txid, vout: 0 }],
          outputs: [pay(key(6), time(10) - 10_000n - BigInt(i) * 1_000n)],
        },
        [key(5)],
      ),
    );
    // Only one child can be valid (they double-spend); pick one whose txid sorts before the parent's.
    const child = children.find((c) => Buffer.compare(c.txid, parent.txid) < 0);
    expect(child, 'a child sorting before its parent exists among 6 tries').toBeDefined();
    const block = build([parent, child!]);
    expect(Buffer.compare(block.txs[1]!.txid, block.txs[2]!.txid)).toBeLessThan(0);
    expect(await codeOf(block)).toBe('OK');
  });

  it('assembly respects the size budget and keeps parents with their children', () => {
    const txs = Array.from({ length: 10 }, (_, i) => spendFunded(i, [pay(key(9), time(1))]));
    const block = build(txs);
    expect(block.txs).toHaveLength(11);
    const small = assembleBlock({
      params: { ...params, maxBlockBytes: encodeBlock(build([])).length + txs[0]!.bytes.length * 3 + 10 },
      parent: { hash: headerHash(genesis.header), height: 0, slot: 0 },
      slot: 1,
      timestampMs: slotStartMs(params, 1),
      beaconY: new Uint8Array(256).fill(7),
      beaconProof: new Uint8Array(256).fill(9),
      rank: 0,
      producerKey: producer.nodeKey,
      producerRewardAddress: producer.ownerKey.addressPayload,
      activeMasternodes: genesisMasternodes(devnetLedger()),
      candidates: candidates(txs),
    });
    expect(small.txs).toHaveLength(4);
    expect(encodeBlock(small).length).toBeLessThanOrEqual(
      encodeBlock(build([])).length + txs[0]!.bytes.length * 3 + 10,
    );
  });
});
