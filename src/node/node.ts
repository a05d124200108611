import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { VerifiedBeacons } from '../beacon/verified-beacons.js';
import { parseBlock } from '../chain/block-validation.js';
import { genesisBlock } from '../chain/genesis.js';
import { beaconSlotWanted, isFarFromTheFuture } from '../chain/relay-policy.js';
import { ensureDatadir, type NodeConfig } from '../config/node-config.js';
import { Benchlist } from '../consensus/snowball/benchlist.js';
import { SnowballEngine } from '../consensus/snowball/engine.js';
import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { toHex } from '../encoding/bytes.js';
import { LedgerService } from '../ledger/ledger-service.js';
import { SerialQueue } from '../ledger/serial-queue.js';
import { P2pNode, type PeerInfo } from '../p2p/p2p-node.js';
import { loadOrCreateTlsMaterial } from '../p2p/tls-certificate.js';
import type { ChainParams } from '../params/chain-params.js';
import { type Block, encodeBlock, headerHash } from '../protocol/block.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { EventsHub } from '../rpc/events-server.js';
import { RpcDispatcher } from '../rpc/json-rpc.js';
import { RpcAuth } from '../rpc/rpc-auth.js';
import { RpcServer } from '../rpc/rpc-server.js';
import { ChainStore } from '../storage/chain-store.js';
import { ENV_FILE } from '../storage/databases.js';
import type { DoubleSignStore } from '../storage/double-sign-store.js';
import type { KeyPair } from '../wallet/keys.js';
import { MSG } from '../wire/message-types.js';
import { CryptoPool } from '../workers/crypto-pool.js';
import { BeaconService } from './beacon-service.js';
import { BlockProducer } from './block-producer.js';
import { answerGetBlocks, BlockSync } from './block-sync.js';
import { BlockTree } from './block-tree.js';
import { type BlockSource, ChainController } from './chain-controller.js';
import { ChainIndex } from './chain-index.js';
import { dashboardRoutes } from './dashboard.js';
import { DoubleSignDetector } from './double-sign-detector.js';
import { FinalityWaiters } from './finality-waiters.js';
import { FINALITY_GROUP_COMMIT_MS, Finalizer, releaseIncluded } from './finalizer.js';
import { InventorySync } from './inventory-sync.js';
import { NodeMetrics, rssParts } from './node-metrics.js';
import { registerNodeRpc } from './node-rpc.js';
import { DEFAULT_ORPHAN_LIMITS, OrphanPool } from './orphan-pool.js';
import { Poller } from './poller.js';
import { SYSTEM_CLOCK } from './slot-clock.js';
import { TestSpammer } from './test-spammer.js';
import { TestSwitches } from './test-switches.js';
import { TxFetcher } from './tx-fetcher.js';
import { TxGossip } from './tx-gossip.js';
import { TxIntake } from './tx-intake.js';
import { answerGetTx, InventorySnapshot } from './tx-server.js';
import { ValidatorSet } from './validator-set.js';
import { VerifyBudget } from './verify-budget.js';
import { ledgerVoteOf, VoteResponder } from './vote-responder.js';

export interface NodeStartOptions {
  readonly params: ChainParams;
  readonly config: NodeConfig;
  readonly key: KeyPair;
  readonly log: Logger;
  /** Enables test-only behaviour switches over RPC; refused outside devnet. */
  readonly testSwitches?: boolean;
  readonly now?: () => number;
}

/**
 * The composition root: the only place that constructs the store, the crypto pool, the ledger, the
 * Snowball engine, the transport and the RPC server, wires them together, and shuts them down in
 * order. Threads: everything here runs on the coordinator (main thread); signature verification
 * (and later merkle roots and the VDF) runs in the piscina pool.
 *
 * Transaction path: peer gossip / GetTx answers / RPC → TxIntake (decode, dedup, ledger rules,
 * signatures in the pool, mempool) → SnowballEngine.add → gossip to every peer → Poller (sampled
 * polls) → Finalizer (one durable write per batch of decisions, then final in memory) → events.
 */
