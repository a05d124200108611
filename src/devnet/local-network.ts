import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { devnetParams } from '../params/networks.js';
import { TransferLoad } from './load.js';
import { NodeProcess } from './node-process.js';

/**
 * `timecoin devnet up`: a live local network of validator processes on the devnet keys, data dirs
 * under one directory (`.data/` by default; reused, so a rerun resumes the same chain), fixed ports
 * (RPC 24290 + i, P2P 24280 + i) so the dashboard URL stays the same, the first node serving the
 * dashboard, and a small load of transfers. A state file lets `devnet down|status` find it.
 */

export const DASHBOARD_PORT = 24_290;
export const P2P_BASE_PORT = 24_280;
export const STATE_FILE = 'devnet.json';

export interface LocalNetworkOptions {
  readonly dir: string;
  readonly validators: number;
  readonly load: boolean;
  /** Slot length for every node (all must agree; keep it across reruns of one chain). */
  readonly slotMs?: number;
  readonly rpcBasePort?: number;
  readonly p2pBasePort?: number;
  readonly logLevel?: string;
}

export interface LocalNetworkState {
  readonly pid: number;
  readonly dashboard: string;
  readonly nodes: { index: number; datadir: string; rpcPort: number; p2pPort: number; pid: number }[];
}

export class LocalNetwork {
  private constructor(
    readonly dir: string,
    readonly nodes: NodeProcess[],
    readonly load: TransferLoad | null,
    readonly dashboardUrl: string,
  ) {}

  static async up(o: LocalNetworkOptions): Promise<LocalNetwork> {
    const dir = resolve(o.dir);
    mkdirSync(dir, { recursive: true });
    const existing = readState(dir);
    if (existing && isAlive(existing.pid))
      throw new Error(`a devnet is already running from ${dir} (pid ${existing.pid}): timecoin devnet down`);
    const rpcBase = o.rpcBasePort ?? DASHBOARD_PORT;
    const p2pBase = o.p2pBasePort ?? P2P_BASE_PORT;
    const env: Record<string, string> = o.slotMs
      ? {
          TIMECOIN_CHAIN_SLOT_MS: String(o.slotMs),
          TIMECOIN_CHAIN_LEADER_FALLBACK_STEP_MS: String(Math.max(100, Math.floor(o.slotMs / 5))),
        }
      : {};
    const start = (i: number, seeds: string[]) => {
      const datadir = join(dir, `node${i}`);
      mkdirSync(datadir, { recursive: true });
      return NodeProcess.start({
        devnetIndex: i,
        datadir,
        p2pPort: p2pBase + i,
        rpcPort: rpcBase + i,
        seeds,
        env,
        logLevel: o.logLevel ?? 'info',
        logFile: join(datadir, 'node.log'),
        ...(i === 0 ? { extraArgs: ['--dashboard'] } : {}),
      });
    };
    const nodes: NodeProcess[] = [];
    try {
      nodes.push(await start(0, []));
      const seeds = [nodes[0]!.p2pAddress];
      nodes.push(
        ...(await Promise.all(Array.from({ length: o.validators - 1 }, (_, i) => start(i + 1, seeds)))),
      );
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw err;
    }
    const dashboardUrl = `http://127.0.0.1:${nodes[0]!.rpcPort}/`;
    const params = devnetParams(o.slotMs ? { slotMs: o.slotMs } : {});
    const first = nodes[0]!;
    const load = o.load ? new TransferLoad((m, p) => first.rpc(m, p ?? []), params) : null;
    load?.start();
    const state: LocalNetworkState = {
      pid: process.pid,
      dashboard: dashboardUrl,
      nodes: nodes.map((n, index) => ({
        index,
        datadir: n.datadir,
        rpcPort: n.rpcPort,
        p2pPort: n.p2pPort,
        pid: n.child.pid ?? 0,
      })),
    };
    writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    return new LocalNetwork(dir, nodes, load, dashboardUrl);
  }

  /** Stops the load and every node (SIGTERM: a clean shutdown each), then forgets the state file. */
  async down(): Promise<void> {
    this.load?.stop();
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(join(this.dir, STATE_FILE), { force: true });
  }
}

export function readState(dir: string): LocalNetworkState | undefined {
  const path = join(resolve(dir), STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LocalNetworkState;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
