import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { ChaosError } from './chaos-error.js';
import type { Endpoint } from './endpoint.js';
import { type CutMode, FaultProxy, type FaultProxyStats } from './fault-proxy.js';
import { type LinkFaultsUpdate, mergeLinkFaults } from './link-faults.js';
import { chaosSeed } from './seed.js';

export interface FaultNetworkOptions {
  /** Node i listens at endpoints[i] (it need not be up yet: proxies dial per connection). */
  readonly endpoints: readonly Endpoint[];
  /** Seed of every link's delay draws; without one a seed is chosen and printed. */
  readonly seed?: number;
  /** Where the proxies listen; default 127.0.0.1. */
  readonly host?: string;
  readonly maxQueueBytes?: number;
  /**
   * The local address node i's connections leave from (its proxies dial the target from there), so
   * each node has an address of its own, as on a real network; default: the OS picks (127.0.0.1).
   */
  readonly sourceHost?: (node: number) => string;
  /** Initial faults of every flow (e.g. `{ latencyMs: 25, jitterMs: 5 }` for 50 ms RTT ± 10 ms). */
  readonly faults?: LinkFaultsUpdate;
}

export interface LinkStats extends FaultProxyStats {
  readonly from: number;
  readonly to: number;
}

export interface FaultNetworkStats {
  readonly seed: number;
  /** The current partition's groups, or null when none is in force. */
  readonly partition: number[][] | null;
  readonly links: LinkStats[];
}

/**
 * A proxied full mesh for N local nodes: one `FaultProxy` per directed link i→j, listening on a
 * free port; node i reaches node j only by dialing `addressFor(i, j)` (peer exchange must be off).
 *
 * A connection dialed by i to j carries bytes both ways, so "the bytes that flow from i to j" are
 * the forward direction of proxy i→j plus the reverse direction of proxy j→i: `setLinkFaults(i, j)`
 * shapes exactly those, whichever side dialed. A partition cuts both proxies between every pair of
 * nodes in different groups.
 */
export class FaultNetwork {
  readonly seed: number;
  readonly size: number;
  private readonly proxies: (FaultProxy | null)[];
  private groups: number[][] | null = null;

