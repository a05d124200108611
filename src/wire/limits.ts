import { type MessageType, MSG } from './message-types.js';

/**
 * Protocol version carried in Hello; peers must match exactly. 2: TLS with the node keys signing a
 * transcript bound to the listener's certificate (1 was plain WebSocket, signatures over a nonce).
 */
export const PROTOCOL_VERSION = 2;

export const HASH_BYTES = 32;
export const PUBKEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const NONCE_BYTES = 32;
/** Txids in one PollRequest or GetTx (DESIGN §5). */
export const MAX_TXIDS_PER_REQUEST = 1_024;
/** Blocks in one Blocks answer (DESIGN §7). */
export const MAX_BLOCKS_PER_RESPONSE = 50;
/** Transactions in one Tx batch. */
export const MAX_TXS_PER_BATCH = 256;
/** A transaction's consensus bytes (DESIGN §4: size ≤ 100 kB). */
export const MAX_TX_BYTES = 100_000;
/** A block's consensus bytes (DESIGN §2: 2,000,000 bytes). */
export const MAX_BLOCK_BYTES = 2_000_000;
/** RSA-2048 group element / Wesolowski proof: always 256 bytes big-endian (src/vdf/group.ts). */
export const BEACON_ELEMENT_BYTES = 256;
export const MAX_PEERS_PER_MESSAGE = 64;
export const MAX_HOST_LENGTH = 255;
export const MAX_REJECT_CODE_LENGTH = 32;
export const MAX_REJECT_REASON_LENGTH = 256;
/** Txids in one Inventory page. */
export const MAX_TXIDS_PER_INVENTORY = 1_024;
/**
 * Array items in one frame, all arrays together: the longest array of the catalogue (Tx.txs;
 * Blocks.blocks and Peers.peers are shorter), and no message has two arrays. Txids travel packed
 * in byte strings, not as arrays. The strict CBOR scan refuses more at the array head, before it
 * or cbor-x walks the items (see strict-cbor.ts).
 */
export const MAX_ARRAY_ITEMS = Math.max(MAX_TXS_PER_BATCH, MAX_BLOCKS_PER_RESPONSE, MAX_PEERS_PER_MESSAGE);
/**
 * UTF-8 bytes of one text string: the longest text field of the catalogue (Reject.reason, 256
 * characters; Peers' host 255, Reject.code 32) at 3 bytes per UTF-16 unit, the most a valid string
 * takes (astral characters take 4 bytes for 2 units). Refused above by the strict CBOR scan, before
 * cbor-x builds a JS string (see strict-cbor.ts).
 */
export const MAX_TEXT_BYTES = 3 * Math.max(MAX_REJECT_REASON_LENGTH, MAX_HOST_LENGTH, MAX_REJECT_CODE_LENGTH);

const KIB = 1024;
const MIB = 1024 * KIB;

/** Gossip, votes and control messages (DESIGN §7: ≤ 64 KiB). */
export const SMALL_FRAME_LIMIT = 64 * KIB;
/** A Tx batch may hold one maximum-size (100 kB) transaction, so it gets its own limit. */
export const TX_FRAME_LIMIT = 256 * KIB;
/** Blocks (DESIGN §7: ≤ 4 MiB). */
export const BLOCK_FRAME_LIMIT = 4 * MIB;
/** The largest frame any message may use: the WebSocket payload cap of server and client. */
export const MAX_FRAME_BYTES = BLOCK_FRAME_LIMIT;
/**
 * Before the handshake completes a frame may be at most this long and only a Hello, Auth or Reject,
 * checked on the raw frame before anything is decoded: an unauthenticated peer gets 1 KiB, not the
 * 4 MiB a Block may use.
 */
export const PRE_AUTH_FRAME_LIMIT = 1 * KIB;

/**
 * Per-type frame limits, checked on the raw frame BEFORE CBOR decoding (the type code is read from
 * the frame's first bytes, see peek-type.ts). One connection carries every type, so these are the
 * "per-route" limits of DESIGN §7; the WebSocket layer enforces MAX_FRAME_BYTES below them.
 */
export const FRAME_LIMIT: Readonly<Record<MessageType, number>> = Object.freeze({
  [MSG.hello]: 1 * KIB,
  [MSG.auth]: 256,
  [MSG.ping]: 64,
  [MSG.pong]: 64,
  [MSG.tx]: TX_FRAME_LIMIT,
  [MSG.getTx]: SMALL_FRAME_LIMIT,
  [MSG.pollRequest]: SMALL_FRAME_LIMIT,
  [MSG.pollResponse]: 4 * KIB,
  [MSG.block]: BLOCK_FRAME_LIMIT,
  [MSG.getBlocks]: 128,
  [MSG.blocks]: BLOCK_FRAME_LIMIT,
  [MSG.beacon]: 1 * KIB,
  [MSG.getPeers]: 64,
  [MSG.peers]: SMALL_FRAME_LIMIT,
  [MSG.reject]: 1 * KIB,
  [MSG.getInventory]: 128,
  [MSG.inventory]: SMALL_FRAME_LIMIT,
  [MSG.tip]: 128,
});
