import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { FaultNetwork } from '../chaos/fault-network.js';
import type { LinkFaultsUpdate } from '../chaos/link-faults.js';
import { packageRoot } from '../util/package-root.js';
import { KeepAliveRpc } from './keepalive-rpc.js';
import { RpcCallError } from './rpc-call-error.js';

const MAIN = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const running = new Set<NodeProcess>();

export type LogLine = Record<string, unknown> & { msg?: string };

export { RpcCallError };

export interface NodeProcessOptions {
  /** Devnet masternode key index (`--devnet-index`); a random key from `node init` otherwise. */
  readonly devnetIndex?: number;
  readonly datadir?: string;
  readonly seeds?: readonly string[];
  readonly p2pPort?: number;
  readonly extraArgs?: readonly string[];
  readonly env?: Record<string, string>;
  readonly logLevel?: string;
  readonly readyTimeoutMs?: number;
  /** Arguments for the Node.js executable itself (e.g. `--cpu-prof` when profiling). */
  readonly execArgs?: readonly string[];
  /** Starts the node with `--test-switches` (tests flip behaviours over RPC). */
  readonly testSwitches?: boolean;
  /** RPC port (default 0: ephemeral, read from the `node ready` line). */
  readonly rpcPort?: number;
  /** Appends every stdout line (JSON logs) to this file as well (`devnet up` keeps node logs there). */
  readonly logFile?: string;
}

/**
 * One `timecoin node` child process (compiled dist/; `npm test` builds first): JSON log lines
 * collected, the `node ready` line's ports read, RPC through the cookie in its data dir. Used by the
 * multi-process tests, the benchmarks, `timecoin devnet` and the soak runner; callers wait on log
 * lines and RPC answers, never on sleeps.
 */
