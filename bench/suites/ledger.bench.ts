/**
 * `npm run bench -- ledger`: ledger throughput.
 * - ledger.validateTx: structural + UTXO checks of a 1-in-2-out transaction against LMDB, signatures
 *   excluded (they are the crypto pool's job); target >= 100,000/s.
 * - ledger.applyBlock.empty: a coinbase-only block applied to LMDB, durably (hz = blocks/s).
 * - ledger.applyBlock.full: a ~2 MB block of ~9,300 1-in-2-out transactions applied durably
 *   (hz = blocks/s; the transactions/s figure is in notes: target >= 50,000 tx/s). The address
 *   index is written by its own thread after each block commits (address-indexer.ts), so it is not
 *   in the timed apply; notes give the rate with the index caught up too (txPerSecWithIndex: the
 *   same blocks, timed until the index holds the last one).
 * - ledger.sortTxids.100k: 100,000 random txids in byte order, the comparator sort against
 *   sortByBytes (the order of block bodies, the producer's candidates and the GetInventory snapshot
 *   of a full mempool, which any peer can make a node take once a second), side by side.
 * Sync commits stay on: every block is one fdatasync'ed LMDB write transaction, exactly as the node
 * runs it. Blocks are built (untimed) by the synthetic generator: unsigned, which the mechanical store
 * does not look at.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { genesisBlock } from '../../src/chain/genesis.js';
import { compareBytes } from '../../src/encoding/bytes.js';
import { sortByBytes } from '../../src/encoding/sort-by-bytes.js';
import { DEVNET } from '../../src/params/networks.js';
import { blockSize } from '../../src/protocol/block.js';
import { ChainStore } from '../../src/storage/chain-store.js';
import { SyntheticChain } from '../../src/storage/testing/synthetic-chain.js';
import { tempDirIn } from '../../src/storage/testing/temp-dir.js';
import { BenchSuite, type BenchSuite as Suite, summarize } from '../harness.js';
import { benchValidateTx } from '../support/validate-tx-task.js';

/** 1-in-2-out transactions are 213 bytes; this many fill a 2,000,000-byte block. */
const FULL_BLOCK_TXS = 9_300;
const FULL_BLOCKS = Number(process.env.LEDGER_FULL_BLOCKS ?? 6);

async function applyBlockEmpty(suite: Suite): Promise<void> {
  const { dir, cleanup } = tempDirIn(tmpdir(), 'bench-empty');
  const gen = SyntheticChain.create(DEVNET, 1, 10);
  const store = await ChainStore.open(dir, DEVNET, gen.genesis());
  try {
    await suite.task('ledger.applyBlock.empty', async () => {
      await store.applyBlock(gen.nextBlock({ spends: 0 }));
    });
  } finally {
    await store.close();
    cleanup();
  }
}

async function applyBlockFull(suite: Suite): Promise<void> {
  const { dir, cleanup } = tempDirIn(tmpdir(), 'bench-full');
  const gen = SyntheticChain.create(DEVNET, 2, FULL_BLOCK_TXS + 100);
  const store = await ChainStore.open(dir, DEVNET, gen.genesis());
  try {
    const samples: number[] = [];
    let cpuMicros = 0;
    let txs = 0;
    let bytes = 0;
    // One untimed block first, as tinybench warms up its tasks: JIT and LMDB map growth.
    await store.applyBlock(gen.nextBlock({ spends: FULL_BLOCK_TXS }));
    await store.addressIndexCounts();
    // Built before the clock starts: the rate with the index is timed over the whole loop.
    const blocks = Array.from({ length: FULL_BLOCKS }, () => gen.nextBlock({ spends: FULL_BLOCK_TXS }));
    const t0 = performance.now();
    for (const block of blocks) {
      const size = blockSize(block);
      if (size > DEVNET.maxBlockBytes) throw new Error(`bench block of ${size} bytes exceeds the limit`);
      const start = performance.now();
      const cpu = process.cpuUsage();
      await store.applyBlock(block);
      samples.push(performance.now() - start);
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
      txs += block.txs.length;
      bytes += size;
    }
    await store.addressIndexCounts();
    const withIndexMs = performance.now() - t0;
    const result = suite.record(summarize('ledger.applyBlock.full', samples));
    const txPerBlock = Math.round(txs / FULL_BLOCKS);
    suite.note('ledger.applyBlock.full.txPerBlock', txPerBlock);
    suite.note('ledger.applyBlock.full.blockBytes', Math.round(bytes / FULL_BLOCKS));
    suite.note('ledger.applyBlock.full.txPerSec', Math.round(result.hz * txPerBlock));
    suite.note('ledger.applyBlock.full.txPerSecTarget', 50_000);
    // Wall time of the whole loop until the index thread caught up.
    suite.note('ledger.applyBlock.full.txPerSecWithIndex', Math.round(txs / (withIndexMs / 1000)));
    // Wall-clock tx/s depends on what else the shared machine runs; tx per CPU-second of this
    // process (all its threads) does not, and says what one free core would reach, minus fsync waits.
    suite.note('ledger.applyBlock.full.txPerCpuSec', Math.round(txs / (cpuMicros / 1e6)));
  } finally {
    await store.close();
    cleanup();
  }
}

/** ledger.validateTx against the LMDB store holding the real devnet genesis (target >= 100,000/s). */
async function validateTx(suite: Suite): Promise<void> {
  const { dir, cleanup } = tempDirIn(tmpdir(), 'bench-validate');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  try {
    await benchValidateTx(suite, DEVNET, store);
  } finally {
    await store.close();
    cleanup();
  }
}

async function sortTxids(suite: Suite): Promise<void> {
  const txids = Array.from({ length: 100_000 }, () => new Uint8Array(randomBytes(32)));
  const expected = [...txids].sort(compareBytes);
  const fast = sortByBytes(txids, (t) => t);
  if (!fast.every((t, i) => t === expected[i])) throw new Error('sortByBytes disagrees with compareBytes');
  const slow = await suite.task('ledger.sortTxids.100k.comparator', () => {
    [...txids].sort(compareBytes);
  });
  const packed = await suite.task('ledger.sortTxids.100k.sortByBytes', () => {
    sortByBytes(txids, (t) => t);
  });
  suite.note(
    'ratio.sortTxids.100k.comparator_over_sortByBytes_time',
    Math.round((packed.hz / slow.hz) * 100) / 100,
  );
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('ledger');
  await sortTxids(suite);
  await validateTx(suite);
  await applyBlockEmpty(suite);
  await applyBlockFull(suite);
  suite.write();
}
