import type { BeaconVerifier } from '../beacon/verified-beacons.js';
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
import { type Block, blockSize, decodeBlock, headerHash } from '../protocol/block.js';
import { type BlockRootHasher, type BlockRoots, INLINE_BLOCK_ROOTS } from '../protocol/block-roots.js';
import { headerSigMessage, txSigMessage } from '../protocol/signing.js';
import type { OutPoint, TxPayload } from '../protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../protocol/tx-codec.js';
import { yieldToLoop } from '../util/yield-to-loop.js';
import { BlockError } from './block-errors.js';
import { checkHeaderRules, type HeaderContext, type ParentInfo } from './header-rules.js';
import { coinbaseTx } from './reward.js';

export type { ParentInfo } from './header-rules.js';

/**
 * What the chain fixes for a block's slot. The node fills it from the block's OWN branch (the
 * parent named by prevHash and its ancestors), never from its current tip: another branch has
 * another anchor and maybe another active set.
 */
export interface SlotContext {
  /** The slot's anchor: the newest block of the branch with slot < s − 1 (`selectAnchor`). */
  readonly anchorHash: Uint8Array;
  /**
   * The active set as of the anchor block (`ChainStore.activeMasternodes(anchor height)`): the
   * producers, their ranks and the tier-pool payees.
   */
  readonly activeMasternodes: readonly MasternodeRecord[];
  /** Beacon verification; the node backs it with the crypto pool and a `VerifiedBeacons` cache. */
  readonly beacons: BeaconVerifier;
}

export interface BlockValidationContext extends SignedBlockContext {
  /** Ledger state at the parent block. */
  readonly view: LedgerView;
  /** The locally finalized transaction spending an outpoint, if any (never accept a conflict). */
  readonly finalizedSpender?: (outpoint: OutPoint) => Uint8Array | undefined;
  /** The locally finalized transaction making this registry change (same kind and node key), if any. */
  readonly finalizedRegistryChange?: (payload: TxPayload) => Uint8Array | undefined;
  /**
   * True when these exact transaction bytes already had every signature verified here (the node's
   * mempool admitted them, or a block carrying them was validated): their signatures are not
   * verified again. Whether a signature verifies is a function of the transaction bytes alone
   * (message = its txid under the chain id, keys and signatures in its witnesses; the key-to-address
   * rules still run below), so the verdict cannot change, only the work is saved — Bitcoin Core's
   * signature cache. A producer's own block, and a live block of transactions this node polled,
   * then cost no signature work at all.
   */
  readonly signaturesVerified?: (etx: EncodedTx) => boolean;
  /**
   * The input signatures of this block's body already handed to the verifier
   * (startInputSignatures, by sync before the block's turn); used only when built from this very
   * `txs` array, otherwise validation starts its own.
   */
  readonly inputSignatures?: InputSignatureWork;
}

/**
 * Transactions whose ledger rules are checked between two turns of the event loop: ~30 ms of work
 * on the reference machine, so a full block (~9,400 transactions) never holds the coordinator's
 * polls, votes and RPC for its whole validation. Only this block's own overlay changes in between,
 * and the node validates inside LedgerService's write queue, so the committed state it reads does
 * not move.
 */
export const TXS_PER_TURN = 1_024;

/**
 * A block body's input signatures on their way through the verifier: one item per input of every
 * transaction after the coinbase, except transactions `signaturesVerified` vouches for; `at` maps
 * each covered transaction to its first item, `results` is the verifier's answer in item order.
 */
export interface InputSignatureWork {
  readonly txs: readonly EncodedTx[];
  readonly at: ReadonlyMap<EncodedTx, number>;
  readonly results: Promise<boolean[]>;
}

/**
 * Hands a body's input signatures to `verifier` (validateBlock's first step on them). Sync calls
 * it for a fetched block before the block's turn, so the pool verifies block N+1 while block N's
 * ledger rules run and its write commits; whether each tx may be skipped is decided now, and any
 * answer of `signaturesVerified` is sound at any later time (its verdicts depend on bytes only).
 */
