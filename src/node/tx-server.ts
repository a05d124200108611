import type { Mempool } from '../ledger/mempool.js';
import { MAX_TXS_PER_BATCH } from '../wire/limits.js';
import { GOSSIP_BATCH_BYTES } from './tx-gossip.js';

/**
 * Answers GetTx: the requested transactions this node holds as processing or finalized-not-in-a-
 * block, in request order, as many as fit one Tx frame (the same budget as our gossip batches).
 * Unknown txids are skipped; a requester that still misses one asks again or learns it elsewhere.
 */
export function answerGetTx(mempool: Mempool, txids: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let bytes = 0;
  const n = txids.length >>> 5;
  for (let i = 0; i < n && out.length < MAX_TXS_PER_BATCH; i++) {
    const entry = mempool.get(txids.subarray(i * 32, i * 32 + 32));
    if (!entry) continue;
    if (bytes + entry.etx.bytes.length > GOSSIP_BATCH_BYTES) break;
    out.push(entry.etx.bytes);
    bytes += entry.etx.bytes.length;
  }
  return out;
}
