import type { SignatureItem, SignatureVerifier } from '../crypto/signature-verifier.js';
import { DecodeError } from '../encoding/byte-reader.js';
import { bytesEqual, compareBytes } from '../encoding/bytes.js';
import { dependencyOrder } from '../ledger/dependency-order.js';
import { LedgerOverlay } from '../ledger/ledger-overlay.js';
import type { LedgerView, MasternodeRecord } from '../ledger/ledger-state.js';
import { outpointStringKey } from '../ledger/map-keys.js';
import { TxError } from '../ledger/tx-errors.js';
import {
  checkTxAgainstLedger,
  checkTxStructure,
  type LedgerCheck,
  requireValidSignatures,
} from '../ledger/tx-validation.js';
import type { ChainParams } from '../params/chain-params.js';
import { BLOCK_VERSION, type Block, blockSize, decodeBlock, headerHash } from '../protocol/block.js';
import { merkleRoot } from '../protocol/merkle.js';
import { headerSigMessage } from '../protocol/signing.js';
import type { OutPoint } from '../protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../protocol/tx-codec.js';
import { BlockError } from './block-errors.js';
import { coinbaseTx } from './reward.js';
import { slotStartMs } from './slot-time.js';

export interface ParentInfo {
  readonly hash: Uint8Array;
  readonly height: number;
  readonly slot: number;
}

export interface BlockValidationContext {
  readonly params: ChainParams;
  readonly parent: ParentInfo;
  /** Ledger state at the parent block. */
  readonly view: LedgerView;
  /** Active masternodes as of the slot's anchor block: the producer set and the reward recipients. */
  readonly activeMasternodes: readonly MasternodeRecord[];
  readonly verifier: SignatureVerifier;
  /** The locally finalized transaction spending an outpoint, if any (never accept a conflict). */
  readonly finalizedSpender?: (outpoint: OutPoint) => Uint8Array | undefined;
}

export interface ValidatedBlock {
  readonly hash: Uint8Array;
  readonly fees: bigint;
}

/** Header and body rules that need neither the ledger nor signatures. */
function checkShape(block: Block, ctx: BlockValidationContext): void {
  const { header: h, txs } = block;
  const { params, parent } = ctx;
  if (h.version !== BLOCK_VERSION) throw new BlockError('UNSUPPORTED_VERSION', `version ${h.version}`);
  if (h.chainId !== params.chainId) throw new BlockError('WRONG_CHAIN', `chain id ${h.chainId}`);
  const size = blockSize(block);
  if (size > params.maxBlockBytes)
    throw new BlockError('TOO_LARGE', `${size} bytes exceeds ${params.maxBlockBytes}`);
  if (h.height !== parent.height + 1)
    throw new BlockError('BAD_HEIGHT', `height ${h.height} after ${parent.height}`);
  if (!bytesEqual(h.prevHash, parent.hash))
    throw new BlockError('BAD_PREV_HASH', 'prev hash is not the parent');
  if (!Number.isSafeInteger(h.slot) || h.slot <= parent.slot) {
    throw new BlockError('BAD_SLOT', `slot ${h.slot} is not after the parent's slot ${parent.slot}`);
  }
  const start = slotStartMs(params, h.slot);
  if (h.timestampMs < start || h.timestampMs >= start + params.slotMs) {
    throw new BlockError('BAD_TIMESTAMP', `timestamp ${h.timestampMs} is outside slot ${h.slot}`);
  }
  if (h.txCount !== txs.length)
    throw new BlockError('TX_COUNT_MISMATCH', `header says ${h.txCount}, body has ${txs.length}`);
  if (!bytesEqual(h.merkleRoot, merkleRoot(txs.map((t) => t.txid)))) {
    throw new BlockError('BAD_MERKLE_ROOT', 'merkle root does not match the transactions');
  }
  if (txs.length === 0 || txs[0]!.tx.inputs.length !== 0)
    throw new BlockError('NO_COINBASE', 'first transaction must be the coinbase');
  for (let i = 1; i < txs.length; i++) {
    if (txs[i]!.tx.inputs.length === 0)
      throw new BlockError('EXTRA_COINBASE', `transaction ${i} has no inputs`, { index: i });
    if (i > 1 && compareBytes(txs[i - 1]!.txid, txs[i]!.txid) >= 0) {
      throw new BlockError('UNSORTED_TXS', `transaction ${i} is not in ascending txid order`, { index: i });
    }
  }
}