export function startInputSignatures(
  txs: readonly EncodedTx[],
  verifier: SignatureVerifier,
  signaturesVerified?: (etx: EncodedTx) => boolean,
): InputSignatureWork {
  const items: SignatureItem[] = [];
  const at = new Map<EncodedTx, number>();
  for (let i = 1; i < txs.length; i++) {
    const etx = txs[i]!;
    if (signaturesVerified?.(etx) === true) continue;
    at.set(etx, items.length);
    const message = txSigMessage(etx.tx.chainId, etx.txid);
    for (let j = 0; j < etx.tx.inputs.length; j++) {
      const w = etx.tx.witnesses[j];
      // A missing witness fails the structure rules before any result is read.
      if (w) items.push({ publicKey: w.pubkey, message, signature: w.signature });
    }
  }
  return { txs, at, results: verifier.verifyBatch(items) };
}

export interface ValidatedBlock {
  readonly hash: Uint8Array;
  readonly fees: bigint;
  /**
   * The body in the order it was checked: the coinbase, then `dependencyOrder` of the rest. This is
   * `dependencyOrder(block.txs)` (the coinbase has no inputs, and a valid body holds no txid twice),
   * the order the store writes the block and its undo record in; the write takes it from here
   * instead of deriving it again (~5 ms a full block).
   */
  readonly order: readonly EncodedTx[];
}

/** The body against its header: count and both roots. A mismatch proves only this copy wrong. */
function checkBodyMatchesHeader(block: Block, roots: BlockRoots): void {
  const { header: h, txs } = block;
  if (h.txCount !== txs.length)
    throw new BlockError('TX_COUNT_MISMATCH', `header says ${h.txCount}, body has ${txs.length}`);
  if (!bytesEqual(h.merkleRoot, roots.merkleRoot))
    throw new BlockError('BAD_MERKLE_ROOT', 'merkle root does not match the transactions');
  if (!bytesEqual(h.witnessRoot, roots.witnessRoot))
    throw new BlockError('BAD_WITNESS_ROOT', 'witness root does not match the transactions');
}