export class TimeNode {
  readonly startedAtMs: number;
  readonly waiters = new FinalityWaiters();
  readonly events = new EventsHub();
  readonly serial = new SerialQueue();
  private stopping: Promise<void> | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Set by the process owner (the CLI): what RPC `stop` does (the same as SIGTERM). */
  onStopRequested: () => void = () => {
    void this.stop();
  };

  private constructor(
    readonly params: ChainParams,
    readonly config: NodeConfig,
    readonly key: KeyPair,
    readonly log: Logger,
    readonly store: ChainStore,
    readonly pool: CryptoPool,
    readonly ledger: LedgerService,
    readonly engine: SnowballEngine,
    readonly metrics: NodeMetrics,
    readonly switches: TestSwitches,
    readonly now: () => number,
  ) {
    this.startedAtMs = now();
  }

  // Set during start(); wired in order, torn down in reverse.
  p2p!: P2pNode;
  validators!: ValidatorSet;
  intake!: TxIntake;
  poller!: Poller;
  finalizer!: Finalizer;
  fetcher!: TxFetcher;
  gossip!: TxGossip;
  orphans!: OrphanPool;
  responder!: VoteResponder;
  index!: ChainIndex;
  tree!: BlockTree;
  verifiedBeacons!: VerifiedBeacons;
  beacons!: BeaconService;
  chain!: ChainController;
  producer!: BlockProducer;
  sync!: BlockSync;
  inventory!: InventorySync;
  doubleSigns!: DoubleSignStore;
  doubleSignDetector!: DoubleSignDetector;
  spammer!: TestSpammer;
  rpc!: RpcServer;
  rpcAuth!: RpcAuth;
  rpcPort = 0;
  p2pPort = 0;

  get nodeId(): string {
    return toHex(this.key.publicKey);
  }

  get role(): 'validator' | 'full' {
    return this.validators.isValidator ? 'validator' : 'full';
  }

  static async start(o: NodeStartOptions): Promise<TimeNode> {
    const { params, config, log } = o;
    const now = o.now ?? Date.now;
    ensureDatadir(config.datadir);
    const genesis = genesisBlock(params);
    const store = await ChainStore.open(config.datadir, params, genesis);
    // Not at the chain's tip (a new or upgraded data dir, or a crash between a block's commit and
    // its index commit): rebuilt at open, which takes a while on a large UTXO set.
    if (store.addressIndex.rebuilt !== null)
      log.info(
        { outputs: store.addressIndex.rebuilt, height: store.tip().height },
        'address index rebuilt from the UTXO set',
      );
    const pool = new CryptoPool(config.node.workers ? { threads: config.node.workers } : {});
    const ledger = LedgerService.open(params, store, pool, {
      maxCount: config.mempool.maxCount,
      maxBytes: config.mempool.maxBytes,
      processingExpiryMs: config.mempool.processingExpiryMs,
    });
    const engine = new SnowballEngine(params.snowball, params.maxTxidsPerPoll);
    const node = new TimeNode(
      params,
      config,
      o.key,
      log,
      store,
      pool,
      ledger,
      engine,
      new NodeMetrics(),
      new TestSwitches(o.testSwitches === true && params.network === 'devnet'),
      now,
    );
    try {
      await node.wire(genesis);
    } catch (err) {
      await node.stop();
      throw err;
    }
    return node;
  }

  requestStop(): void {
    this.onStopRequested();
  }

  /** Local submission (RPC): the same path as peers' transactions. */
  submitTx(bytes: Uint8Array) {
    return this.intake.submitLocal(bytes);
  }

