import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../util/package-root.js';
import { ChaosError, type ChaosErrorCode } from './chaos-error.js';
import type { ControlCommand, ControlResponse } from './control-protocol.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';

export interface ChaosProcessOptions {
  readonly endpoints: readonly Endpoint[];
  readonly seed?: number;
  /** Extra helper flags (--latency-ms, --max-queue-bytes…). */
  readonly args?: readonly string[];
  /** How long to wait for the ready line (default 10 s). */
  readonly startTimeoutMs?: number;
}

/** Spread of ControlCommand without the id, which the client assigns. */
type Command = ControlCommand extends infer C ? (C extends unknown ? Omit<C, 'id'> : never) : never;

/** Bound on commands awaiting an answer: the helper answers each line at once, so more means it hung. */
const MAX_IN_FLIGHT = 1024;

/**
 * A `FaultNetwork` in a helper process (dist/src/chaos/chaos-main.js, so build first), for tests
 * and runners that want the proxies outside their own event loop. Commands are answered in order.
 */
export class ChaosProcess {
  readonly links = new Map<string, Endpoint>();
  seed = 0;
  stderr = '';
  /** Responses to raw lines that carry no id (or an unknown one), in arrival order, at most 1,024. */
  readonly unmatched: ControlResponse[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    // A write racing the helper's exit fails with EPIPE; the exit handler rejects what is waiting.
    child.stdin!.on('error', () => undefined);
    child.stderr!.on('data', (d: Buffer) => {
      if (this.stderr.length < 64 * 1024) this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        const err = new ChaosError(
          'CHAOS_NOT_RUNNING',
          `chaos helper exited (${code}): ${this.stderr.slice(0, 500)}`,
        );
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        resolve(code);
      }),
    );
  }

  static async start(options: ChaosProcessOptions): Promise<ChaosProcess> {
    const main = join(packageRoot(), 'dist', 'src', 'chaos', 'chaos-main.js');
    if (!existsSync(main))
      throw new ChaosError('CHAOS_NOT_RUNNING', `${main} missing: run \`npm run build\``);
    const args = [main, ...options.endpoints.flatMap((e) => ['--endpoint', formatEndpoint(e)])];
    if (options.seed !== undefined) args.push('--seed', String(options.seed));
    args.push(...(options.args ?? []));
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const cp = new ChaosProcess(child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new ChaosError('CHAOS_NOT_RUNNING', `chaos helper not ready: ${cp.stderr.slice(0, 500)}`)),
        options.startTimeoutMs ?? 10_000,
      );
      void cp.exited.then((code) => {
        clearTimeout(timer);
        reject(
          new ChaosError('CHAOS_NOT_RUNNING', `chaos helper exited (${code}) before ready: ${cp.stderr}`),
        );
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg['event'] === 'ready') {
          clearTimeout(timer);
          cp.seed = msg['seed'] as number;
          for (const l of msg['links'] as { from: number; to: number; host: string; port: number }[])
            cp.links.set(`${l.from}>${l.to}`, { host: l.host, port: l.port });
          resolve();
        } else if (msg['event'] === 'error') {
          clearTimeout(timer);
          const e = msg['error'] as { code: string; message: string };
          reject(new ChaosError('CHAOS_BAD_OPTIONS', e.message));
        } else cp.answer(msg as ControlResponse);
      });
    });
    try {
      await ready;
    } catch (err) {
      child.kill();
      throw err;
    }
    return cp;
  }

  /** Where node `from` dials to reach node `to`. */
  addressFor(from: number, to: number): Endpoint {
    const e = this.links.get(`${from}>${to}`);
    if (!e) throw new ChaosError('CHAOS_BAD_LINK', `no link ${from}→${to}`);
    return e;
  }

  /** Sends one command; resolves with its result, rejects with the helper's typed error. */
  command(cmd: Command): Promise<unknown> {
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.reject(new ChaosError('CHAOS_NOT_RUNNING', 'chaos helper has exited'));
    if (this.waiting.size >= MAX_IN_FLIGHT)
      return Promise.reject(new ChaosError('CHAOS_NOT_RUNNING', 'chaos helper is not answering'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  /** Sends a raw line (for tests of the protocol's refusals). */
  sendRaw(line: string): void {
    this.child.stdin!.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Asks the helper to close its network and waits for it to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    await this.exited;
  }

  private answer(res: ControlResponse): void {
    const id = typeof res.id === 'number' ? res.id : undefined;
    const w = id === undefined ? undefined : this.waiting.get(id);
    if (!w) {
      if (this.unmatched.length < 1024) this.unmatched.push(res);
      return;
    }
    this.waiting.delete(id!);
    if (res.ok) w.resolve(res.result);
    else {
      w.reject(new ChaosError(res.error.code as ChaosErrorCode, res.error.message.replace(/^[A-Z_]+: /, '')));
    }
  }
}
