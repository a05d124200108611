import {
  type Blocks,
  type GetBlocks,
  type GetInventory,
  type GetPeers,
  type GetTx,
  type Inventory,
  MSG,
  type Peers,
  type PollRequest,
  type PollResponse,
  type Tx,
} from '../wire/message-types.js';

/** Messages that expect an answer correlated by `id`. */
export type RequestMessage = PollRequest | GetTx | GetBlocks | GetPeers | GetInventory;
export type RequestType = RequestMessage['t'];

/** A request as the caller writes it: the transport assigns the id. */
export type RequestBody = RequestMessage extends infer M
  ? M extends RequestMessage
    ? Omit<M, 'id'>
    : never
  : never;

/** The answer type of each request type. */
export const RESPONSE_TYPE = Object.freeze({
  [MSG.pollRequest]: MSG.pollResponse,
  [MSG.getTx]: MSG.tx,
  [MSG.getBlocks]: MSG.blocks,
  [MSG.getPeers]: MSG.peers,
  [MSG.getInventory]: MSG.inventory,
});

interface ResponseByType {
  [MSG.pollRequest]: PollResponse;
  [MSG.getTx]: Tx;
  [MSG.getBlocks]: Blocks;
  [MSG.getPeers]: Peers;
  [MSG.getInventory]: Inventory;
}

export type RequestOfType<T extends RequestType> = Extract<RequestMessage, { t: T }>;
export type ResponseOfType<T extends RequestType> = ResponseByType[T];
/** What a request handler returns: the answer without its id (the transport copies the request's). */
export type ResponseBody<T extends RequestType> = Omit<ResponseByType[T], 'id'>;