/**
 * Every block rule that needs no network (issue 2 item 7): structure, size, linkage, slot and
 * timestamp, merkle root, coinbase exactness (the same coinbaseTx() the producer uses), each
 * transaction's validity against the parent state plus the block's own earlier outputs, no
 * double spend inside the block, no conflict with locally finalized transactions, and the
 * producer's signature. Beacon and rank checks belong to the VDF layer.
 */
export async function validateBlock(block: Block, ctx: BlockValidationContext): Promise<ValidatedBlock> {
  checkShape(block, ctx);
  const { params, activeMasternodes } = ctx;
  const { header: h, txs } = block;
  if (activeMasternodes.length < params.minActiveMasternodes) {
    throw new BlockError(
      'TOO_FEW_MASTERNODES',
      `${activeMasternodes.length} active, ${params.minActiveMasternodes} needed`,
    );
  }
  const producer = activeMasternodes.find((m) => bytesEqual(m.nodePubkey, h.producerPubkey));
  if (!producer) throw new BlockError('UNKNOWN_PRODUCER', 'the producer is not an active masternode');

  const overlay = new LedgerOverlay(ctx.view, params, h.height);
  const spentInBlock = new Set<string>();
  const signatures: SignatureItem[] = [];
  const checks: { etx: EncodedTx; check: LedgerCheck; first: number }[] = [];
  const indexOf = new Map<EncodedTx, number>(txs.map((t, i) => [t, i]));
  let fees = 0n;
  for (const etx of dependencyOrder(txs.slice(1))) {
    const index = indexOf.get(etx)!;
    for (const input of etx.tx.inputs) {
      const k = outpointStringKey(input);
      if (spentInBlock.has(k))
        throw new BlockError(
          'DOUBLE_SPEND',
          `transaction ${index} spends an outpoint already spent in this block`,
          { index },
        );
      spentInBlock.add(k);
      const finalizedBy = ctx.finalizedSpender?.(input);
      if (finalizedBy && !bytesEqual(finalizedBy, etx.txid)) {
        throw new BlockError(
          'CONFLICTS_FINALIZED',
          `transaction ${index} conflicts with a locally finalized transaction`,
          { index },
        );
      }
    }
    let check: LedgerCheck;
    try {
      checkTxStructure(etx, params);
      check = checkTxAgainstLedger(etx, overlay, params, h.height);
    } catch (err) {
      if (err instanceof TxError)
        throw new BlockError('BAD_TX', `transaction ${index}: ${err.message}`, { index, txError: err.code });
      throw err;
    }
    overlay.apply(etx);
    checks.push({ etx, check, first: signatures.length });
    signatures.push(...check.signatures);
    fees += check.fee;
  }

  const expected = encodeTx(
    coinbaseTx(params, {
      height: h.height,
      beaconY: h.beaconY,
      producerRewardAddress: producer.rewardAddress,
      fees,
      activeMasternodes,
    }),
  );
  if (!bytesEqual(expected.bytes, txs[0]!.bytes)) {
    throw new BlockError(
      'BAD_COINBASE',
      'coinbase differs from the reward rule (outputs, lock time or payload)',
    );
  }

  const hash = headerHash(h);
  const producerIndex = signatures.length;
  signatures.push({
    publicKey: h.producerPubkey,
    message: headerSigMessage(hash),
    signature: block.signature,
  });
  const results = await ctx.verifier.verifyBatch(signatures);
  if (results[producerIndex] !== true) throw new BlockError('BAD_SIGNATURE', 'producer signature is invalid');
  for (const { etx, check, first } of checks) {
    try {
      requireValidSignatures(etx, check, results.slice(first, first + check.signatures.length));
    } catch (err) {
      const index = indexOf.get(etx)!;
      if (err instanceof TxError)
        throw new BlockError('BAD_TX', `transaction ${index}: ${err.message}`, { index, txError: err.code });
      throw err;
    }
  }
  return { hash, fees };
}

/** Decodes untrusted block bytes; oversize becomes TOO_LARGE, any other malformation MALFORMED. */
export function parseBlock(bytes: Uint8Array, params: ChainParams): Block {
  if (bytes.length > params.maxBlockBytes) {
    throw new BlockError('TOO_LARGE', `${bytes.length} bytes exceeds ${params.maxBlockBytes}`);
  }
  try {
    return decodeBlock(bytes, params.maxBlockBytes);
  } catch (err) {
    if (err instanceof DecodeError) throw new BlockError('MALFORMED', err.message, { decode: err.code });
    throw err;
  }
}
