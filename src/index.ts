/**
 * The `timecoin` package's public API for wallets and tools: chain parameters, the consensus byte
 * layouts, addresses, keys and transaction building. (`timecoin/crypto` exposes the WASM crypto.)
 */

export { TxError, type TxErrorCode } from './ledger/tx-errors.js';
export { type ChainParams, ChainParamsError, verifyChainParams } from './params/chain-params.js';
export { DEVNET, devnetParams, MAINNET, NETWORKS, paramsFor, TESTNET } from './params/networks.js';
export { formatTime, parseTime, SAT_PER_TIME } from './params/units.js';
export { AddressError, addressPayloadOfPubkey, decodeAddress, encodeAddress } from './protocol/address.js';
export { type Block, type BlockHeader, decodeBlock, encodeBlock, headerHash } from './protocol/block.js';
export { merkleRoot } from './protocol/merkle.js';
export type { OutPoint, Transaction, TxOutput, TxPayload, Witness } from './protocol/transaction.js';
export { decodeTx, type EncodedTx, encodeTx, txidOf } from './protocol/tx-codec.js';
export { witnessHash, witnessRoot } from './protocol/witness-root.js';
export { devnetKeyPair, generateKeyPair, type KeyPair, keyPairFromSecret } from './wallet/keys.js';
export { deregistrationPayload, registrationPayload, signTx } from './wallet/tx-builder.js';
