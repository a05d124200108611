// Crash-test child (run by crash.test.ts from the compiled dist/): opens the chain store in
// argv[2] and applies deterministic blocks of the chain seeded by argv[3] forever, printing
// "committed <height> <hash>" after each durable commit (and "reverting <height>" before each
// revert). The parent SIGKILLs it at moments tied to these lines (kill-plan.ts). On start it
// re-walks the deterministic generator up to the stored tip (checking every stored hash) so it
// continues the same chain.
import { toHex } from '../../../dist/src/encoding/bytes.js';
import { DEVNET } from '../../../dist/src/params/networks.js';
import { headerHash } from '../../../dist/src/protocol/block.js';
import { ChainStore } from '../../../dist/src/storage/chain-store.js';
import { SeededRandom, SyntheticChain } from '../../../dist/src/storage/testing/synthetic-chain.js';

const [dir, seedText] = process.argv.slice(2);
const seed = Number(seedText);

/** The block plan depends only on (seed, height), so every restart regenerates the same chain. */
function planFor(height) {
  const r = new SeededRandom((seed * 7919 + height) >>> 0);
  return { spends: 5 + r.below(40), registrations: r.below(3), deregistrations: r.below(2) };
}

const gen = SyntheticChain.create(DEVNET, seed, 300);
const genesis = gen.genesis();
const store = await ChainStore.open(dir, DEVNET, genesis);
const tip = store.tip();
for (let h = 1; h <= tip.height; h++) {
  const block = gen.nextBlock(planFor(h));
  const stored = store.getBlock(h);
  if (!stored || toHex(headerHash(stored.header)) !== toHex(headerHash(block.header))) {
    process.stderr.write(`stored block ${h} is not the deterministic block\n`);
    process.exit(3);
  }
}
process.stdout.write(`ready ${tip.height}\n`);
const recent = [];
for (let h = tip.height + 1; ; h++) {
  const block = gen.nextBlock(planFor(h));
  // Some of the block's transactions pass through the finalized pool first, as in the node.
  await store.putFinalized(...block.txs.slice(1, 1 + (h % 4)));
  await store.applyBlock(block);
  process.stdout.write(`committed ${h} ${toHex(headerHash(block.header))}\n`);
  recent.push(block);
  if (recent.length > 2) recent.shift();
  // Every fifth height: revert the last two blocks and apply them again, so kills also land in
  // and between reverts (the chain stays deterministic for the re-walk above).
  if (h % 5 === 0 && recent.length === 2) {
    for (let k = 0; k < 2; k++) {
      // Announced BEFORE the revert: once it starts, the block may legitimately be gone after a kill.
      process.stdout.write(`reverting ${store.tip().height}\n`);
      await store.revertTip();
    }
    for (const b of recent) {
      await store.applyBlock(b);
      process.stdout.write(`committed ${b.header.height} ${toHex(headerHash(b.header))}\n`);
    }
  }
}
