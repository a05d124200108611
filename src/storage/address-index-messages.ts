import type { ChainTip } from './chain-tip.js';

/** What the address index thread is started with. */
export interface IndexWorkerData {
  readonly dataDir: string;
}

/**
 * One block's index change, in the order the chain store committed it: `apply` moves the index from
 * `from` (the block's parent) to `to` (the block); `revert` from `from` (the block) to `to` (its
 * parent). `delta` is the change itself (AddressIndexDelta, recorded by the block's walk). The
 * thread refuses a change whose `from` is not its tip.
 */
export interface IndexRequest {
  readonly t: 'apply' | 'revert';
  readonly seq: number;
  readonly from: ChainTip;
  readonly to: ChainTip;
  readonly delta: Uint8Array<ArrayBuffer>;
}

/** The thread's answers: each request is indexed or the index failed (and stays failed). */
export type IndexerReply =
  | { readonly t: 'indexed'; readonly seq: number }
  | { readonly t: 'failed'; readonly seq: number; readonly message: string };
