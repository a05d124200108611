import { compareBytes } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { time } from '../params/units.js';
import { BLOCK_VERSION, type Block, type BlockHeader } from '../protocol/block.js';
import { merkleRoot } from '../protocol/merkle.js';
import { registrationMessage } from '../protocol/signing.js';
import { NO_COLLATERAL, type OutPoint, type Transaction, TX_VERSION } from '../protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../protocol/tx-codec.js';
import { witnessRoot } from '../protocol/witness-root.js';
import { devnetKeyPair, type KeyPair, sign } from '../wallet/keys.js';

/**
 * Genesis blocks. The genesis block is the trusted root: it is not checked by the block rules, its
 * transactions have no inputs, and it carries no signature or beacon. Transactions: one allocation
 * (outputs spendable at once) and one registration per bootstrap masternode, whose collateral is
 * that transaction's output 0 (a Free-tier one would have none). Registrations are sorted by txid, like every block body.
 */

/** The devnet seed phrase: anyone can derive the devnet keys from it (devnet only). */
export const DEVNET_SEED = 'timecoin devnet';
export const DEVNET_FUNDED_KEYS = 10;
export const DEVNET_FUNDED_AMOUNT = time(1_000_000);
/** Key indices: funded wallets 0..9; masternode node keys 100+i; their collateral/reward wallets 200+i. */
export const DEVNET_NODE_KEY_BASE = 100;
export const DEVNET_OWNER_KEY_BASE = 200;
/**
 * Five bootstrap masternodes of equal weight (Bronze): a devnet of 4–5 processes must survive
 * losing any one of them. One node per tier gave the Gold node 1,000 of 1,111 weight (90 % of every
 * Snowball sample), so killing it stopped finality. Tiers are covered by synthetic sets in tests.
 */
export const DEVNET_MASTERNODE_COUNT = 5;
export const DEVNET_MASTERNODE_TIER = 1;

const ZERO_OUTPOINT: OutPoint = { txid: new Uint8Array(32), vout: 0 };

export interface DevnetMasternode {
  readonly nodeKey: KeyPair;
  readonly ownerKey: KeyPair;
  readonly tier: number;
}

export function devnetFundedKey(index: number): KeyPair {
  return devnetKeyPair(DEVNET_SEED, index);
}

/** The bootstrap masternodes: node key 100 + i, collateral and reward key 200 + i. */
export function devnetMasternodes(): DevnetMasternode[] {
  return Array.from({ length: DEVNET_MASTERNODE_COUNT }, (_, i) => ({
    nodeKey: devnetKeyPair(DEVNET_SEED, DEVNET_NODE_KEY_BASE + i),
    ownerKey: devnetKeyPair(DEVNET_SEED, DEVNET_OWNER_KEY_BASE + i),
    tier: DEVNET_MASTERNODE_TIER,
  }));
}

function registrationTx(params: ChainParams, mn: DevnetMasternode): Transaction {
  const tier = params.tiers[mn.tier]!;
  const hasCollateral = tier.collateral > 0n;
  const collateralVout = hasCollateral ? 0 : NO_COLLATERAL;
  const rewardAddress = mn.ownerKey.addressPayload;
  const nodeSignature = sign(
    registrationMessage(params.chainId, ZERO_OUTPOINT, mn.nodeKey.publicKey, collateralVout, rewardAddress),
    mn.nodeKey.secretKey,
  );
  return {
    version: TX_VERSION,
    chainId: params.chainId,
    inputs: [],
    outputs: hasCollateral ? [{ value: tier.collateral, address: mn.ownerKey.addressPayload }] : [],
    lockTime: 0,
    payload: {
      kind: 'register',
      nodePubkey: mn.nodeKey.publicKey,
      collateralVout,
      rewardAddress,
      nodeSignature,
    },
    witnesses: [],
  };
}

function genesisTransactions(params: ChainParams): EncodedTx[] {
  if (params.network !== 'devnet') {
    // Mainnet and testnet bootstrap masternodes are fixed at launch; until then their genesis is
    // empty and the chain cannot produce blocks (it needs minActiveMasternodes registrations).
    return [];
  }
  const allocation: Transaction = {
    version: TX_VERSION,
    chainId: params.chainId,
    inputs: [],
    outputs: Array.from({ length: DEVNET_FUNDED_KEYS }, (_, i) => ({
      value: DEVNET_FUNDED_AMOUNT,
      address: devnetFundedKey(i).addressPayload,
    })),
    lockTime: 0,
    payload: null,
    witnesses: [],
  };
  const registrations = devnetMasternodes()
    .map((mn) => encodeTx(registrationTx(params, mn)))
    .sort((a, b) => compareBytes(a.txid, b.txid));
  return [encodeTx(allocation), ...registrations];
}

/**
 * Genesis depends only on the chain id, network, genesis time and tier collaterals, so every
 * parameter variant of one network (e.g. devnetParams with other slot lengths) shares it.
 */
const cache = new Map<string, Block>();

export function genesisBlock(params: ChainParams): Block {
  const key = `${params.network}:${params.chainId}:${params.genesisTimeMs}:${params.tiers.map((t) => t.collateral).join(',')}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const txs = genesisTransactions(params);
  const header: BlockHeader = {
    version: BLOCK_VERSION,
    chainId: params.chainId,
    height: 0,
    slot: 0,
    timestampMs: params.genesisTimeMs,
    prevHash: new Uint8Array(32),
    merkleRoot: merkleRoot(txs.map((t) => t.txid)),
    witnessRoot: witnessRoot(txs),
    txCount: txs.length,
    beaconY: new Uint8Array(0),
    beaconProof: new Uint8Array(0),
    producerPubkey: new Uint8Array(32),
    rank: 0,
  };
  const block: Block = { header, signature: new Uint8Array(64), txs };
  cache.set(key, block);
  return block;
}
