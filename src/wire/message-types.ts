/**
 * The message catalogue (DESIGN §7). Every frame is one CBOR map whose FIRST key is `t`, the type
 * code below. A type code names one layout forever: a changed layout gets a new code, so `t` is also
 * the message version. All binary fields are Uint8Array (CBOR byte strings), never hex strings;
 * transactions and blocks travel as their consensus bytes (src/protocol) and are not re-encoded here.
 */
export const MSG = Object.freeze({
  hello: 1,
  auth: 2,
  ping: 3,
  pong: 4,
  tx: 5,
  getTx: 6,
  pollRequest: 7,
  pollResponse: 8,
  block: 9,
  getBlocks: 10,
  blocks: 11,
  beacon: 12,
  getPeers: 13,
  peers: 14,
  reject: 15,
  getInventory: 16,
  inventory: 17,
  tip: 18,
});

export type MessageName = keyof typeof MSG;
export type MessageType = (typeof MSG)[MessageName];

/** type code → name, for logs and errors. */
export const MESSAGE_NAME: Readonly<Record<number, MessageName>> = Object.freeze(
  Object.fromEntries(Object.entries(MSG).map(([name, code]) => [code, name as MessageName])),
);

/** Opens a connection: who I am and which chain I follow. */
export interface Hello {
  t: typeof MSG.hello;
  protocol: number;
  chainId: number;
  genesis: Uint8Array;
  pubkey: Uint8Array;
  /** Port this node accepts connections on (0: does not listen). */
  listenPort: number;
  tipHeight: number;
  tipHash: Uint8Array;
  /** 32 fresh random bytes the other side must sign. */
  nonce: Uint8Array;
}

/** Signature with the node key over the OTHER side's Hello nonce (src/p2p/handshake.ts layout). */
export interface Auth {
  t: typeof MSG.auth;
  sig: Uint8Array;
}

export interface Ping {
  t: typeof MSG.ping;
  n: number;
}

export interface Pong {
  t: typeof MSG.pong;
  n: number;
}

/** A batch of transactions (consensus bytes). id 0 = gossip; otherwise the GetTx id it answers. */
export interface Tx {
  t: typeof MSG.tx;
  id: number;
  txs: Uint8Array[];
}

/** Ask for transactions by txid; `txids` is n × 32 bytes packed. */
export interface GetTx {
  t: typeof MSG.getTx;
  id: number;
  txids: Uint8Array;
}

/** A Snowball poll: n × 32 bytes of txids packed, n ≤ 1,024. */
export interface PollRequest {
  t: typeof MSG.pollRequest;
  id: number;
  txids: Uint8Array;
}

/** One vote byte per polled txid, in request order: 0 no, 1 yes, 2 unknown. */
export interface PollResponse {
  t: typeof MSG.pollResponse;
  id: number;
  votes: Uint8Array;
}

export const VOTE = Object.freeze({ no: 0, yes: 1, unknown: 2 });

/** Gossip of one block (consensus bytes). */
export interface BlockMsg {
  t: typeof MSG.block;
  block: Uint8Array;
}

/** Ask for up to `count` (≤ 50) blocks starting at height `from`. */
export interface GetBlocks {
  t: typeof MSG.getBlocks;
  id: number;
  from: number;
  count: number;
}

/** Answer to GetBlocks: consecutive blocks, at most 50 and at most the Blocks frame limit in total. */
export interface Blocks {
  t: typeof MSG.blocks;
  id: number;
  blocks: Uint8Array[];
}

/** A VDF beacon for a slot: y and the Wesolowski proof π, each an RSA-2048 group element (256 bytes). */
export interface Beacon {
  t: typeof MSG.beacon;
  slot: number;
  y: Uint8Array;
  proof: Uint8Array;
}

export interface GetPeers {
  t: typeof MSG.getPeers;
  id: number;
}

/** A peer address as announced in peer exchange. */
export interface PeerAddress {
  host: string;
  port: number;
  pubkey: Uint8Array;
}

export interface Peers {
  t: typeof MSG.peers;
  id: number;
  peers: PeerAddress[];
}

/**
 * Catch-up on (re)connect: the txids the responder holds as processing or finalized-not-in-a-block,
 * in ascending order, strictly after the cursor `after` (empty = from the start).
 */
export interface GetInventory {
  t: typeof MSG.getInventory;
  id: number;
  after: Uint8Array;
}

/** Up to 1,024 txids (n × 32 bytes packed, ascending); `next` is the cursor for the next page (empty = done). */
export interface Inventory {
  t: typeof MSG.inventory;
  id: number;
  txids: Uint8Array;
  next: Uint8Array;
}

/** The sender's chain tip: sent on connect, on each new block and every ~10 s; never relayed. */
export interface Tip {
  t: typeof MSG.tip;
  height: number;
  hash: Uint8Array;
  slot: number;
}

/** Why a request or the connection is refused; sent before closing. id 0 = not about a request. */
export interface Reject {
  t: typeof MSG.reject;
  id: number;
  code: string;
  reason: string;
}

export type WireMessage =
  | Hello
  | Auth
  | Ping
  | Pong
  | Tx
  | GetTx
  | PollRequest
  | PollResponse
  | BlockMsg
  | GetBlocks
  | Blocks
  | Beacon
  | GetPeers
  | Peers
  | Reject
  | GetInventory
  | Inventory
  | Tip;

/** The message type with code T. */
export type MessageOf<T extends MessageType> = Extract<WireMessage, { t: T }>;
