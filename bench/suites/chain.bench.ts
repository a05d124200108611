/**
 * `npm run bench -- chain`: the chain end to end.
 *
 * - chain.sync: a fresh node process syncs CHAIN_BENCH_BLOCKS (500) full blocks (~9,300 real signed
 *   1-in-2-out transactions each, ~2 MB) from a peer node process that serves them from its data
 *   dir. hz = transactions applied per second (every signature verified, every block applied
 *   durably), from the syncing node's `node ready` to its `synced blocks` line at the top; blocks/s
 *   in notes. Target ≥ 20,000 tx/s.
 * - chain.produce: on a chain of 3 full blocks whose coins are spent next, the node's producer path
 *   for a full 2 MB block (~9,300 transactions): before the slot (not timed) the transactions are
 *   admitted by the ledger (signatures verified in the pool) and finalized (one durable write);
 *   timed: assemble from the finalized pool (each checked against the parent state) + sign +
 *   LedgerService.applyBlock (full validation, the signature cache skipping what admission
 *   verified, one durable LMDB write); meanMs. Target ≤ 250 ms. Notes: the parts, CPU per block, and
 *   longestStallMs, the longest event-loop delay while a block was produced (what the node's
 *   coordinator would have left waiting).
 *
 * Chains are built once in this process with the real assembly and the store (OpenSSL signing) and
 * cached under the temp dir (timecoin-bench-chain-v1-<blocks>): ~400 s per 50 full blocks on the
 * loaded 2-core box, so build the 500-block cache first with CHAIN_BENCH_BUILD_ONLY=1 outside the
 * benchmark lock. Every run copies the cache, so the cache itself is never opened by a node.
 * CHAIN_BENCH_SYNC_FROM=<data dir> syncs from another chain data dir instead (its height and
 * transaction count are read from it); CHAIN_BENCH_SYNC_BLOCKS=<n> stops the clock at height n. Delete a cache directory to rebuild it.
 */

import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beaconInput, selectAnchor } from '../../src/beacon/beacon-input.js';
import { leaderAtRank } from '../../src/beacon/leader-ranking.js';
import { VerifiedBeacons } from '../../src/beacon/verified-beacons.js';
import { type AssemblyInputs, assembleBlock, type BlockCandidate } from '../../src/chain/block-assembly.js';
import type { SlotContext } from '../../src/chain/block-validation.js';
import { devnetMasternodes, genesisBlock } from '../../src/chain/genesis.js';
import { rankingWeights } from '../../src/chain/header-rules.js';
import { rankWindow } from '../../src/chain/slot-time.js';
import { type Coin, FEE, fundedCoin, pay, recipient, split } from '../../src/devnet/coins.js';
import { NodeProcess } from '../../src/devnet/node-process.js';
import { opensslSigner } from '../../src/devnet/openssl-signer.js';
import { bytesEqual, fromHex, toHex } from '../../src/encoding/bytes.js';
import { LedgerService } from '../../src/ledger/ledger-service.js';
import { DEVNET } from '../../src/params/networks.js';
import { type Block, decodeBlockHeader, headerHash } from '../../src/protocol/block.js';
import type { EncodedTx } from '../../src/protocol/tx-codec.js';
import { ChainStore } from '../../src/storage/chain-store.js';
import { vdfEvaluate, vdfProve, vdfVerify } from '../../src/vdf/vdf.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';
import { BenchSuite, summarize } from '../harness.js';

const params = DEVNET;
const BLOCKS = Number(process.env['CHAIN_BENCH_BLOCKS'] ?? 500);
const PRODUCE_BLOCKS = Number(process.env['CHAIN_BENCH_PRODUCE_BLOCKS'] ?? 5);
/** Coins spent in turn: more than a full block holds, so every block is full. */
const COINS = 9_600;
const signer = opensslSigner();
const payees = Array.from({ length: 16 }, (_, i) => recipient(900_000 + i));

/** Coin state kept with the cached chain (JSON: bigint values and bytes as strings). */
interface CachedCoin {
  txid: string;
  vout: number;
  value: string;
}

function beacon(slot: number, anchorHash: Uint8Array) {
  const x = beaconInput(params.chainId, slot, anchorHash);
  const out = vdfEvaluate(x, params.vdfDelay);
  return { y: out.y, proof: vdfProve(x, out) };
}

/** Anchor and active set of `slot` on the store's chain (the next block's slot). */
function slotOn(store: ChainStore, slot: number): { anchorHash: Uint8Array; height: number } {
  const newestFirst = [];
  for (let h = store.tip().height; h >= 0; h--) {
    const header = store.getBlock(h)!.header;
    newestFirst.push({ slot: header.slot, hash: headerHash(header), height: h });
    if (header.slot < slot - 1) break;
  }
  const a = selectAnchor(newestFirst, slot);
  return { anchorHash: a.hash, height: a.height };
}

