import { parentPort, workerData } from 'node:worker_threads';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import {
  AddressIndexWriter,
  openAddressIndex,
  readIndexTip,
  replayDelta,
  writeIndexTip,
} from './address-index.js';
import type { IndexerReply, IndexRequest, IndexWorkerData } from './address-index-messages.js';
import type { ChainTip } from './chain-tip.js';

/*
 * The address index's thread (AddressIndexer starts it): applies each block's index entries, in
 * the order the chain store committed the blocks, in write transactions of the index's own
 * environment. Nothing here touches the chain's environment: every message carries the block's
 * index changes as recorded by its walk on the coordinator (AddressIndexDelta). A message that does
 * not follow from the index's tip, or any throw, stops the thread's work for good: the index is then
 * unavailable until the next start rebuilds it (AddressIndexer.open), never silently wrong.
 */

const port = parentPort;
if (port === null) throw new Error('address-index-worker runs as a worker thread');
const { dataDir } = workerData as IndexWorkerData;
const dbs = openAddressIndex(dataDir);
let tip: ChainTip | null = readIndexTip(dbs);
let failed = false;

const reply = (m: IndexerReply): void => port.postMessage(m);

function handle(m: IndexRequest): void {
  if (tip === null) throw new Error('the index records no tip');
  if (!bytesEqual(m.from.hash, tip.hash) || m.from.height !== tip.height)
    throw new Error(`${m.t} from ${toHex(m.from.hash)}, but the index is at ${toHex(tip.hash)}`);
  const writer = new AddressIndexWriter(dbs);
  dbs.env.transactionSync(() => {
    replayDelta(m.delta, writer);
    writer.finish();
    writeIndexTip(dbs, m.to);
  });
  tip = m.to;
}

port.on('message', (m: IndexRequest | { t: 'close' }) => {
  if (m.t === 'close') {
    // The coordinator waits for this thread's exit, which closing the port lets happen.
    const done = () => port.close();
    void dbs.env.close().then(done, done);
    return;
  }
  if (failed) return;
  try {
    handle(m);
    reply({ t: 'indexed', seq: m.seq });
  } catch (err) {
    failed = true;
    reply({ t: 'failed', seq: m.seq, message: String((err as Error)?.message ?? err) });
  }
});
