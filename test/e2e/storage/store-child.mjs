// Child process for data-dir-lock.test.ts (run from the compiled dist/). Modes:
//   hold <dir>         open the chain store (taking the data dir lock), print "locked <pid>", then
//                      stay until killed
//   open <dir>         try to open the chain store; print "opened" or "refused <code> <details>"
//   rewind-tip <dir> <height>
//                      bypass the lock (raw LMDB, as a tool or an older binary might) and set the
//                      stored tip to the block at <height>; print "rewound"
import { DEVNET } from '../../../dist/src/params/networks.js';
import { decodeBlock, headerHash } from '../../../dist/src/protocol/block.js';
import { ChainStore } from '../../../dist/src/storage/chain-store.js';
import { encodeChainTip } from '../../../dist/src/storage/chain-tip.js';
import { openDatabases } from '../../../dist/src/storage/databases.js';
import { SyntheticChain } from '../../../dist/src/storage/testing/synthetic-chain.js';

const [mode, dir, arg] = process.argv.slice(2);
const genesis = SyntheticChain.create(DEVNET, 7, 20).genesis();

if (mode === 'hold') {
  await ChainStore.open(dir, DEVNET, genesis);
  process.stdout.write(`locked ${process.pid}\n`);
  setInterval(() => {}, 1 << 30);
} else if (mode === 'open') {
  try {
    const store = await ChainStore.open(dir, DEVNET, genesis);
    process.stdout.write('opened\n');
    await store.close();
  } catch (err) {
    process.stdout.write(`refused ${err.code} ${JSON.stringify(err.details)}\n`);
    process.exitCode = 1;
  }
} else if (mode === 'rewind-tip') {
  const dbs = openDatabases(dir);
  const height = Number(arg);
  const block = decodeBlock(dbs.blocks.get(height), DEVNET.maxBlockBytes);
  dbs.env.transactionSync(() =>
    dbs.meta.putSync(
      'tip',
      encodeChainTip({ height, hash: headerHash(block.header), slot: block.header.slot }),
    ),
  );
  await dbs.env.close();
  process.stdout.write('rewound\n');
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exitCode = 2;
}
