import { type PublicKeyFault, publicKeyFault } from '../crypto/public-key-policy.js';
import type { SignatureItem, SignatureVerifier } from '../crypto/signature-verifier.js';
import { DecodeError } from '../encoding/byte-reader.js';
import { bytesEqual } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { tierOfCollateral } from '../params/networks.js';
import { addressPayloadOfPubkey } from '../protocol/address.js';
import { deregistrationMessage, registrationMessage, txSigMessage } from '../protocol/signing.js';
import { NO_COLLATERAL, type Transaction, TX_VERSION } from '../protocol/transaction.js';
import { decodeTx, type EncodedTx } from '../protocol/tx-codec.js';
import type { LedgerView, UtxoEntry } from './ledger-state.js';
import { outpointStringKey } from './map-keys.js';
import { TxError } from './tx-errors.js';

/** Sums above this are nonsense for any emission schedule and would overflow u64 arithmetic. */
export const MAX_MONEY = (1n << 63n) - 1n;

/** Minimum fee for a serialized size: ceil(size × rate / 1000). */
export function minimumFee(params: ChainParams, sizeBytes: number): bigint {
  return (BigInt(sizeBytes) * params.minRelayFeePerKb + 999n) / 1000n;
}

const KEY_FAULTS: Readonly<Record<PublicKeyFault, string>> = {
  LENGTH: 'not 32 bytes',
  NON_CANONICAL: 'a non-canonical encoding (y ≥ p)',
  SMALL_ORDER: 'a small-order point, which verifies a forged signature on any message',
  NOT_ON_CURVE: 'not a curve point',
};

function badKey(what: string, fault: PublicKeyFault, details: Record<string, unknown>): TxError {
  return new TxError('BAD_PUBKEY', `${what} is ${KEY_FAULTS[fault]}`, { ...details, fault });
}

/**
 * Rules that need nothing but the transaction (DESIGN §4): version, chain, size, shape, key
 * encodings, duplicate inputs, dust, value range. Coinbases are checked by the block rules, never
 * here.
 *
 * Keys: under ZIP-215 a small-order key with the signature (R = identity, S = 0) verifies for every
 * message, so such a witness key or node key could be "signed for" by anyone. Every witness key and
 * the payload's node key are checked by their encoding here (O(1), crypto/public-key-policy.ts);
 * the registration's node key must also decode to a curve point (checkPayload).
 */
export function checkTxStructure(etx: EncodedTx, params: ChainParams): void {
  const { tx } = etx;
  if (tx.version !== TX_VERSION) throw new TxError('UNSUPPORTED_VERSION', `version ${tx.version}`);
  if (tx.chainId !== params.chainId) {
    throw new TxError('WRONG_CHAIN', `chain id ${tx.chainId}, this network is ${params.chainId}`);
  }
  if (etx.bytes.length > params.maxTxBytes) {
    throw new TxError('TOO_LARGE', `${etx.bytes.length} bytes exceeds ${params.maxTxBytes}`);
  }
  if (tx.inputs.length === 0) throw new TxError('NO_INPUTS', 'only a block coinbase may have no inputs');
  if (tx.outputs.length === 0) throw new TxError('NO_OUTPUTS', 'a transaction needs at least one output');
  if (tx.witnesses.length !== tx.inputs.length) {
    throw new TxError('WITNESS_COUNT', `${tx.witnesses.length} witnesses for ${tx.inputs.length} inputs`);
  }
  for (let i = 0; i < tx.witnesses.length; i++) {
    const fault = publicKeyFault(tx.witnesses[i]!.pubkey);
    if (fault) throw badKey(`witness ${i} key`, fault, { input: i });
  }
  if (tx.payload !== null) {
    const fault = publicKeyFault(tx.payload.nodePubkey);
    if (fault) throw badKey(`the ${tx.payload.kind} payload's node key`, fault, { payload: tx.payload.kind });
  }
  const seen = new Set<string>();
  for (let i = 0; i < tx.inputs.length; i++) {
    const key = outpointStringKey(tx.inputs[i]!);
    if (seen.has(key))
      throw new TxError('DUPLICATE_INPUT', `input ${i} spends an outpoint twice`, { input: i });
    seen.add(key);
  }
  let total = 0n;
  for (let i = 0; i < tx.outputs.length; i++) {
    const value = tx.outputs[i]!.value;
    if (value < params.dustLimit) {
      throw new TxError(
        'DUST_OUTPUT',
        `output ${i} of ${value} sat is below the dust limit ${params.dustLimit}`,
        {
          output: i,
        },
      );
    }
    total += value;
    if (total > MAX_MONEY) throw new TxError('VALUE_OVERFLOW', 'outputs sum out of range');
  }
}