export class NodeProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  p2pPort = 0;
  rpcPort = 0;
  pubkey = '';
  role = '';
  exitCode: number | null | undefined = undefined;
  readonly exited: Promise<void>;
  private readonly listeners = new Set<(l: LogLine) => void>();
  private auth = '';
  private keepAlive: KeepAliveRpc | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly datadir: string,
    readonly options: NodeProcessOptions,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let l: LogLine;
      try {
        l = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      this.logs.push(l);
      if (this.logs.length > 20_000) this.logs.splice(0, 10_000);
      for (const f of this.listeners) f(l);
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        running.delete(this);
        this.keepAlive?.close();
        resolve();
      }),
    );
  }

  static async start(o: NodeProcessOptions = {}): Promise<NodeProcess> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npm run build\` first (npm test does)`);
    const datadir = o.datadir ?? mkdtempSync(join(tmpdir(), 'timecoin-node-'));
    const keyArgs = o.devnetIndex !== undefined ? ['--devnet-index', String(o.devnetIndex)] : [];
    if (o.devnetIndex === undefined && !existsSync(join(datadir, 'node.key'))) {
      await run(['node', 'init', '--network', 'devnet', '--datadir', datadir]);
    }
    const args = [
      // KEEP_NODE_EXEC_ARGS: Node flags for every node process a run starts (e.g. `--cpu-prof
      // --cpu-prof-dir=/tmp/prof` to profile each node of a soak; NODE_OPTIONS refuses --cpu-prof).
      ...(o.execArgs ?? process.env['KEEP_NODE_EXEC_ARGS']?.split(' ').filter(Boolean) ?? []),
      MAIN,
      'node',
      '--network',
      'devnet',
      '--datadir',
      datadir,
      '--p2p-port',
      String(o.p2pPort ?? (await freeP2pPort())),
      '--rpc-port',
      String(o.rpcPort ?? 0),
      '--log-level',
      o.logLevel ?? process.env['KEEP_NODE_LOGS_LEVEL'] ?? 'info',
      ...(o.testSwitches ? ['--test-switches'] : []),
      ...keyArgs,
      ...(o.seeds && o.seeds.length > 0 ? ['--seeds', o.seeds.join(',')] : []),
      ...(o.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(o.env ?? {}) },
    });
    // KEEP_NODE_LOGS (a directory) keeps every node's log of a test run (one file per data dir,
    // appended across restarts, and its stderr beside it), to read after a failure of a
    // multi-process test; KEEP_NODE_LOGS_LEVEL sets the level of nodes started without one (e.g.
    // debug).
    const keepDir = process.env['KEEP_NODE_LOGS'];
    if (keepDir) mkdirSync(keepDir, { recursive: true });
    const logFile = o.logFile ?? (keepDir ? join(keepDir, `${basename(datadir)}.log`) : undefined);
    if (logFile) child.stdout!.pipe(createWriteStream(logFile, { flags: 'a' }));
    // A crash's stack trace and V8's out-of-memory report go to stderr, not the JSON log.
    if (keepDir)
      child.stderr!.pipe(createWriteStream(join(keepDir, `${basename(datadir)}.stderr`), { flags: 'a' }));
    const p = new NodeProcess(child, datadir, o);
    running.add(p);
    let ready: LogLine;
    try {
      ready = await p.waitForLog((l) => l.msg === 'node ready', o.readyTimeoutMs ?? 60_000);
    } catch (err) {
      // Never leave a half-started node behind (it would hold the data dir and its ports).
      await p.kill('SIGKILL');
      throw err;
    }
    p.p2pPort = ready['p2pPort'] as number;
    p.rpcPort = ready['rpcPort'] as number;
    p.pubkey = ready['pubkey'] as string;
    p.role = ready['role'] as string;
    p.auth = `Basic ${Buffer.from(readFileSync(join(datadir, '.cookie'), 'utf8')).toString('base64')}`;
    return p;
  }

  /** The `Authorization` header value for this node's RPC and events (from its cookie). */
  get authorization(): string {
    return this.auth;
  }

  get p2pAddress(): string {
    return `127.0.0.1:${this.p2pPort}`;
  }

  /** Calls `f` for every log line from now on (soak counters); returns a function that stops it. */
  onLog(f: (l: LogLine) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Resolves with the first log line (past or future) matching `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 10_000, fromIndex = 0): Promise<LogLine> {
    const found = this.logs.slice(fromIndex).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onExit = () => {
        cleanup();
        reject(
          new Error(
            `node exited (${this.exitCode}) before the log line; stderr: ${this.stderr.slice(-2_000)}`,
          ),
        );
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`log line not seen within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2_000)}`));
      }, timeoutMs);
      const f = (l: LogLine) => {
        if (!pred(l)) return;
        cleanup();
        resolve(l);
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(f);
        this.child.off('exit', onExit);
      };
      this.listeners.add(f);
      this.child.once('exit', onExit);
    });
  }

  /** Connection-level failures retried by `rpc` (counted so a test can show it stayed rare). */
  rpcRetries = 0;

  /**
   * One JSON-RPC call. A request that never reached the node (connection refused or reset) is sent
   * again, up to 3 times: every method the harness uses is idempotent (sendrawtransaction of a known
   * transaction answers its txid), as bitcoin-cli users rely on.
   */
  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`http://127.0.0.1:${this.rpcPort}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: this.auth },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
        });
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code;
        if (attempt < 4 && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ECONNREFUSED')) {
          this.rpcRetries++;
          await new Promise((r) => setTimeout(r, 20 * attempt));
          continue;
        }
        throw err;
      }
      const body = (await res.json()) as {
        result?: T;
        error?: { code: number; message: string; data?: unknown };
      };
      if (body.error) throw new RpcCallError(body.error.code, body.error.message, body.error.data);
      return body.result as T;
    }
  }

  /**
   * One JSON-RPC call over this process's persistent connections (KeepAliveRpc): the load
   * generators' submit path, about a tenth of `rpc`'s CPU in this process per call. For idempotent
   * methods only (KeepAliveRpc sends a call once more if the node closed a kept-alive connection
   * under it); any other connection failure rejects with RpcConnectionError.
   */
  rpcKeepAlive<T = unknown>(method: string, params: readonly unknown[] = []): Promise<T> {
    this.keepAlive ??= new KeepAliveRpc(this.rpcPort, this.auth);
    return this.keepAlive.call<T>(method, params);
  }

  /** The node's Prometheus metrics text (GET /metrics). */
  async metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.rpcPort}/metrics`, {
      headers: { authorization: this.auth },
    });
    return res.text();
  }

  /**
   * A counter or gauge from /metrics (0 when absent): a name, or a series with its labels exactly as
   * printed, e.g. `timecoin_p2p_events_total{event="cpuThrottled"}`.
   */
  async metric(series: string): Promise<number> {
    const escaped = series.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    const m = new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(await this.metricsText());
    return m ? Number(m[1]) : 0;
  }

  /** Polls an RPC until `pred` holds (RPC answers are the event here; the interval only paces). */
  async until<T>(method: string, params: unknown[], pred: (r: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await this.rpc<T>(method, params);
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `${method} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 500)}`,
    );
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM and wait for a clean exit. */
  async stop(): Promise<number | null | undefined> {
    await this.kill('SIGTERM');
    return this.exitCode;
  }

  /** A new process on the same data dir and key (and by default the same p2p port). */
  restart(extra: Partial<NodeProcessOptions> = {}): Promise<NodeProcess> {
    return NodeProcess.start({ ...this.options, datadir: this.datadir, p2pPort: this.p2pPort, ...extra });
  }

  static async killAll(): Promise<void> {
    await Promise.all([...running].map((p) => p.kill('SIGKILL')));
  }
}

/**
 * A free TCP port below the kernel's ephemeral range (32768+): a node restarted on a port from that
 * range can find it taken by another process's outgoing connection, so nodes that restart keep a
 * port from here (as operators are told to).
 */
export async function freeP2pPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    c.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`timecoin ${args.join(' ')}: ${code} ${err}`)),
    );
  });
}

/** Options of a devnet whose links all run through fault-injecting proxies (src/chaos). */
export interface DevnetFaultOptions {
  /** Seed of the links' delay draws (printed when chosen, so a failing run can be replayed). */
  readonly seed?: number;
  /** Faults of every link from the start (e.g. `{ latencyMs: 25, jitterMs: 5 }`: 50 ms RTT ± 10). */
  readonly faults?: LinkFaultsUpdate;
}

/** A devnet of real node processes: validators (devnet masternode keys) and full nodes. */
export class Devnet {
  private constructor(
    readonly nodes: NodeProcess[],
    /** The proxies between the nodes when started with `faults`: cut, heal, delay links at run time. */
    readonly faults?: FaultNetwork,
  ) {}

  static async start(o: {
    validators: number;
    fullNodes?: number;
    /** Options for every node (extra flags, test switches, log level…). */
    node?: Omit<NodeProcessOptions, 'devnetIndex' | 'seeds' | 'datadir'>;
    /** Data dirs to use, in node order (validators first); fresh temp dirs otherwise. */
    datadirs?: readonly string[];
    /** Extra flags for node i alone (e.g. a skewed clock for one validator). */
    argsFor?: (i: number) => readonly string[];
    /**
     * Route every link through a proxy: node i is told only the proxies to the others as seeds
     * (`--no-peer-exchange`, so it learns no direct address), and each node's connections arrive
     * from a loopback address of its own (127.0.0.(i+2)), so scores and IP bans stay per node.
     */
    faults?: DevnetFaultOptions;
  }): Promise<Devnet> {
    if (o.faults) return Devnet.startProxied(o, o.faults);
    const common = o.node ?? {};
    const dir = (i: number) => (o.datadirs?.[i] !== undefined ? { datadir: o.datadirs[i]! } : {});
    const args = (i: number) => ({ extraArgs: [...(common.extraArgs ?? []), ...(o.argsFor?.(i) ?? [])] });
    const first = await NodeProcess.start({ ...common, devnetIndex: 0, ...dir(0), ...args(0) });
    const seeds = [first.p2pAddress];
    const rest = await Promise.all([
      ...Array.from({ length: o.validators - 1 }, (_, i) =>
        NodeProcess.start({ ...common, devnetIndex: i + 1, seeds, ...dir(i + 1), ...args(i + 1) }),
      ),
      ...Array.from({ length: o.fullNodes ?? 0 }, (_, i) =>
        NodeProcess.start({ ...common, seeds, ...dir(o.validators + i), ...args(o.validators + i) }),
      ),
    ]);
    const net = new Devnet([first, ...rest]);
    await net.waitConnected();
    return net;
  }

  private static async startProxied(
    o: Parameters<typeof Devnet.start>[0],
    f: DevnetFaultOptions,
  ): Promise<Devnet> {
    const n = o.validators + (o.fullNodes ?? 0);
    // Ports first: the proxies need their targets (they dial per connection, so the nodes need
    // not be up yet). Distinct, and below the ephemeral range, so a restarted node gets its own back.
    const ports: number[] = [];
    while (ports.length < n) {
      const p = await freeP2pPort();
      if (!ports.includes(p)) ports.push(p);
    }
    const faults = await FaultNetwork.start({
      endpoints: ports.map((port) => ({ host: '127.0.0.1', port })),
      sourceHost: (i) => `127.0.0.${i + 2}`,
      ...(f.seed !== undefined ? { seed: f.seed } : {}),
      ...(f.faults ? { faults: f.faults } : {}),
    });
    const common = o.node ?? {};
    try {
      const nodes = await Promise.all(
        ports.map((p2pPort, i) => {
          const seeds = ports.flatMap((_, j) => {
            if (j === i) return [];
            const a = faults.addressFor(i, j);
            return [`${a.host}:${a.port}`];
          });
          return NodeProcess.start({
            ...common,
            ...(i < o.validators ? { devnetIndex: i } : {}),
            ...(o.datadirs?.[i] !== undefined ? { datadir: o.datadirs[i]! } : {}),
            p2pPort,
            seeds,
            extraArgs: [...(common.extraArgs ?? []), ...(o.argsFor?.(i) ?? []), '--no-peer-exchange'],
          });
        }),
      );
      const net = new Devnet(nodes, faults);
      await net.waitConnected();
      return net;
    } catch (err) {
      await NodeProcess.killAll();
      await faults.close();
      throw err;
    }
  }

  /**
   * SIGKILLs node i (if running) and starts it again on its data dir, key, port and seeds; the
   * devnet's list then holds the new process.
   */
  async restart(i: number, extra: Partial<NodeProcessOptions> = {}): Promise<NodeProcess> {
    const old = this.nodes[i]!;
    await old.kill('SIGKILL');
    const fresh = await old.restart(extra);
    this.nodes[i] = fresh;
    return fresh;
  }

  /** Every node sees every other node (peer exchange closed the mesh). */
  async waitConnected(timeoutMs = 60_000): Promise<void> {
    const n = this.nodes.length;
    await Promise.all(
      this.nodes.map((node) =>
        node.until<unknown[]>('getpeerinfo', [], (peers) => peers.length >= n - 1, timeoutMs),
      ),
    );
  }

  /**
   * SIGKILLs every node, closes the proxies (if any) and removes the data dirs. Under
   * KEEP_NODE_EXEC_ARGS the nodes get SIGTERM instead: a --cpu-prof profile is written only at a
   * clean exit.
   */
  async stop(): Promise<void> {
    const signal = process.env['KEEP_NODE_EXEC_ARGS'] ? 'SIGTERM' : 'SIGKILL';
    await Promise.all(this.nodes.map((n) => n.kill(signal)));
    await this.faults?.close();
    for (const n of this.nodes) rmSync(n.datadir, { recursive: true, force: true });
  }
}