  private constructor(options: FaultNetworkOptions) {
    const n = options.endpoints.length;
    if (n < 2) throw new ChaosError('CHAOS_BAD_OPTIONS', `a network needs at least 2 endpoints, got ${n}`);
    this.size = n;
    this.seed = chaosSeed(options.seed);
    // One independent stream per link, assigned in link order: the same seed gives every link the
    // same draws whatever the order in which traffic starts.
    const root = new Xoshiro128(this.seed);
    this.proxies = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const seed = root.nextU32();
        this.proxies.push(
          i === j
            ? null
            : new FaultProxy({
                target: options.endpoints[j]!,
                seed,
                ...(options.host !== undefined ? { host: options.host } : {}),
                ...(options.sourceHost ? { sourceHost: options.sourceHost(i) } : {}),
                ...(options.maxQueueBytes !== undefined ? { maxQueueBytes: options.maxQueueBytes } : {}),
                ...(options.faults ? { forward: options.faults, reverse: options.faults } : {}),
              }),
        );
      }
  }

  /** Creates the proxies and starts them all listening. */
  static async start(options: FaultNetworkOptions): Promise<FaultNetwork> {
    const net = new FaultNetwork(options);
    try {
      await Promise.all(net.allProxies().map((p) => p.listen()));
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  /** Where node `from` must dial to reach node `to`. */
  addressFor(from: number, to: number): Endpoint {
    return this.proxy(from, to).address;
  }

  /** The proxy of link from→to (connections dialed by `from`). */
  proxy(from: number, to: number): FaultProxy {
    this.checkNode(from);
    this.checkNode(to);
    const p = this.proxies[from * this.size + to];
    if (!p) throw new ChaosError('CHAOS_BAD_LINK', `no link from node ${from} to itself`);
    return p;
  }

  /** Applies `update` to every flow of the network (checked against every link before any changes). */
  setFaults(update: LinkFaultsUpdate): void {
    const all = this.allProxies();
    for (const p of all) {
      mergeLinkFaults(p.faults('forward'), update);
      mergeLinkFaults(p.faults('reverse'), update);
    }
    for (const p of all) p.setFaults('both', update);
  }

  /** Applies `update` to the bytes flowing from node `from` to node `to` (one direction). */
  setLinkFaults(from: number, to: number, update: LinkFaultsUpdate): void {
    const out = this.proxy(from, to);
    const back = this.proxy(to, from);
    // Check against both before changing either, so a bad update changes nothing.
    mergeLinkFaults(out.faults('forward'), update);
    mergeLinkFaults(back.faults('reverse'), update);
    out.setFaults('forward', update);
    back.setFaults('reverse', update);
  }

  /**
   * Splits the nodes into `groups` (disjoint, covering every node): every link between groups is
   * cut, both directions, `blackhole` (held, as when a path dies) or `reset` (RST and refusal, as
   * when a router reboots). Replaces the previous partition; links inside a group are healed.
   */
  partition(groups: readonly (readonly number[])[], mode: CutMode = 'blackhole'): void {
    const groupOf = this.checkPartition(groups);
    for (let i = 0; i < this.size; i++)
      for (let j = 0; j < this.size; j++) {
        if (i === j) continue;
        const p = this.proxy(i, j);
        if (groupOf[i] === groupOf[j]) p.heal();
        else p.cut(mode);
      }
    this.groups = groups.map((g) => [...g].sort((a, b) => a - b));
  }

  /** Cuts node `node` off from every other node. */
  isolate(node: number, mode: CutMode = 'blackhole'): void {
    this.checkNode(node);
    const rest = [...Array(this.size).keys()].filter((i) => i !== node);
    this.partition([[node], rest], mode);
  }

  /** Ends the partition and every drop; held bytes flow again. Delays and rate caps stay. */
  heal(): void {
    for (const p of this.allProxies()) p.heal();
    this.groups = null;
  }

  /** Resets every connection on link from→to, or on every link; returns how many were reset. */
  reset(from?: number, to?: number): number {
    if (from !== undefined && to !== undefined) return this.proxy(from, to).reset();
    if (from !== undefined || to !== undefined)
      throw new ChaosError('CHAOS_BAD_LINK', 'reset takes both from and to, or neither');
    return this.allProxies().reduce((sum, p) => sum + p.reset(), 0);
  }

  stats(): FaultNetworkStats {
    const links: LinkStats[] = [];
    for (let i = 0; i < this.size; i++)
      for (let j = 0; j < this.size; j++)
        if (i !== j) links.push({ from: i, to: j, ...this.proxy(i, j).stats() });
    return { seed: this.seed, partition: this.groups, links };
  }

  async close(): Promise<void> {
    await Promise.all(this.allProxies().map((p) => p.close()));
  }

  private allProxies(): FaultProxy[] {
    return this.proxies.filter((p): p is FaultProxy => p !== null);
  }

  private checkNode(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size)
      throw new ChaosError('CHAOS_BAD_LINK', `node ${i} is not in this network of ${this.size}`);
  }

  /** Group index per node; throws unless the groups are disjoint and cover every node. */
  private checkPartition(groups: readonly (readonly number[])[]): number[] {
    const groupOf = new Array<number>(this.size).fill(-1);
    groups.forEach((g, gi) => {
      for (const i of g) {
        if (!Number.isInteger(i) || i < 0 || i >= this.size)
          throw new ChaosError('CHAOS_BAD_PARTITION', `node ${i} is not in this network of ${this.size}`);
        if (groupOf[i] !== -1) throw new ChaosError('CHAOS_BAD_PARTITION', `node ${i} is in two groups`);
        groupOf[i] = gi;
      }
    });
    const missing = groupOf.flatMap((g, i) => (g === -1 ? [i] : []));
    if (missing.length > 0)
      throw new ChaosError('CHAOS_BAD_PARTITION', `nodes ${missing.join(', ')} are in no group`);
    return groupOf;
  }
}