/** What checking a transaction against the ledger yields: its fee and the signatures to verify. */
export interface LedgerCheck {
  readonly fee: bigint;
  readonly spent: readonly UtxoEntry[];
  /** Every signature the transaction depends on: one per input, plus the node key's if any. */
  readonly signatures: readonly SignatureItem[];
}

/**
 * Rules that read the ledger: inputs exist and are mature, collateral stays locked, amounts and
 * fee, witness keys match the spent outputs, masternode payload rules. `nextHeight` is the height
 * of the block that would include the transaction. Signatures are collected, not verified here,
 * so they can be verified in one batch off the coordinator.
 */
export function checkTxAgainstLedger(
  etx: EncodedTx,
  view: LedgerView,
  params: ChainParams,
  nextHeight: number,
): LedgerCheck {
  const { tx, txid } = etx;
  if (tx.lockTime > nextHeight) {
    throw new TxError('LOCKTIME', `lock time ${tx.lockTime} is above the next block height ${nextHeight}`);
  }
  const spent: UtxoEntry[] = new Array(tx.inputs.length);
  const message = txSigMessage(tx.chainId, txid);
  const signatures: SignatureItem[] = [];
  let totalIn = 0n;
  for (let i = 0; i < tx.inputs.length; i++) {
    const input = tx.inputs[i]!;
    const entry = view.getUtxo(input);
    if (!entry) throw new TxError('INPUT_NOT_FOUND', `input ${i} is not an unspent output`, { input: i });
    if (entry.coinbase && nextHeight - entry.height < params.coinbaseMaturity) {
      throw new TxError('IMMATURE_COINBASE', `input ${i} is a coinbase output from height ${entry.height}`, {
        input: i,
      });
    }
    const owner = view.collateralOwner(input);
    if (
      owner &&
      collateralStillLocked(view, owner, nextHeight) &&
      !(tx.payload?.kind === 'deregister' && bytesEqual(tx.payload.nodePubkey, owner))
    ) {
      throw new TxError('COLLATERAL_LOCKED', `input ${i} is a registered masternode's collateral`, {
        input: i,
      });
    }
    const witness = tx.witnesses[i]!;
    if (!bytesEqual(addressPayloadOfPubkey(witness.pubkey), entry.address)) {
      throw new TxError('WITNESS_KEY_MISMATCH', `witness ${i} key does not own the spent output`, {
        input: i,
      });
    }
    signatures.push({ publicKey: witness.pubkey, message, signature: witness.signature });
    spent[i] = entry;
    totalIn += entry.value;
  }
  let totalOut = 0n;
  for (const o of tx.outputs) totalOut += o.value;
  if (totalIn < totalOut)
    throw new TxError('INSUFFICIENT_INPUTS', `inputs ${totalIn} sat < outputs ${totalOut} sat`);
  const fee = totalIn - totalOut;
  const required = minimumFee(params, etx.bytes.length);
  if (fee < required) {
    throw new TxError(
      'FEE_TOO_LOW',
      `fee ${fee} sat < minimum ${required} sat for ${etx.bytes.length} bytes`,
    );
  }
  const payloadSignature = checkPayload(tx, view, params, nextHeight);
  if (payloadSignature) signatures.push(payloadSignature);
  return { fee, spent, signatures };
}

/**
 * A collateral output stays locked until the block after its node's deregistration: the same
 * "in an earlier block" rule a deregistration follows for its registration. Were it released inside
 * the deregistration's own block, a spend of it would be valid only when it sorts after the
 * deregistration, so a block's validity would depend on txid order and a producer checking in
 * another order would build blocks validators refuse. (The deregistration itself may spend it.)
 */
function collateralStillLocked(view: LedgerView, owner: Uint8Array, nextHeight: number): boolean {
  const record = view.getMasternode(owner);
  return !(record && record.deregisteredHeight !== null && record.deregisteredHeight < nextHeight);
}

