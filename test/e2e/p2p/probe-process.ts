import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../../src/util/package-root.js';

export type ProbeEvent = Record<string, unknown> & { event: string };

/**
 * A free port below the kernel's ephemeral range (32768–60999 on Linux), like a real node's fixed
 * port. A node that listened on an ephemeral port and died may find it taken when it restarts: other
 * processes' outgoing connections can be given that port as their local port.
 */
export async function freeFixedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

const MAIN = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const running = new Set<ProbeProcess>();

/**
 * A `timecoin p2p-probe` child process (compiled dist/, as `npm test` builds it first): JSON-line
 * events in, JSON-line commands out. Every process is tracked so killAll() can end them all.
 */
export class ProbeProcess {
  readonly events: ProbeEvent[] = [];
  port = 0;
  pubkey = '';
  stderr = '';
  exitCode: number | null | undefined = undefined;
  private readonly listeners = new Set<(e: ProbeEvent) => void>();
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: ProbeEvent;
      try {
        e = JSON.parse(line) as ProbeEvent;
      } catch {
        return;
      }
      this.events.push(e);
      for (const l of this.listeners) l(e);
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        running.delete(this);
        resolve();
      }),
    );
  }

  static async start(args: string[], listenTimeoutMs = 10_000): Promise<ProbeProcess> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npm run build\` first (npm test does)`);
    const child = spawn(process.execPath, [MAIN, 'p2p-probe', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new ProbeProcess(child);
    running.add(p);
    const listening = await p.waitFor((e) => e.event === 'listening', listenTimeoutMs);
    p.port = listening['port'] as number;
    p.pubkey = listening['pubkey'] as string;
    return p;
  }

  /** Resolves with the first event (past or future) matching `pred`. */
  waitFor(pred: (e: ProbeEvent) => boolean, timeoutMs = 10_000, fromIndex = 0): Promise<ProbeEvent> {
    const found = this.events.slice(fromIndex).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        reject(
          new Error(
            `probe ${this.port}: event not seen within ${timeoutMs} ms; stderr: ${this.stderr.slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      const l = (e: ProbeEvent) => {
        if (!pred(e)) return;
        clearTimeout(timer);
        this.listeners.delete(l);
        resolve(e);
      };
      this.listeners.add(l);
    });
  }

  /** Sends a command and waits for the next event named `reply`. */
  async query(cmd: Record<string, unknown>, reply: string, timeoutMs = 10_000): Promise<ProbeEvent> {
    const from = this.events.length;
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    return this.waitFor((e) => e.event === reply, timeoutMs, from);
  }

  async peerIds(): Promise<string[]> {
    const e = await this.query({ cmd: 'peers' }, 'peers');
    return (e['peers'] as { peerId: string }[]).map((p) => p.peerId).sort();
  }

  /** Polls until the probe has exactly `n` peers. */
  async waitForPeerCount(n: number, timeoutMs = 15_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ids = await this.peerIds();
      if (ids.length === n) return ids;
      if (Date.now() > until) throw new Error(`probe ${this.port}: ${ids.length} peers, wanted ${n}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.exited;
  }

  static async killAll(): Promise<void> {
    await Promise.all([...running].map((p) => p.kill()));
  }
}