/** What a producer knows before its window opens: the slot's anchor, active set, beacon and key. */
function slotInputs(store: ChainStore) {
  const tip = store.tip();
  const s = tip.slot + 1;
  const anchor = slotOn(store, s);
  const active = store.activeMasternodes(anchor.height);
  const b = beacon(s, anchor.anchorHash);
  const leader = leaderAtRank(rankingWeights(params, active), b.y, 0)!;
  const producerKey = devnetMasternodes().find((m) =>
    bytesEqual(m.nodeKey.publicKey, leader.nodePubkey),
  )!.nodeKey;
  const beacons = new VerifiedBeacons(params, vdfVerify);
  // The producer evaluated (or verified) this beacon before its slot: it is known.
  beacons.remember({ slot: s, anchorHash: anchor.anchorHash, y: b.y, proof: b.proof });
  const slot: SlotContext = { anchorHash: anchor.anchorHash, activeMasternodes: active, beacons };
  return { s, tip, active, b, producerKey, slot };
}

/**
 * The next block on the store's tip at slot tip.slot + 1 by its rank-0 leader, from `candidates`
 * (checked against the store by assembleBlock, exactly as the node's producer does).
 */
function nextBlock(
  store: ChainStore,
  candidates: readonly BlockCandidate[],
  inputs = slotInputs(store),
): { block: Block; slot: SlotContext } {
  const block = assembleBlock(assemblyInputs(store, candidates, inputs));
  return { block, slot: inputs.slot };
}

/**
 * nextBlock as the node's producer builds it (LedgerService.assembleOnTip): drafted from the
 * finalized pool between the ledger's writes, in turns; the roots hashed in the crypto pool through
 * the ledger's memo, so validating the block hashes no roots again.
 */
async function nextBlockInPool(
  store: ChainStore,
  ledger: LedgerService,
  inputs: ReturnType<typeof slotInputs>,
): Promise<{ block: Block; slot: SlotContext }> {
  const block = await ledger.assembleOnTip(assemblyInputs(store, [], inputs));
  if (!block) throw new Error('the tip moved while a block was assembled on it');
  return { block, slot: inputs.slot };
}

function assemblyInputs(
  store: ChainStore,
  candidates: readonly BlockCandidate[],
  inputs: ReturnType<typeof slotInputs>,
): AssemblyInputs {
  const { s, tip, active, b, producerKey } = inputs;
  return {
    params,
    parent: tip,
    slot: s,
    nowMs: rankWindow(params, s, 0).startMs,
    activeMasternodes: active,
    beaconY: b.y,
    beaconProof: b.proof,
    producerKey,
    view: store,
    candidates,
  };
}

/** Self-spends of the coin set, signed lazily and kept until a block takes them. */
class Spender {
  private readonly pending = new Map<number, EncodedTx>();
  constructor(readonly coins: Coin[]) {}

  candidates(): BlockCandidate[] {
    const out: BlockCandidate[] = [];
    for (let i = 0; i < this.coins.length; i++) {
      let etx = this.pending.get(i);
      if (!etx) {
        etx = pay(this.coins[i]!, payees[i % payees.length]!, params.dustLimit, params, signer);
        this.pending.set(i, etx);
      }
      out.push({ etx, fee: FEE });
    }
    return out;
  }

  /** The block took some: their coins become the change outputs (vout 1). */
  included(block: Block): number {
    const taken = new Set(block.txs.slice(1).map((t) => toHex(t.txid)));
    let n = 0;
    for (const [i, etx] of this.pending) {
      if (!taken.has(toHex(etx.txid))) continue;
      const coin = this.coins[i]!;
      this.coins[i] = {
        outpoint: { txid: etx.txid, vout: 1 },
        value: coin.value - params.dustLimit - FEE,
        key: coin.key,
      };
      this.pending.delete(i);
      n++;
    }
    return n;
  }
}