function checkPayload(
  tx: Transaction,
  view: LedgerView,
  params: ChainParams,
  nextHeight: number,
): SignatureItem | null {
  const p = tx.payload;
  if (p === null) return null;
  const existing = view.getMasternode(p.nodePubkey);
  const firstInput = tx.inputs[0]!;
  if (p.kind === 'register') {
    // A node key registers once, ever: history (who was active at a height) must stay unambiguous.
    if (existing) throw new TxError('MASTERNODE_EXISTS', 'this node key is or was registered');
    if (p.collateralVout !== NO_COLLATERAL) {
      const collateral = tx.outputs[p.collateralVout];
      if (!collateral)
        throw new TxError('BAD_PAYLOAD', `collateral output ${p.collateralVout} does not exist`);
      if (tierOfCollateral(params, collateral.value).collateral === 0n) {
        throw new TxError('BAD_PAYLOAD', `collateral ${collateral.value} sat is below the lowest paid tier`);
      }
    } else {
      // Free tier: the fee is an explicit treasury output, not the transaction fee, which the block
      // producer would collect (a producer could otherwise register Free nodes paying itself).
      let toTreasury = 0n;
      for (const o of tx.outputs) if (bytesEqual(o.address, params.treasuryAddress)) toTreasury += o.value;
      if (toTreasury < params.freeRegistrationFee)
        throw new TxError(
          'REGISTRATION_FEE',
          `a Free-tier registration pays ${params.freeRegistrationFee} sat to the treasury, this one ${toTreasury}`,
        );
    }
    // The key becomes a node identity (block producer, peer): it must be a curve point as well.
    // Decoding costs a field exponentiation (~0.1 ms), so it runs only once every cheaper rule passed.
    const fault = publicKeyFault(p.nodePubkey, { decodes: true });
    if (fault) throw badKey("the register payload's node key", fault, { payload: p.kind });
    return {
      publicKey: p.nodePubkey,
      message: registrationMessage(tx.chainId, firstInput, p.nodePubkey, p.collateralVout, p.rewardAddress),
      signature: p.nodeSignature,
    };
  }
  // The registration must already be in a block below the one that would include this: a
  // deregistration depends on its registration through the registry, not through an output, so
  // dependency ordering inside one block could not put them in the right order.
  if (!existing || existing.deregisteredHeight !== null || existing.registeredHeight >= nextHeight) {
    throw new TxError('MASTERNODE_UNKNOWN', 'no registration of this node key in a block below this one');
  }
  if (p.nodeSignature.length === 0) {
    const collateral = existing.collateral;
    const spendsCollateral =
      collateral !== null &&
      tx.inputs.some((i) => i.vout === collateral.vout && bytesEqual(i.txid, collateral.txid));
    if (!spendsCollateral) {
      throw new TxError('DEREG_UNAUTHORIZED', 'an unsigned deregistration must spend the collateral');
    }
    return null;
  }
  return {
    publicKey: p.nodePubkey,
    message: deregistrationMessage(tx.chainId, firstInput, p.nodePubkey),
    signature: p.nodeSignature,
  };
}

/**
 * Checks the results of verifying `check.signatures` (same order): the first failure becomes a
 * typed error naming the input (or the node signature, which is always last).
 */
export function requireValidSignatures(
  etx: EncodedTx,
  check: LedgerCheck,
  results: readonly boolean[],
): void {
  const nInputs = etx.tx.inputs.length;
  for (let i = 0; i < check.signatures.length; i++) {
    if (results[i] === true) continue;
    if (i < nInputs) throw new TxError('BAD_SIGNATURE', `input ${i} signature is invalid`, { input: i });
    throw new TxError('BAD_NODE_SIGNATURE', 'the node key signature on the masternode payload is invalid');
  }
}

/** Every rule of DESIGN §4 for one transaction, with its signatures verified by `verifier`. */
export async function validateTx(
  etx: EncodedTx,
  view: LedgerView,
  params: ChainParams,
  nextHeight: number,
  verifier: SignatureVerifier,
): Promise<LedgerCheck> {
  checkTxStructure(etx, params);
  const check = checkTxAgainstLedger(etx, view, params, nextHeight);
  requireValidSignatures(etx, check, await verifier.verifyBatch(check.signatures));
  return check;
}

/** Decodes untrusted transaction bytes; any malformation becomes TxError MALFORMED. */
export function parseTx(bytes: Uint8Array, params: ChainParams): EncodedTx {
  try {
    return decodeTx(bytes, params.maxTxBytes);
  } catch (err) {
    if (err instanceof DecodeError) {
      throw new TxError(
        err.code === 'OUT_OF_RANGE' && bytes.length > params.maxTxBytes ? 'TOO_LARGE' : 'MALFORMED',
        err.message,
        {
          decode: err.code,
        },
      );
    }
    throw err;
  }
}