  private async wire(genesis: ReturnType<typeof genesisBlock>): Promise<void> {
    const { params, config, ledger, engine, metrics, log } = this;
    const genesisHash = headerHash(genesis.header);

    this.validators = new ValidatorSet(params, this.key.publicKey, new Benchlist([]));

    this.p2p = new P2pNode({
      identity: {
        chainId: params.chainId,
        genesisHash,
        publicKey: this.key.publicKey,
        secretKey: this.key.secretKey,
        tip: () => {
          const t = this.store.tip();
          return { height: t.height, hash: t.hash, slot: t.slot };
        },
        // The TLS certificate the node key binds to each handshake (made on first start).
        tls: await loadOrCreateTlsMaterial(config.datadir),
      },
      peerExchange: config.p2p.peerExchange,
      // A devnet runs on one host: its peers have loopback addresses.
      acceptLocalAddresses: params.network === 'devnet',
      host: config.p2p.listen,
      port: config.p2p.port,
      seeds: config.p2p.seeds.map((s) => {
        const i = s.lastIndexOf(':');
        return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
      }),
      banList: this.store.peerBans(),
    });

    // A masternode's orphans leave after those of keys without stake (flooding them is free).
    this.orphans = new OrphanPool(DEFAULT_ORPHAN_LIMITS, (id) => this.validators.isActive(id));
    this.gossip = new TxGossip({ flushMs: 5, send: (batch) => this.p2p.gossipTxs(batch) });
    this.finalizer = new Finalizer({
      ledger,
      engine,
      minWriteIntervalMs: FINALITY_GROUP_COMMIT_MS,
      onFinal: (etx) => this.onFinal(etx),
      onRejected: (etx) => this.onRejected(etx),
      onHalt: (halted, err) => {
        metrics.finalityHalted.set(halted ? 1 : 0);
        if (halted)
          log.error(
            { err: err?.message },
            'cannot persist finalized transactions: finality halted until the write succeeds (is the disk full?)',
          );
        else log.warn('finalized transactions persisted again: finality resumed');
        if (!halted) this.poller.wake();
      },
    });
    this.intake = new TxIntake({
      ledger,
      engine,
      includedHeight: (txid) => this.store.getTxHeight(txid),
      orphans: this.orphans,
      gossip: this.gossip,
      metrics,
      scorer: {
        invalidTransaction: (peerId, code, detail) => {
          log.debug({ peer: peerId.slice(0, 16), code, detail }, 'peer sent an invalid transaction');
          this.p2p.misbehaved(peerId, 'INVALID_TX', `${code}: ${detail}`.slice(0, 200));
        },
      },
      onAdmitted: () => this.poller.wake(),
      now: this.now,
      maxInFlight: 8_192,
      verifyBudget: new VerifyBudget({ isStaked: (id) => this.validators.isActive(id), now: this.now }),
      maxSubmitBacklog: config.consensus.maxSubmitBacklog,
      waitOutcome: (txid, timeoutMs) => this.waiters.wait(txid, timeoutMs),
    });
    this.fetcher = new TxFetcher({
      request: async (peerId, txids) => {
        metrics.txFetchesSent.inc();
        return (await this.p2p.request(peerId, { t: MSG.getTx, txids })).txs;
      },
      deliver: (peerId, txs) => this.intake.fromPeer(peerId, txs),
      known: (txid) => this.intake.knows(txid),
      arriving: (txid) => this.intake.arriving(txid),
      now: this.now,
      batchMs: 2,
      retryAfterMs: 2_000,
      maxTracked: 100_000,
    });
    this.responder = new VoteResponder({
      engine,
      ledgerVote: ledgerVoteOf(this.ledger.mempool, (txid) => this.store.getTxHeight(txid) !== undefined),
      unknown: (peerId, txid) => {
        if (!this.fetcher.wantNamedInPoll(peerId, txid)) metrics.txFetchesOverBudget.inc();
      },
    });
    const rng = new Xoshiro128(randomBytes(4).readUInt32LE(0));
    this.poller = new Poller({
      params,
      engine,
      validators: this.validators,
      transport: {
        poll: async (peerId, txids, timeoutMs) => {
          // Gossip waiting for its batch timer goes out first, on the same connections: a poll
          // that names a transaction the peer has not been sent yet costs a GetTx round trip and
          // an UNKNOWN vote, and polls start within a millisecond of admission. (Only a peer's
          // exhausted Tx allowance can still hold the batch back; GetTx then recovers it.)
          this.gossip.flush();
          return (await this.p2p.request(peerId, { t: MSG.pollRequest, txids }, timeoutMs)).votes;
        },
      },
      observer: {
        answered: (id, now) => this.validators.bench.recordResponse(id, now),
        missed: (id, now) => {
          if (this.validators.bench.recordFailure(id, now))
            log.info({ peer: id.slice(0, 16) }, 'validator benched: it keeps missing our polls');
        },
        malformed: (id, detail) => {
          log.debug({ peer: id.slice(0, 16), detail }, 'malformed poll answer');
          this.p2p.misbehaved(id, 'INVALID_RESPONSE', detail.slice(0, 200));
        },
      },
      metrics,
      selfVotes: (txids) => this.responder.votes(txids, undefined),
      onApplied: () => this.finalizer.collect(),
      rng,
      now: this.now,
      minPollIntervalMs: config.consensus.minPollIntervalMs,
      paused: () => this.finalizer.isHalted,
    });

    this.wireBlocks();

    this.p2p.handle(MSG.pollRequest, (peer, req) => {
      if (this.switches.silent) return new Promise(() => undefined);
      // The Byzantine vote modes (equivocate, alwaysNo) act here, at the answer, and nowhere else.
      const votes = this.switches.distortVotes(this.responder.votes(req.txids, peer.peerId));
      metrics.votesAnswered.inc(votes.length);
      return { t: MSG.pollResponse, votes };
    });
    this.p2p.handle(MSG.getTx, (_peer, req) => ({ t: MSG.tx, txs: answerGetTx(ledger.mempool, req.txids) }));
    const snapshot = new InventorySnapshot(ledger.mempool, this.now);
    this.p2p.handle(MSG.getInventory, (_peer, req) => ({ t: MSG.inventory, ...snapshot.page(req.after) }));
    this.inventory = new InventorySync({
      source: {
        page: async (peerId, after) => {
          const r = await this.p2p.request(peerId, { t: MSG.getInventory, after });
          return { txids: r.txids, next: r.next };
        },
      },
      fetch: (peerId, txids) => this.fetcher.fetchListed(peerId, txids),
      onBadPage: (peerId, detail) => this.p2p.misbehaved(peerId, 'INVALID_RESPONSE', detail),
      log,
      now: this.now,
    });
    this.p2p.on('peer:connected', (peer: PeerInfo) => {
      this.validators.peerConnected(peer.peerId);
      this.sync.peerTip(peer.peerId, peer.tipHeight);
      void this.inventory.catchUp(peer.peerId);
      log.debug({ peer: peer.peerId.slice(0, 16), direction: peer.direction }, 'peer connected');
      this.poller.wake();
    });
    this.p2p.on('peer:disconnected', (e: { peerId: string; code: number; reason: string }) => {
      this.validators.peerDisconnected(e.peerId);
      this.sync.peerGone(e.peerId);
      log.debug({ peer: e.peerId.slice(0, 16), code: e.code, reason: e.reason }, 'peer disconnected');
    });
    this.p2p.on('gossip:tx', (peer: PeerInfo, txs: Uint8Array[]) => this.intake.fromPeer(peer.peerId, txs));
    this.p2p.on('peer:tip', (peer: PeerInfo, tip: { height: number }) =>
      this.sync.peerTip(peer.peerId, tip.height),
    );
    this.p2p.on('handler:error', (e: { peerId: string; type: number; error: unknown }) =>
      log.error({ peer: e.peerId.slice(0, 16), type: e.type, err: String(e.error) }, 'p2p handler failed'),
    );
    this.p2p.on('error', (err: Error) => log.error({ err: err.message }, 'p2p error'));
    // Bans are what an operator looks for when a peer misbehaves (docs/operations.md).
    this.p2p.on('peer:banned', (e: { peerId: string; offence: string; detail: string; untilMs: number }) =>
      log.warn(
        { peer: e.peerId.slice(0, 16), offence: e.offence, detail: e.detail, untilMs: e.untilMs },
        'peer banned',
      ),
    );
    this.p2p.on('ip:banned', (e: { ip: string; offence: string; detail: string; untilMs: number }) =>
      log.warn({ ip: e.ip, offence: e.offence, detail: e.detail, untilMs: e.untilMs }, 'address banned'),
    );

    this.refreshActiveSet();
    this.registerGauges();

    this.rpcAuth =
      config.rpc.user !== undefined && config.rpc.password !== undefined
        ? RpcAuth.withPassword(config.rpc.user, config.rpc.password)
        : RpcAuth.withCookie(config.datadir);
    const dispatcher = new RpcDispatcher();
    registerNodeRpc(dispatcher, this);
    this.rpc = new RpcServer({
      host: config.rpc.bind,
      port: config.rpc.port,
      auth: this.rpcAuth,
      dispatcher,
      maxBodyBytes: config.rpc.maxBodyBytes,
      maxConcurrent: 1_024,
      extend: (app) => this.events.attach(app, this.rpcAuth),
      ...(config.rpc.dashboard ? { publicGetRoutes: dashboardRoutes(this) } : {}),
      getRoutes: {
        '/metrics': async () => ({
          contentType: metrics.registry.contentType,
          body: await metrics.registry.metrics(),
        }),
      },
    });
    this.p2pPort = await this.p2p.start();
    this.rpcPort = await this.rpc.listen();
    this.producer.start();
    this.spammer = new TestSpammer({
      switches: this.switches,
      gossipTxs: (txs) => this.p2p.gossipTxs(txs),
      gossipBlock: (bytes) => this.p2p.gossipBlock(bytes),
    });
    // Undecided transactions expire (their votes are withdrawn, their conflict keys stay locked).
    this.expiryTimer = setInterval(
      () => {
        for (const txid of this.ledger.expireProcessing()) this.onExpired(txid);
      },
      Math.min(5_000, config.mempool.processingExpiryMs),
    );
    this.expiryTimer.unref();
  }