/** Builds (or finds) the cached chain: 2 funding blocks, then `blocks` full blocks. */
async function cachedChain(
  blocks: number,
): Promise<{ dir: string; coins: Coin[]; txs: number; height: number }> {
  const dir = join(tmpdir(), `timecoin-bench-chain-v1-${blocks}`);
  const meta = join(dir, 'bench-chain.json');
  const key = fundedCoin(0).key;
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { coins: CachedCoin[]; txs: number; height: number };
    const coins = m.coins.map((c) => ({
      outpoint: { txid: fromHex(c.txid, 32), vout: c.vout },
      value: BigInt(c.value),
      key,
    }));
    console.log(`chain cache ${dir}: height ${m.height}, ${m.txs} transactions`);
    return { dir, coins, txs: m.txs, height: m.height };
  }
  rmSync(dir, { recursive: true, force: true });
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  const started = performance.now();
  try {
    // Funding: funded coin 0 → 4 parents → COINS coins (two blocks of splits, finalized in order).
    const parents = split(fundedCoin(0), Math.ceil(COINS / 3_000), 3_000n * 100_000_000n, params, signer);
    await store.applyBlock(nextBlock(store, [{ etx: parents.tx, fee: FEE }]).block);
    const splits = parents.coins.map((p, i) =>
      split(p, Math.min(3_000, COINS - i * 3_000), 90_000_000n, params, signer),
    );
    await store.applyBlock(
      nextBlock(
        store,
        splits.map((s) => ({ etx: s.tx, fee: FEE })),
      ).block,
    );
    const spender = new Spender(splits.flatMap((s) => s.coins));
    let txs = 0;
    for (let i = 0; i < blocks; i++) {
      const { block } = nextBlock(store, spender.candidates());
      await store.applyBlock(block);
      txs += spender.included(block) + 1;
      if (i % 50 === 49)
        console.log(
          `built ${i + 1}/${blocks} blocks (${Math.round((performance.now() - started) / 1000)} s)`,
        );
    }
    const m = {
      height: store.tip().height,
      txs,
      coins: spender.coins.map((c) => ({
        txid: toHex(c.outpoint.txid),
        vout: c.outpoint.vout,
        value: c.value.toString(),
      })),
    };
    await store.close();
    writeFileSync(meta, JSON.stringify(m));
    return { dir, coins: spender.coins, txs, height: m.height };
  } catch (err) {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function copyOf(dir: string, label: string): string {
  const copy = mkdtempSync(join(tmpdir(), `timecoin-bench-${label}-`));
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'bench-chain.json'), { force: true });
  return copy;
}

async function chainSync(
  suite: BenchSuite,
  chain: { dir: string; txs: number; height: number },
): Promise<void> {
  const serverDir = copyOf(chain.dir, 'chain-server');
  let server: NodeProcess | undefined;
  let syncer: NodeProcess | undefined;
  try {
    server = await NodeProcess.start({ datadir: serverDir, readyTimeoutMs: 120_000 });
    syncer = await NodeProcess.start({ seeds: [server.p2pAddress] });
    const ready = syncer.logs.find((l) => l.msg === 'node ready')!;
    const cpu0 = process.cpuUsage();
    const done = await syncer.waitForLog(
      (l) => l.msg === 'synced blocks' && (l['tip'] as number) >= chain.height,
      3_600_000,
    );
    const seconds = ((done['time'] as number) - (ready['time'] as number)) / 1000;
    void cpu0;
    const batches = syncer.logs.filter((l) => l.msg === 'synced blocks').length;
    suite.record({
      name: 'chain.sync',
      hz: chain.txs / seconds,
      meanMs: (seconds * 1000) / chain.height,
      p99Ms: 0,
      samples: 1,
    });
    suite.note('chain.sync.blocks', chain.height);
    suite.note('chain.sync.transactions', chain.txs);
    suite.note('chain.sync.seconds', Number(seconds.toFixed(1)));
    suite.note('chain.sync.blocksPerSec', Number((chain.height / seconds).toFixed(2)));
    suite.note('chain.sync.batches', batches);
    suite.note('chain.sync.txPerSecTarget', 20_000);
  } finally {
    // Under KEEP_NODE_EXEC_ARGS (e.g. --cpu-prof) a clean exit, so the profile is written.
    const signal = process.env['KEEP_NODE_EXEC_ARGS'] ? 'SIGTERM' : 'SIGKILL';
    await syncer?.kill(signal);
    await server?.kill(signal);
    if (syncer) rmSync(syncer.datadir, { recursive: true, force: true });
    rmSync(serverDir, { recursive: true, force: true });
  }
}

