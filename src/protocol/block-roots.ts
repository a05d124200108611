import { merkleRoot } from './merkle.js';
import { witnessRoot } from './witness-root.js';

/** The two roots a block header commits to: over the txids, and over the wtxids (witness-root.ts). */
export interface BlockRoots {
  readonly merkleRoot: Uint8Array;
  readonly witnessRoot: Uint8Array;
}

/** A block body as the roots see it: each transaction's txid and its full bytes. */
export type RootedTx = { readonly txid: Uint8Array; readonly bytes: Uint8Array };

/**
 * Computes both roots of a block body. A full block is ~9,400 transactions, so ~28,000 SHA-256
 * calls: 60-200 ms of the coordinator's event loop in JavaScript. The crypto pool does the same
 * work in a worker with the WASM SHA-256 (`CryptoPool.blockRoots`); `inlineBlockRoots` is the
 * JavaScript reference, and the two agree byte for byte (test/e2e/crypto-pool.test.ts).
 */
export interface BlockRootHasher {
  blockRoots(txs: readonly RootedTx[]): Promise<BlockRoots>;
}

/** Both roots on the calling thread (the reference; tests, the CLI, small blocks). */
export function inlineBlockRoots(txs: readonly RootedTx[]): BlockRoots {
  return { merkleRoot: merkleRoot(txs.map((t) => t.txid)), witnessRoot: witnessRoot(txs) };
}

export const INLINE_BLOCK_ROOTS: BlockRootHasher = {
  blockRoots: async (txs) => inlineBlockRoots(txs),
};