  /** Slots, beacons, block production, validation, sync and fork choice (DESIGN §6). */
  private wireBlocks(): void {
    const { params, store, ledger, engine, log, metrics } = this;
    this.index = new ChainIndex(store, params.maxReorgDepth + 8);
    this.tree = new BlockTree();
    this.verifiedBeacons = new VerifiedBeacons(params, (x, y, p, t) => this.pool.vdfVerify(x, y, p, t));
    this.beacons = new BeaconService({
      chainId: params.chainId,
      vdfDelay: params.vdfDelay,
      vdf: this.pool,
      verified: this.verifiedBeacons,
      now: this.now,
      onEvaluated: (b) => {
        if (this.switches.wrongBeacon)
          this.p2p.gossipBeacon(b.slot, randomBytes(b.y.length), randomBytes(b.proof.length));
        else this.p2p.gossipBeacon(b.slot, b.y, b.proof);
        this.events.publishBeacon(b.slot, toHex(b.y));
      },
    });
    const scoreBlock = (peerId: string, code: string, detail: string) => {
      log.info({ peer: peerId.slice(0, 16), code, detail }, 'peer sent a bad block');
      metrics.blocksRefused.inc({ code });
      this.p2p.misbehaved(peerId, 'INVALID_BLOCK', `${code}: ${detail}`.slice(0, 200));
    };
    this.doubleSigns = store.doubleSigns();
    this.doubleSignDetector = new DoubleSignDetector({
      verifier: this.pool,
      store: this.doubleSigns,
      now: this.now,
      onEvidence: (e, producer) => {
        metrics.doubleSigns.inc();
        log.warn(
          { producer: e.producer.slice(0, 16), slot: e.slot, height: e.height, hashes: e.hashes },
          'double-sign evidence: one producer signed two blocks for one slot',
        );
        // The producer's key answers for it, whoever relayed the two headers.
        this.p2p.misbehaved(toHex(producer), 'INVALID_BLOCK', `DOUBLE_SIGN at slot ${e.slot}`);
      },
    });
    // How long a live block waits for its transactions to be final here; a producer holds back
    // as long for a longer branch that waits so (BlockProducer).
    const finalityWaitMs = Math.max(5_000, params.slotMs);
    this.chain = new ChainController({
      params,
      store,
      ledger,
      engine,
      serial: this.serial,
      beacons: this.verifiedBeacons,
      index: this.index,
      tree: this.tree,
      intake: this.intake,
      waiters: this.waiters,
      log,
      now: this.now,
      finalityWaitMs,
      onApplied: (block, hash, source) => this.onBlockApplied(block, hash, source),
      onReverted: () => {
        metrics.blocksReverted.inc();
        this.refreshActiveSet();
      },
      onRejected: (etxs) => {
        for (const etx of etxs) this.onRejected(etx);
      },
      onBadBlock: scoreBlock,
      onOrphan: (peerId, height) => this.sync.orphan(peerId, height),
      onHeader: (block, hash) => {
        void this.doubleSignDetector
          .observe(block, hash)
          .catch((err: Error) => log.error({ err: err.message }, 'double-sign check failed'));
      },
    });
    this.sync = new BlockSync({
      params,
      store,
      chain: this.chain,
      fetcher: {
        getBlocks: async (peerId, from, count) =>
          (await this.p2p.request(peerId, { t: MSG.getBlocks, from, count }, 10_000)).blocks,
      },
      log,
      now: this.now,
      onBadBlock: scoreBlock,
      onBadAnswer: (peerId, detail) => {
        log.info({ peer: peerId.slice(0, 16), detail }, 'peer sent a bad GetBlocks answer');
        this.p2p.misbehaved(peerId, 'INVALID_RESPONSE', detail.slice(0, 200));
      },
      prepare: (block) => ledger.prepareBlock(block),
      onFetched: (kind) => this.metrics.syncBlocksFetched.inc({ kind }),
      isConnected: (peerId) => this.p2p.isConnected(peerId),
    });
    this.producer = new BlockProducer({
      params,
      // The node's clock (a devnet test may run it ahead or behind: --test-clock-offset-ms).
      clock: { ...SYSTEM_CLOCK, now: this.now },
      store,
      index: this.index,
      tree: this.tree,
      ledger,
      key: this.key,
      beacons: this.beacons,
      validators: this.validators,
      chain: this.chain,
      log,
      syncing: () => this.sync.syncing,
      pendingBranchWaitMs: finalityWaitMs,
      misbehave: {
        withhold: () => this.switches.withhold,
        doubleSign: () => this.switches.doubleSign,
        publishRival: (rival) => this.p2p.gossipBlock(encodeBlock(rival)),
      },
      onSlot: (info) => {
        metrics.slot.set(info.slot);
        metrics.rank.set(info.rank ?? -1);
      },
    });

    this.p2p.handle(MSG.getBlocks, (_peer, req) => ({
      t: MSG.blocks,
      blocks: answerGetBlocks(store, req.from, req.count),
    }));
    this.p2p.on('gossip:block', (peer: PeerInfo, msg: { block: Uint8Array }) => {
      let block: Block;
      try {
        block = parseBlock(msg.block, params);
      } catch (err) {
        scoreBlock(peer.peerId, (err as { code?: string }).code ?? 'MALFORMED', (err as Error).message);
        return;
      }
      const received = this.chain.receive(block, 'gossip', peer.peerId);
      // After receive has taken the block in (synchronously, before its finality wait): its own
      // height is then one we hold, and sync fetches only what lies above it.
      this.sync.peerTip(peer.peerId, block.header.height);
      received.then(
        (outcome) => {
          // Dropped as ahead of our clock: a block further ahead than two clock tolerances was
          // sent by no honest node (it relays only what its own clock already admits).
          if (outcome === 'future' && isFarFromTheFuture(block.header, this.now(), params))
            scoreBlock(peer.peerId, 'FROM_THE_FUTURE', `timestamp ${block.header.timestampMs}`);
        },
        (err: Error) => log.error({ err: err.message }, 'block pipeline failed'),
      );
    });
    this.p2p.on(
      'gossip:beacon',
      (peer: PeerInfo, msg: { slot: number; y: Uint8Array; proof: Uint8Array }) => {
        if (!beaconSlotWanted(msg.slot, this.now(), params)) return;
        const anchor = this.index.anchorFor(msg.slot);
        this.beacons.receive(msg.slot, anchor.hash, msg.y, msg.proof, peer.peerId).then(
          (fresh) => {
            if (fresh) {
              this.p2p.gossipBeacon(msg.slot, msg.y, msg.proof);
              this.events.publishBeacon(msg.slot, toHex(msg.y));
            }
          },
          () => undefined,
        );
      },
    );
  }

