import {
  arrayOf,
  bytesExact,
  bytesOneOf,
  bytesRange,
  type Check,
  int,
  objectOf,
  objectSchema,
  text,
} from './guards.js';
import {
  BEACON_ELEMENT_BYTES,
  HASH_BYTES,
  MAX_BLOCK_BYTES,
  MAX_BLOCKS_PER_RESPONSE,
  MAX_HOST_LENGTH,
  MAX_PEERS_PER_MESSAGE,
  MAX_REJECT_CODE_LENGTH,
  MAX_REJECT_REASON_LENGTH,
  MAX_TX_BYTES,
  MAX_TXIDS_PER_INVENTORY,
  MAX_TXIDS_PER_REQUEST,
  MAX_TXS_PER_BATCH,
  NONCE_BYTES,
  PUBKEY_BYTES,
  SIGNATURE_BYTES,
} from './limits.js';
import { type MessageType, MSG } from './message-types.js';

const U32_MAX = 0xffff_ffff;
const u32 = int(0, U32_MAX);
/** Heights and slots: JS numbers are exact up to 2^53 − 1, far beyond any real chain. */
const u53 = int(0, Number.MAX_SAFE_INTEGER);
/** Request ids are 1..2^32−1; 0 means "not a request". */
const requestId = int(1, U32_MAX);
const hash = bytesExact(HASH_BYTES);
const txidList = bytesRange(HASH_BYTES, MAX_TXIDS_PER_REQUEST * HASH_BYTES, HASH_BYTES);
/** A txid cursor: empty (from the start / no more) or one txid. */
const cursor = bytesOneOf([0, HASH_BYTES]);
const typeIs =
  (code: number): Check =>
  (v) =>
    v === code;

/** One exact-key schema per message type; see message-types.ts for the meaning of the fields. */
export const SCHEMAS = Object.freeze({
  [MSG.hello]: objectSchema({
    t: typeIs(MSG.hello),
    protocol: u32,
    chainId: u32,
    genesis: hash,
    pubkey: bytesExact(PUBKEY_BYTES),
    listenPort: int(0, 65_535),
    tipHeight: u53,
    tipHash: hash,
    nonce: bytesExact(NONCE_BYTES),
  }),
  [MSG.auth]: objectSchema({ t: typeIs(MSG.auth), sig: bytesExact(SIGNATURE_BYTES) }),
  [MSG.ping]: objectSchema({ t: typeIs(MSG.ping), n: u32 }),
  [MSG.pong]: objectSchema({ t: typeIs(MSG.pong), n: u32 }),
  [MSG.tx]: objectSchema({
    t: typeIs(MSG.tx),
    id: u32,
    txs: arrayOf(bytesRange(1, MAX_TX_BYTES), MAX_TXS_PER_BATCH),
  }),
  [MSG.getTx]: objectSchema({ t: typeIs(MSG.getTx), id: requestId, txids: txidList }),
  [MSG.pollRequest]: objectSchema({ t: typeIs(MSG.pollRequest), id: requestId, txids: txidList }),
  [MSG.pollResponse]: objectSchema({
    t: typeIs(MSG.pollResponse),
    id: requestId,
    votes: bytesRange(1, MAX_TXIDS_PER_REQUEST),
  }),
  [MSG.block]: objectSchema({ t: typeIs(MSG.block), block: bytesRange(1, MAX_BLOCK_BYTES) }),
  [MSG.getBlocks]: objectSchema({
    t: typeIs(MSG.getBlocks),
    id: requestId,
    from: u53,
    count: int(1, MAX_BLOCKS_PER_RESPONSE),
  }),
  [MSG.blocks]: objectSchema({
    t: typeIs(MSG.blocks),
    id: requestId,
    blocks: arrayOf(bytesRange(1, MAX_BLOCK_BYTES), MAX_BLOCKS_PER_RESPONSE),
  }),
  [MSG.beacon]: objectSchema({
    t: typeIs(MSG.beacon),
    slot: u53,
    y: bytesExact(BEACON_ELEMENT_BYTES),
    proof: bytesExact(BEACON_ELEMENT_BYTES),
  }),
  [MSG.getPeers]: objectSchema({ t: typeIs(MSG.getPeers), id: requestId }),
  [MSG.peers]: objectSchema({
    t: typeIs(MSG.peers),
    id: requestId,
    peers: arrayOf(
      objectOf({ host: text(MAX_HOST_LENGTH, 1), port: int(1, 65_535), pubkey: bytesExact(PUBKEY_BYTES) }),
      MAX_PEERS_PER_MESSAGE,
    ),
  }),
  [MSG.reject]: objectSchema({
    t: typeIs(MSG.reject),
    id: u32,
    code: text(MAX_REJECT_CODE_LENGTH, 1),
    reason: text(MAX_REJECT_REASON_LENGTH),
  }),
  [MSG.getInventory]: objectSchema({ t: typeIs(MSG.getInventory), id: requestId, after: cursor }),
  [MSG.inventory]: objectSchema({
    t: typeIs(MSG.inventory),
    id: requestId,
    txids: bytesRange(0, MAX_TXIDS_PER_INVENTORY * HASH_BYTES, HASH_BYTES),
    next: cursor,
  }),
  [MSG.tip]: objectSchema({ t: typeIs(MSG.tip), height: u53, hash, slot: u53 }),
} satisfies Record<MessageType, unknown>);
