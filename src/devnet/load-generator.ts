import WebSocket from 'ws';
import { toHex } from '../encoding/bytes.js';
import { DEVNET } from '../params/networks.js';
import { type Coin, hexOf, pay, recipient } from './coins.js';
import type { NodeProcess } from './node-process.js';
import { opensslSigner } from './openssl-signer.js';
import { RpcCallError } from './rpc-call-error.js';

export interface LoadGeneratorOptions {
  /** The nodes to submit to, by index; `live(i)` says whether node i may be used now. */
  readonly nodes: () => readonly NodeProcess[];
  readonly live?: (i: number) => boolean;
  /** Coins to spend; each payment's change comes back as a new coin once final. */
  readonly coins: readonly Coin[];
  /** Offered rate, transactions per second. */
  readonly tps: number;
  /** Sat paid by each payment (the rest, less the fee, is the change that is spent next). */
  readonly valueSat?: bigint;
  /** How long a submitted payment may stay undecided before its coin is written off. */
  readonly giveUpMs?: number;
}

interface Pending {
  readonly coin: Coin;
  readonly txid: string;
  readonly node: number;
  readonly sentAt: number;
  readonly change?: Coin;
}

/**
 * Steady payment load on a devnet for soak runs and the e2e benchmark: `tps` payments a second,
 * round-robin over the live nodes, each coin's change spent again once its payment is final (so a
 * few hundred coins carry an hour). Finality is read from each node's event stream
 * (`{"subscribe":"tx"}`): the node's own `latencyMs` (first seen → persisted final, at the node
 * that received the submission) is the submit → final latency, and every txid any node reports
 * final is recorded, so a run can check that none is lost.
 */
export class LoadGenerator {
  readonly everFinal = new Set<string>();
  /** submit → final at the receiving node (ms), one sample per payment. */
  readonly latencies: number[] = [];
  submitted = 0;
  refused = 0;
  /** Submissions a node turned away with INTAKE_BUSY (its backlog is full): their coins are reused. */
  busy = 0;
  /** The first few refusal messages (why submissions fail: a run's first diagnostic). */
  readonly refusals: string[] = [];
  writtenOff = 0;
  private readonly free: Coin[];
  private readonly pending = new Map<string, Pending>();
  /** Pending payments whose change was already handed out (final elsewhere first). */
  private readonly released = new Set<string>();
  private readonly sockets = new Map<NodeProcess, WebSocket>();
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private label = 1_000_000;
  private started = 0;
  /**
   * OpenSSL signs in ~30 µs against @noble's ~10× that, and this process shares the machine with
   * the nodes it measures (signatures are byte-identical: Ed25519 is deterministic).
   */
  private readonly signer = opensslSigner();

  constructor(private readonly o: LoadGeneratorOptions) {
    this.free = [...o.coins];
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get freeCoins(): number {
    return this.free.length;
  }

  /** Subscribes to every node's events (again for restarted processes), then starts submitting. */
  async start(): Promise<void> {
    await this.watchAll();
    this.started = Date.now();
    let sent = 0;
    // A 10 ms tick sends what the rate owes since the start: steady whatever the tick jitter.
    this.timer = setInterval(() => {
      const owed = Math.floor(((Date.now() - this.started) * this.o.tps) / 1000) - sent;
      for (let i = 0; i < Math.min(owed, this.o.tps); i++) {
        sent++;
        this.submitOne();
      }
      if (owed > this.o.tps) sent += owed - this.o.tps; // fell behind by > 1 s: do not burst
      this.expire();
    }, 10);
  }

  /** Subscribes to node processes not yet watched (call after a restart). */
  async watchAll(): Promise<void> {
    await Promise.all(this.o.nodes().map((n) => this.watch(n)));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
  }

  private watch(node: NodeProcess): Promise<void> {
    if (this.sockets.has(node) || node.exitCode !== undefined) return Promise.resolve();
    const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/events`, {
      headers: { authorization: node.authorization },
    });
    this.sockets.set(node, ws);
    ws.on('error', () => undefined);
    ws.on('close', () => this.sockets.delete(node));
    ws.on('message', (m) => {
      const e = JSON.parse(String(m)) as { type: string; txid?: string; status?: string; latencyMs?: number };
      if (e.type !== 'tx' || e.txid === undefined) return;
      const p = this.pending.get(e.txid);
      if (e.status === 'finalized') {
        this.everFinal.add(e.txid);
        if (!p) return;
        // Latency from the receiving node only; the change is spendable once any node reports the
        // payment final (the receiving node may have died meanwhile).
        if (this.o.nodes()[p.node] === node) {
          this.latencies.push(e.latencyMs ?? Date.now() - p.sentAt);
          this.pending.delete(e.txid);
          if (p.change && !this.released.delete(e.txid)) this.free.push(p.change);
        } else if (p.change && !this.released.has(e.txid)) {
          this.released.add(e.txid);
          this.free.push(p.change);
        }
      } else if (e.status === 'rejected' && p && this.o.nodes()[p.node] === node) {
        this.pending.delete(e.txid);
      }
    });
    return new Promise((resolve) => {
      ws.once('open', () => {
        ws.send(JSON.stringify({ subscribe: 'tx' }));
        resolve();
      });
      ws.once('error', () => resolve());
    });
  }

  private submitOne(): void {
    const coin = this.free.shift();
    if (!coin) return;
    const nodes = this.o.nodes();
    let idx = -1;
    for (let k = 0; k < nodes.length; k++) {
      const i = (this.next + k) % nodes.length;
      if (this.o.live?.(i) ?? true) {
        idx = i;
        break;
      }
    }
    this.next = (idx + 1) % nodes.length;
    if (idx < 0) {
      this.free.push(coin);
      return;
    }
    const value = this.o.valueSat ?? 10_000n;
    const tx = pay(coin, recipient(this.label++ % 1_000), value, DEVNET, this.signer);
    const txid = toHex(tx.txid);
    const changeOut = tx.tx.outputs[1];
    const change: Coin | undefined =
      changeOut && changeOut.value > value + 200_000n
        ? { outpoint: { txid: tx.txid, vout: 1 }, value: changeOut.value, key: coin.key }
        : undefined;
    this.pending.set(txid, { coin, txid, node: idx, sentAt: Date.now(), ...(change ? { change } : {}) });
    this.submitted++;
    nodes[idx]!.rpcKeepAlive('sendrawtransaction', [hexOf(tx)]).catch((err: Error) => {
      if (
        err instanceof RpcCallError &&
        (err.data as { code?: unknown } | undefined)?.code === 'INTAKE_BUSY'
      ) {
        // Backpressure: the node admitted nothing, so the coin is free again at once.
        this.busy++;
        if (this.pending.delete(txid)) this.free.push(coin);
        return;
      }
      // Refused or the node died under the request: the coin's fate is unknown until the
      // transaction finalizes somewhere or expires here.
      this.refused++;
      if (this.refusals.length < 5) this.refusals.push(`node ${idx}: ${err.message.slice(0, 160)}`);
    });
  }

  /** Payments undecided past giveUpMs: their coins are written off (never re-spent: no conflicts). */
  private expire(): void {
    const limit = Date.now() - (this.o.giveUpMs ?? 60_000);
    for (const p of this.pending.values()) {
      if (p.sentAt >= limit) break; // insertion order is send order
      this.pending.delete(p.txid);
      if (!this.released.delete(p.txid)) this.writtenOff++;
    }
  }

  /** The p-th percentile of the recorded latencies (ms), 0 when none. */
  percentile(p: number): number {
    if (this.latencies.length === 0) return 0;
    const s = [...this.latencies].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1))]!;
  }
}