  /**
   * The active set at our tip: who is sampled, and whose connections and stake share of our CPU
   * the transport reserves.
   */
  private refreshActiveSet(): void {
    const active = this.store.activeMasternodes(this.store.tip().height);
    this.validators.setActive(active);
    this.p2p.setValidators(this.validators.activeValidators());
  }

  /** A block joined the main chain (produced, received or fetched). */
  private onBlockApplied(block: Block, hash: Uint8Array, source: BlockSource): void {
    const { header } = block;
    this.metrics.blocksApplied.inc();
    this.refreshActiveSet();
    this.p2p.announceTip();
    // Included transactions no longer need the engine (the chain answers for them now).
    releaseIncluded(this.engine, block.txs.slice(1));
    this.intake.included(block.txs.slice(1));
    // Blocks of the live slot are relayed; history fetched by sync is not news to anyone.
    if (source !== 'sync') this.p2p.gossipBlock(encodeBlock(block));
    this.events.publishBlock({
      height: header.height,
      hash: toHex(hash),
      slot: header.slot,
      producer: toHex(header.producerPubkey),
      rank: header.rank,
      txCount: block.txs.length,
    });
    this.log.info(
      {
        height: header.height,
        slot: header.slot,
        rank: header.rank,
        txs: block.txs.length - 1,
        source,
        hash: toHex(hash).slice(0, 16),
      },
      'block applied',
    );
  }

