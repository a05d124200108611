// The modules `npm run mutate -- <module>` knows, with the test files that cover each one, so a
// mutant runs only those tests instead of the whole suite. Shared by stryker.config.mjs (what
// Stryker mutates and runs) and scripts/mutate.mjs (the summary in bench/results/mutation.json).
//
// Choosing the tests: every test file that imports the module directly or through a helper and
// runs in-process. Left out on purpose: tests that spawn compiled children from dist/ (the crash
// and durability tests, the CLI tests: a mutant in src/ never reaches them) and the socket-level
// transport suites under test/e2e/p2p (seconds per run, and src/wire's own unit tests exercise
// every schema and limit).
//
// test/e2e/ledger/long-chain.test.ts is left out too: it builds and applies a 20,000-transaction
// chain (issue 12, stack depth) and covers nearly every ledger line, so each of hundreds of mutants
// ran it (a ledger run was heading for an hour). test/unit/ledger/dependency-order.test.ts holds
// the ordering rule; long-chain only adds the depth.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @typedef {{ mutate: string[], tests: string[], target: number | null, why?: string }} MutationModule */

/** The in-process ledger suites, without long-chain.test.ts (see above). */
const E2E_LEDGER = [
  'test/e2e/ledger/ledger-service.test.ts',
  'test/e2e/ledger/mempool-lifecycle.test.ts',
  'test/e2e/ledger/registry-changes.test.ts',
];