/** Tracks the longest gap between the ticks of a 1 ms timer until stop() (which returns it, in ms). */
function loopGaps(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

async function chainProduce(suite: BenchSuite, chain: { dir: string; coins: Coin[] }): Promise<void> {
  const dir = copyOf(chain.dir, 'chain-produce');
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  const pool = new CryptoPool();
  try {
    const ledger = LedgerService.open(params, store, pool);
    const spender = new Spender([...chain.coins]);
    const samples: number[] = [];
    const parts = { assemble: 0, apply: 0, cpu: 0, stallMs: 0 };
    let txs = 0;
    for (let i = 0; i <= PRODUCE_BLOCKS; i++) {
      // Before the slot, as in the node: wallets signed, the mempool admitted (signatures verified
      // in the pool) and Snowball finalized the transactions (one durable write). Not timed.
      const fresh = spender.candidates().filter((c) => ledger.mempool.get(c.etx.txid) === undefined);
      await Promise.all(fresh.map((c) => ledger.submitEncoded(c.etx)));
      await ledger.finalizeTxs(fresh.map((c) => c.etx.txid));
      const inputs = slotInputs(store);
      // The producer's slot: assemble from the finalized pool, sign, validate and apply durably.
      // The longest stretch the coordinator could not serve anything (a 1 ms timer's longest gap;
      // perf_hooks' monitorEventLoopDelay misses a stretch that starts before its first tick).
      const loop = loopGaps();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { block, slot } = await nextBlockInPool(store, ledger, inputs);
      const t1 = performance.now();
      await ledger.applyBlock(block, slot);
      const t2 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const stallMs = loop.stop();
      spender.included(block);
      if (i === 0) continue; // warm-up: JIT, pool threads, LMDB map growth
      parts.cpu += (cpu.user + cpu.system) / 1000;
      parts.stallMs = Math.max(parts.stallMs, stallMs);
      samples.push(t2 - t0);
      parts.assemble += t1 - t0;
      parts.apply += t2 - t1;
      txs += block.txs.length;
    }
    suite.record(summarize('chain.produce', samples));
    suite.note('chain.produce.txPerBlock', Math.round(txs / samples.length));
    suite.note('chain.produce.assembleSignMs', Number((parts.assemble / samples.length).toFixed(1)));
    suite.note('chain.produce.validateApplyMs', Number((parts.apply / samples.length).toFixed(1)));
    // CPU time of this process (coordinator and pool threads) per block: what the block costs
    // whatever else the shared machine runs (wall time above includes waiting for a core).
    suite.note('chain.produce.cpuMsPerBlock', Number((parts.cpu / samples.length).toFixed(1)));
    // The longest event-loop delay while a block was produced: how long the node's coordinator
    // would have left polls, votes and RPC waiting.
    suite.note('chain.produce.longestStallMs', Number(parts.stallMs.toFixed(1)));
    suite.note('chain.produce.poolThreads', pool.threads);
    suite.note('chain.produce.meanMsTarget', 250);
  } finally {
    await pool.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A chain's height and transaction count, read from its store (any consistent data dir). */
async function chainFacts(
  dir: string,
  upTo = Number.POSITIVE_INFINITY,
): Promise<{ dir: string; txs: number; height: number }> {
  const copy = copyOf(dir, 'chain-facts');
  const store = await ChainStore.open(copy, params, genesisBlock(params));
  try {
    const height = Math.min(store.tip().height, upTo);
    let txs = 0;
    for (let h = 1; h <= height; h++) txs += decodeBlockHeader(store.getBlockBytes(h)!).header.txCount;
    return { dir, txs, height };
  } finally {
    await store.close();
    rmSync(copy, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('chain');
  const { loadavg } = await import('node:os');
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  suite.note('loadAverageAtStart', load());
  // chain.produce needs a chain with spendable coins on top, not a long one.
  const small = await cachedChain(3);
  // Build the caches outside the machine-wide benchmark lock, then measure under it.
  const buildOnly = Boolean(process.env['CHAIN_BENCH_BUILD_ONLY']);
  if (!buildOnly) await chainProduce(suite, small);
  // CHAIN_BENCH_SKIP_SYNC=1 with BENCH_RESULT_TAG=… re-measures chain.produce alone.
  if (!process.env['CHAIN_BENCH_SKIP_SYNC']) {
    // CHAIN_BENCH_SYNC_FROM: serve another chain data dir (e.g. a copy of a cache still building).
    const from = process.env['CHAIN_BENCH_SYNC_FROM'];
    const full = from ? await chainFacts(from) : await cachedChain(BLOCKS);
    if (buildOnly) return;
    // CHAIN_BENCH_SYNC_BLOCKS: measure only up to this height (the peer still serves all of it).
    const cap = Number(process.env['CHAIN_BENCH_SYNC_BLOCKS'] ?? full.height);
    const big = cap >= full.height ? full : { ...(await chainFacts(full.dir, cap)), dir: full.dir };
    await chainSync(suite, big);
  }
  if (buildOnly) return;
  suite.note('loadAverageAtEnd', load());
  suite.write();
}