/** Body rules that need neither the ledger nor signatures (the body is the committed one by now). */
function checkBodyShape(block: Block, params: ChainParams): void {
  const { txs } = block;
  const size = blockSize(block);
  if (size > params.maxBlockBytes)
    throw new BlockError('TOO_LARGE', `${size} bytes exceeds ${params.maxBlockBytes}`);
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

/** What `checkSignedBlock` reads: the header rules' context, the slot's anchor and beacons, the verifier. */
export interface SignedBlockContext extends HeaderContext, SlotContext {
  readonly verifier: SignatureVerifier;
  /**
   * Who hashes the body's two roots (the node: the crypto pool, off the event loop). Default: the
   * JavaScript reference on this thread.
   */
  readonly roots?: BlockRootHasher;
}

/**
 * The first rules of `validateBlock`, in its order: the header fields, rank and rank window
 * (checkHeaderRules); the producer signature (one verification, before any expensive work, so only
 * a key holder can make us run the VDF or hash a body); the beacon for (slot, anchor); the body
 * against the header's count and roots. Passing them proves the block is the one the slot's leader
 * at that rank signed, and costs a sender without that key one signature verification. The node
 * runs them alone on a received block before it holds the block for its transactions' finality
 * (docs/protocol.md "Holding a block"). Returns the header hash.
 */
export async function checkSignedBlock(block: Block, ctx: SignedBlockContext): Promise<Uint8Array> {
  const { header: h, txs } = block;
  checkHeaderRules(h, ctx);

  const hash = headerHash(h);
  const [producerSigOk] = await ctx.verifier.verifyBatch([
    { publicKey: h.producerPubkey, message: headerSigMessage(hash), signature: block.signature },
  ]);
  if (producerSigOk !== true) throw new BlockError('BAD_SIGNATURE', 'producer signature is invalid');

  // Only now, behind the producer's signature, is the body worth hashing: the roots are computed
  // (in the pool, for the node) while the beacon is checked, and compared in the documented order.
  const rootsOfBody = (ctx.roots ?? INLINE_BLOCK_ROOTS).blockRoots(txs);
  rootsOfBody.catch(() => undefined); // a bad beacon may end validation before it is awaited
  const beaconOk = await ctx.beacons.verify({
    slot: h.slot,
    anchorHash: ctx.anchorHash,
    y: h.beaconY,
    proof: h.beaconProof,
  });
  if (!beaconOk)
    throw new BlockError('BAD_BEACON', `y and π are not the beacon of slot ${h.slot} on this branch`);
  checkBodyMatchesHeader(block, await rootsOfBody);
  return hash;
}

/**
 * Every block rule (DESIGN §6, issue 12), one function for producer and validator, in the order of
 * docs/protocol.md "Block rules": first `checkSignedBlock` (header fields, rank and rank window,
 * producer signature, beacon for (slot, anchor), the body against the header's count and roots);
 * then size, coinbase position, txid order, each transaction against the parent state plus the
 * block's own earlier outputs, no double spend, no conflict with locally finalized transactions,
 * the coinbase exactly as the reward rule dictates, and every witness signature (one batch; those
 * of transactions whose exact bytes were verified here before are skipped, `signaturesVerified`).
 * The thrown BlockError's `scope` says whether the header hash may be remembered as invalid.
 */
export async function validateBlock(block: Block, ctx: BlockValidationContext): Promise<ValidatedBlock> {
  const { params, activeMasternodes } = ctx;
  const { header: h, txs } = block;
  const hash = await checkSignedBlock(block, ctx);
  checkBodyShape(block, params);
  const producer = activeMasternodes.find((m) => bytesEqual(m.nodePubkey, h.producerPubkey))!;

  // Input signatures depend on the transaction bytes alone (each witness key and signature over
  // the txid): the pool starts on them now (or started earlier, `inputSignatures`) and verifies
  // while the ledger rules run here. Which items are verified, and which fault is reported first,
  // stay as documented: the results are read only after every ledger rule and the coinbase passed.
  const work =
    ctx.inputSignatures?.txs === txs
      ? ctx.inputSignatures
      : startInputSignatures(txs, ctx.verifier, ctx.signaturesVerified);
  const inputsAt = work.at;
  const inputResults = work.results;
  inputResults.catch(() => undefined); // a ledger fault may end validation before it is awaited

  const overlay = new LedgerOverlay(ctx.view, params, h.height);
  const spentInBlock = new Set<string>();
  /** Signatures the ledger rules add besides the inputs' (a masternode payload's node key). */
  const signatures: SignatureItem[] = [];
  const checks: { etx: EncodedTx; check: LedgerCheck; first: number }[] = [];
  const indexOf = new Map<EncodedTx, number>(txs.map((t, i) => [t, i]));
  let fees = 0n;
  let checked = 0;
  const order = [txs[0]!, ...dependencyOrder(txs.slice(1))];
  // Everything above over a full body (its shape, its signature lookups, the order) is ~50-100 ms.
  await yieldToLoop();
  for (let o = 1; o < order.length; o++) {
    const etx = order[o]!;
    if (++checked % TXS_PER_TURN === 0) await yieldToLoop();
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
    const payload = etx.tx.payload;
    const registryChangedBy = payload === null ? undefined : ctx.finalizedRegistryChange?.(payload);
    if (registryChangedBy && !bytesEqual(registryChangedBy, etx.txid)) {
      throw new BlockError(
        'CONFLICTS_FINALIZED',
        `transaction ${index} makes a registry change a locally finalized transaction makes`,
        { index },
      );
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
    if (inputsAt.has(etx)) {
      checks.push({ etx, check, first: signatures.length });
      for (let j = etx.tx.inputs.length; j < check.signatures.length; j++)
        signatures.push(check.signatures[j]!);
    }
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

  const [inputsOk, othersOk] = await Promise.all([inputResults, ctx.verifier.verifyBatch(signatures)]);
  for (const { etx, check, first } of checks) {
    const nInputs = etx.tx.inputs.length;
    const at = inputsAt.get(etx)!;
    const results = inputsOk.slice(at, at + nInputs);
    for (let j = nInputs; j < check.signatures.length; j++) results.push(othersOk[first + j - nInputs]!);
    try {
      requireValidSignatures(etx, check, results);
    } catch (err) {
      const index = indexOf.get(etx)!;
      if (err instanceof TxError)
        throw new BlockError('BAD_TX', `transaction ${index}: ${err.message}`, { index, txError: err.code });
      throw err;
    }
  }
  return { hash, fees, order };
}

/** Decodes untrusted block bytes; oversize becomes TOO_LARGE, any other malformation MALFORMED. */
export function parseBlock(bytes: Uint8Array, params: ChainParams): Block {
  // Before decoding there is no header to blame: these faults are about these bytes only.
  if (bytes.length > params.maxBlockBytes) {
    throw new BlockError('TOO_LARGE', `${bytes.length} bytes exceeds ${params.maxBlockBytes}`, {}, 'copy');
  }
  try {
    return decodeBlock(bytes, params.maxBlockBytes);
  } catch (err) {
    if (err instanceof DecodeError)
      throw new BlockError('MALFORMED', err.message, { decode: err.code }, 'copy');
    throw err;
  }
}
