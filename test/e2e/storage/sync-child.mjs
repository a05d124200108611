// Durability-test child (run under strace by durability.test.ts, from the compiled dist/): opens the
// chain store in argv[2] and performs every kind of durable write ChainStore offers — open with
// genesis, putFinalized, applyBlock, revertTip, deleteFinalized — argv[3] blocks' worth of them.
// Around each call it writes "about-to-<op> <n>" and "<op>-done <n>" to stdout with a synchronous
// write(2), so the markers appear in strace's log in order with LMDB's own writes and syncs.
import { writeSync } from 'node:fs';
import { DEVNET } from '../../../dist/src/params/networks.js';
import { ChainStore } from '../../../dist/src/storage/chain-store.js';
import { SyntheticChain } from '../../../dist/src/storage/testing/synthetic-chain.js';

const [dir, blocksText] = process.argv.slice(2);
const blocks = Number(blocksText);

async function durably(op, n, write) {
  writeSync(1, `about-to-${op} ${n}\n`);
  await write();
  writeSync(1, `${op}-done ${n}\n`);
}

const gen = SyntheticChain.create(DEVNET, 99, 100);
const genesis = gen.genesis();
let store;
await durably('open', 0, async () => {
  store = await ChainStore.open(dir, DEVNET, genesis);
});
const applied = [];
for (let h = 1; h <= blocks; h++) {
  const block = gen.nextBlock({ spends: 20, registrations: h % 2, deregistrations: h % 3 === 0 ? 1 : 0 });
  // Two of its transactions are finalized first, as in the node.
  await durably('finalize', h, () => store.putFinalized(...block.txs.slice(1, 3)));
  await durably('commit', h, () => store.applyBlock(block));
  applied.push(block);
}
// A reorg of two blocks and their re-application, then a finalized transaction dropped.
for (let k = 0; k < 2; k++) await durably('revert', store.tip().height, () => store.revertTip());
for (const block of applied.slice(-2)) {
  await durably('commit', block.header.height, () => store.applyBlock(block));
}
const extra = gen.nextBlock({ spends: 2 });
await durably('finalize', blocks + 1, () => store.putFinalized(extra.txs[1]));
await durably('unfinalize', blocks + 1, () => store.deleteFinalized(extra.txs[1].txid));
await store.close();
writeSync(1, 'exit\n');