/** @type {Record<string, MutationModule>} */
export const MUTATION_MODULES = {
  // Issue 15 targets: 85 % for the consensus rules, 70 % for storage and wire.
  ledger: {
    mutate: ['src/ledger/**/*.ts'],
    tests: [
      'test/unit/ledger/**/*.test.ts',
      ...E2E_LEDGER,
      'test/unit/chain/block-validation.test.ts',
      // LedgerService.assembleOnTip (the producer's draft on the write queue) is exercised there.
      'test/unit/node/block-producer.test.ts',
      // The mempool's observer hooks, checked against a walk of the pool.
      'test/unit/node/mempool-address-index.test.ts',
    ],
    target: 85,
  },
  chain: {
    mutate: ['src/chain/**/*.ts'],
    tests: [
      'test/unit/chain/**/*.test.ts',
      ...E2E_LEDGER,
      'test/unit/storage/genesis-store.test.ts',
      'test/unit/protocol/vectors.test.ts',
    ],
    target: 85,
  },
  protocol: {
    mutate: ['src/protocol/**/*.ts'],
    tests: [
      'test/unit/protocol/**/*.test.ts',
      'test/unit/wire/handshake.test.ts',
      'test/unit/chain/block-validation.test.ts',
      'test/unit/ledger/tx-validation.test.ts',
      'test/unit/crypto/sha2-merkle-wasm.test.ts',
    ],
    target: 85,
  },
  'consensus/snowball': {
    mutate: ['src/consensus/snowball/**/*.ts'],
    // Not test/sim/byzantine and test/sim/simulation: 82 s and 34 s of many-seed simulations per
    // run (more once instrumented; one exceeded the 60 s test timeout in the initial run). The
    // engine's unit tests and the short adversary scenarios in weights.test.ts carry the rules.
    tests: ['test/unit/consensus/**/*.test.ts', 'test/sim/weights.test.ts', 'test/sim/setup.test.ts'],
    target: 85,
  },
  beacon: {
    mutate: ['src/beacon/**/*.ts'],
    tests: ['test/unit/beacon/**/*.test.ts', 'test/unit/vdf/doc-vectors.test.ts'],
    target: 85,
  },
  storage: {
    mutate: ['src/storage/**/*.ts', '!src/storage/testing/**'],
    // The double-sign evidence store is exercised by the detector's tests, and the data-dir lock by
    // its e2e test (in-process locks plus a child holding one): without them the first run left
    // 135 of their mutants without coverage.
    tests: [
      'test/unit/storage/**/*.test.ts',
      ...E2E_LEDGER,
      'test/unit/node/double-sign-detector.test.ts',
      'test/e2e/storage/data-dir-lock.test.ts',
      // The open probe's own rules run in-process; its child (open-probe-main.ts) runs from dist/,
      // so a mutant there never reaches a test: those few are NoCoverage by construction.
      'test/e2e/storage/open-probe.test.ts',
    ],
    target: 70,
  },
  wire: {
    mutate: ['src/wire/**/*.ts'],
    tests: ['test/unit/wire/**/*.test.ts'],
    target: 70,
  },
  // The node joins the consensus group (issue 15). Only the files its in-process unit tests reach
  // are mutated: the rest of src/node (node.ts, chain-controller, block-producer, node-rpc, …) is
  // exercised by the multi-process tests under test/e2e/node alone, which a mutant run must not
  // start (seconds per node, several processes, and they run the compiled dist/, not the mutant),
  // so its mutants would all be NoCoverage. Widen this list as unit tests for those files land.
  node: {
    mutate: [
      'src/node/finalizer.ts',
      'src/node/poller.ts',
      'src/node/orphan-pool.ts',
      'src/node/tx-fetcher.ts',
      'src/node/tx-gossip.ts',
      'src/node/validator-set.ts',
      'src/node/node-key.ts',
      'src/node/node-metrics.ts',
      'src/node/tx-server.ts',
      'src/node/vote-responder.ts',
      'src/node/adaptive-timeout.ts',
      'src/node/double-sign-detector.ts',
      // Fork choice, block acceptance and sync (chain-controller with block-tree and chain-index),
      // and the one way into the mempool (tx-intake with finality-waiters): unit-tested in process.
      'src/node/block-sync.ts',
      'src/node/block-tree.ts',
      'src/node/chain-controller.ts',
      'src/node/chain-index.ts',
      'src/node/finality-waiters.ts',
      'src/node/tx-intake.ts',
      'src/node/verify-budget.ts',
      // The slot scheduler's producing side and the beacon it waits for: when a validator
      // publishes, on which parent and in which window (unit-tested over a manual clock).
      'src/node/block-producer.ts',
      'src/node/beacon-service.ts',
      'src/node/beacon-failure-budget.ts',
      // Catch-up on (re)connect: how far a peer's inventory walk may take us.
      'src/node/inventory-sync.ts',
      // What the mempool adds to and takes from an address (getbalance, listunspent).
      'src/node/mempool-address-index.ts',
    ],
    tests: ['test/unit/node/**/*.test.ts', 'test/e2e/beacon-service.test.ts'],
    target: 85,
  },
  // The transport's admission and abuse rules (who gets a slot, what an offence costs, when a ban
  // ends, what the address book hands out, what a handshake accepts): each is a pure function or a
  // small class an attacker's traffic reaches. Not mutated: p2p-node.ts, peer-session.ts and the
  // socket glue (uws-server, ws-dialer, raw-ws-client, probe), which only the socket-level suites
  // under test/e2e/p2p reach (seconds per run per mutant); the refusal suite is included because
  // it is the handshake's own.
  p2p: {
    mutate: [
      'src/p2p/address-book.ts',
      'src/p2p/backoff.ts',
      'src/p2p/ban-list.ts',
      'src/p2p/connection-slots.ts',
      'src/p2p/cpu-meter.ts',
      'src/p2p/cpu-throttle.ts',
      'src/p2p/gossip-relay.ts',
      'src/p2p/handshake.ts',
      'src/p2p/ip-address.ts',
      'src/p2p/misbehaviour.ts',
      'src/p2p/peer-buckets.ts',
      'src/p2p/peer-scores.ts',
      'src/p2p/pending-requests.ts',
      'src/p2p/token-bucket.ts',
      // What we send each peer: never over its frame limits, message rates or byte budget.
      'src/p2p/outbound-pacer.ts',
      'src/p2p/rate-limits.ts',
    ],
    tests: [
      'test/e2e/p2p/components.test.ts',
      'test/e2e/p2p/handshake-refusals.test.ts',
      'test/unit/p2p/**/*.test.ts',
      'test/unit/wire/handshake.test.ts',
      'test/unit/storage/peer-ban-store.test.ts',
    ],
    target: 70,
  },
  // Consensus crypto on the TypeScript side: which public keys a node accepts (small order,
  // non-canonical), the batch and leaf-root codecs the pool workers read, the WASM wrappers. The
  // Ed25519 and SHA-256 arithmetic itself is AssemblyScript under wasm/ (not mutated here: it is
  // checked against official vectors and node:crypto / @noble as oracles).
  crypto: {
    mutate: ['src/crypto/**/*.ts', '!src/crypto/index.ts'],
    tests: ['test/unit/crypto/**/*.test.ts'],
    target: 85,
  },
  // The coordinator's side of the crypto pool: how signatures are batched and split among
  // workers, and how each answer finds its caller again (a mix-up here would accept a bad
  // signature as good), retries after a worker dies, back-pressure, shutdown. The worker side
  // (src/workers/handlers, worker-entry.ts, and pool-errors.ts's errors, which the workers and
  // the worker-path check construct) runs the compiled dist/ in its threads or only when the build
  // is missing, and never sees a mutant.
  workers: {
    mutate: ['src/workers/signature-batcher.ts', 'src/workers/crypto-pool.ts'],
    tests: [
      'test/unit/crypto/signature-batcher.test.ts',
      'test/e2e/crypto-pool.test.ts',
      'test/e2e/vdf-pool.test.ts',
    ],
    target: 85,
  },
  // The VDF beacon's rules: HashToGroup, HashToPrime (trial division + Miller–Rabin with fixed
  // bases), the Wesolowski proof and its check, the delay bounds. A mutant here that still passes
  // could let a forged beacon verify. Not mutated: the pool glue (pool-vdf, pool-payloads), whose
  // workers run the compiled dist/ and so never see a mutant.
  vdf: {
    mutate: [
      'src/vdf/**/*.ts',
      '!src/vdf/pool-vdf.ts',
      '!src/vdf/pool-payloads.ts',
      '!src/vdf/index.ts',
      '!src/vdf/errors.ts',
    ],
    tests: ['test/unit/vdf/**/*.test.ts'],
    target: 85,
  },
  // Not named by the issue. Every hashed or signed byte layout is written and read through
  // src/encoding and every rule reads src/params, so they are held to the consensus bar.
  encoding: {
    mutate: ['src/encoding/**/*.ts'],
    tests: [
      'test/unit/encoding/**/*.test.ts',
      'test/unit/protocol/**/*.test.ts',
      'test/unit/storage/record-codecs.test.ts',
    ],
    target: 85,
  },
  params: {
    mutate: ['src/params/**/*.ts'],
    tests: [
      'test/unit/params/**/*.test.ts',
      'test/unit/config/node-config.test.ts',
      'test/unit/chain/reward.test.ts',
      'test/unit/protocol/vectors.test.ts',
    ],
    target: 85,
  },
  // What a wallet, an exchange or an operator's client meets first: JSON-RPC 2.0 framing and its
  // error objects (-32700/-32600/-32601/-32602, batches, params by position or name) and the
  // cookie / Basic authentication, with the HTTP server in process. The methods are `rpc-methods`.
  rpc: {
    mutate: [
      'src/rpc/json-rpc.ts',
      'src/rpc/rpc-auth.ts',
      'src/rpc/rpc-server.ts',
      'src/rpc/events-server.ts',
    ],
    tests: [
      'test/unit/rpc/**/*.test.ts',
      'test/e2e/rpc/rpc-server.test.ts',
      'test/e2e/rpc/events-server.test.ts',
      'test/unit/cli/rpc-client.test.ts',
    ],
    target: 70,
  },
  // The node's RPC methods (what getblock, getbalance, listunspent, sendrawtransaction… answer and
  // refuse), against a node started in the test process: test/e2e/node/node-rpc.test.ts.
  'rpc-methods': {
    mutate: ['src/node/node-rpc.ts', 'src/node/address-rpc.ts'],
    tests: ['test/e2e/node/node-rpc.test.ts'],
    target: 70,
  },
  // A corrupt or mistyped config must stop the node at startup with a message naming the key.
  config: {
    mutate: ['src/config/**/*.ts'],
    tests: ['test/unit/config/**/*.test.ts'],
    target: 70,
  },
  // The wallet's key file (scrypt, permissions, refusal of a wrong passphrase) and the payment it
  // builds and signs.
  wallet: {
    mutate: ['src/wallet/**/*.ts'],
    tests: [
      'test/unit/wallet/**/*.test.ts',
      'test/unit/protocol/vectors.test.ts',
      'test/unit/ledger/tx-validation.test.ts',
    ],
    target: 70,
  },
};