  private registerGauges(): void {
    const m = this.metrics;
    m.gauge(
      'timecoin_mempool_processing',
      'Transactions being decided by Snowball',
      () => this.engine.processingCount,
    );
    m.gauge(
      'timecoin_mempool_transactions',
      'Processing + finalized-not-in-a-block transactions',
      () => this.ledger.mempool.count,
    );
    m.gauge('timecoin_mempool_bytes', 'Bytes of mempool transactions', () => this.ledger.mempool.totalBytes);
    m.gauge(
      'timecoin_orphans',
      'Transactions waiting for a parent to finalize here',
      () => this.orphans.size,
    );
    m.gauge('timecoin_peers', 'Authenticated peers', () => this.p2p.peers().length);
    m.gauge(
      'timecoin_p2p_connections',
      'Open peer connections, handshakes and replaced connections still settling included',
      () => this.p2p.connectionCount,
    );
    m.labelledCounts(
      'timecoin_p2p_events_total',
      'Transport events since start, by name: offences by code (e.g. WIRE_BAD_SCHEMA), refusals, evictions',
      () => this.p2p.counters,
    );
    m.gauge(
      'timecoin_p2p_inbound_queued_bytes',
      "Bytes of peers' frames waiting for their byte or CPU budgets, all peers together",
      () => this.p2p.queuedInboundBytes,
    );
    m.gauge(
      'timecoin_p2p_cpu_at_large',
      "Fraction of one core that peers' frames used lately beyond their stake shares (held near 0.25)",
      () => this.p2p.cpuUsage().atLarge,
    );
    m.gauge('timecoin_validators_reachable_weight', 'Active stake weight reachable (us + connected)', () =>
      this.validators.reachableWeight(),
    );
    m.gauge('timecoin_validators_active_weight', 'Active stake weight', () => this.validators.activeWeight);
    m.gauge('timecoin_polls_in_flight', 'Snowball polls in flight', () => this.poller.inFlight);
    m.gauge(
      'timecoin_poll_timeout_ms',
      'Current poll timeout (adaptive: observed round trips, between pollTimeoutMs and 8 × it)',
      () => this.poller.timeout.currentMs,
    );
    m.gauge('timecoin_intake_in_flight', 'Transactions being verified', () => this.intake.inFlightCount);
    m.gauge('timecoin_pool_queue_depth', 'Signature batches waiting for a worker', () => this.pool.queueSize);
    m.gauge('timecoin_chain_height', 'Height of the chain tip', () => this.store.tip().height);
    m.gauge(
      'timecoin_beacon_evaluation_seconds',
      'How long the oldest running VDF evaluation has run',
      () => (this.beacons.progress()?.runningMs ?? 0) / 1000,
    );
    m.gauge(
      'timecoin_beacon_evaluation_slot',
      'Slot of the oldest running VDF evaluation (−1: none)',
      () => this.beacons.progress()?.slot ?? -1,
    );
    m.gauge('timecoin_lmdb_bytes', 'Size of the LMDB environment file', () => {
      try {
        return statSync(join(this.config.datadir, ENV_FILE)).size;
      } catch {
        return 0;
      }
    });
    this.p2p.on('peer:banned', () => m.bans.inc({ kind: 'peer' }));
    this.p2p.on('ip:banned', () => m.bans.inc({ kind: 'ip' }));
    // Memory, for soak runs and operators watching for growth (docs/operations.md).
    m.gauge('timecoin_process_rss_bytes', 'Resident set size', () => process.memoryUsage.rss());
    m.gauge('timecoin_process_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed);
    if (rssParts()) {
      m.gauge(
        'timecoin_process_rss_anon_bytes',
        'Resident private memory (heaps, malloc)',
        () => rssParts()?.anon ?? 0,
      );
      m.gauge(
        'timecoin_process_rss_file_bytes',
        'Resident pages of mapped files (the binary, LMDB pages read or written)',
        () => rssParts()?.file ?? 0,
      );
    }
  }

  /** A transaction became final here (persisted). */
  private onFinal(etx: EncodedTx): void {
    this.metrics.txFinalized.inc();
    const age = this.intake.takeAge(etx.txid);
    if (age !== undefined) this.metrics.finalityLatency.observe(age / 1000);
    // 0: not decided by this engine (restored from the store, or final before it was polled here).
    const polls = this.engine.pollCount(etx.txid);
    if (polls > 0) this.metrics.pollsPerFinalizedTx.observe(polls);
    this.waiters.settle(etx.txid, 'finalized');
    this.events.publishTx({
      txid: toHex(etx.txid),
      status: 'finalized',
      addresses: etx.tx.outputs.map((o) => toHex(o.address)),
      ...(age !== undefined ? { latencyMs: age } : {}),
    });
    this.intake.parentFinalized(etx.txid);
  }

  /** Expired here: stop polling it and stop voting yes for it (the ledger keeps its keys locked). */
  private onExpired(txid: Uint8Array): void {
    this.metrics.txExpired.inc();
    this.intake.forgetAge(txid);
    this.engine.withdraw(txid);
  }

  private onRejected(etx: EncodedTx): void {
    this.metrics.txRejected.inc();
    // Rejected by the ledger (a block used up its input): Snowball must stop polling it too.
    this.engine.withdraw(etx.txid);
    this.intake.forgetAge(etx.txid);
    this.waiters.settle(etx.txid, 'rejected');
    this.events.publishTx({
      txid: toHex(etx.txid),
      status: 'rejected',
      addresses: etx.tx.outputs.map((o) => toHex(o.address)),
    });
  }

  /**
   * Stops in order: no new work (RPC, peers), in-flight ledger writes commit, peers close, the pool
   * and the store close. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.expiryTimer) clearInterval(this.expiryTimer);
      this.spammer?.stop();
      this.intake?.close();
      this.rpc?.close();
      this.producer?.stop();
      this.sync?.stop();
      this.beacons?.close();
      this.poller?.stop();
      this.fetcher?.stop();
      this.inventory?.stop();
      this.gossip?.stop();
      await this.finalizer?.flush();
      this.finalizer?.close();
      await this.serial.close();
      await this.p2p?.stop();
      this.rpcAuth?.dispose();
      await this.pool.close();
      await this.store.close();
      this.metrics.close();
    })();
    return this.stopping;
  }
}