/**
 * `ledger`, `src/ledger`, `src/ledger/` and `consensus/snowball` all name a module. A module that
 * takes too long splits per file: `protocol/address` (or `src/protocol/address.ts`) mutates only
 * src/protocol/address.ts against the protocol module's tests, with its own summary line.
 */
export function resolveModule(arg) {
  const name = String(arg ?? '')
    .replace(/^src\//, '')
    .replace(/\.ts$/, '')
    .replace(/\/+$/, '');
  const slug = name.replaceAll('/', '-');
  const module = MUTATION_MODULES[name];
  if (module) return { name, slug, ...module };
  const slash = name.lastIndexOf('/');
  const parent = slash > 0 ? MUTATION_MODULES[name.slice(0, slash)] : undefined;
  const file = `src/${name}.ts`;
  if (parent && existsSync(join(ROOT, file))) return { name, slug, ...parent, mutate: [file] };
  const known = Object.keys(MUTATION_MODULES).join(', ');
  throw new Error(`unknown mutation module ${JSON.stringify(arg)}; known: ${known} (or <module>/<file>)`);
}

/** Where a module's reports (ignored) and incremental file (committed) live. */
export function mutationPaths(slug) {
  return {
    reportDir: `reports/mutation/${slug}`,
    htmlReport: `reports/mutation/${slug}/index.html`,
    jsonReport: `reports/mutation/${slug}/mutation.json`,
    incrementalFile: `bench/results/mutation/${slug}.incremental.json`,
  };
}
