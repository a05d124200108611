import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { StoreOpenError } from './errors.js';

/**
 * One writer per data directory. Two processes on one data dir both applied the next block and
 * corrupted the UTXO set (LMDB serializes their write transactions, but each trusted its own
 * in-memory tip), so the node holds this lock for its lifetime and opens the store only under it.
 *
 * The lock is a Linux abstract Unix socket named from SHA-256 of the data dir's real path: binding
 * it is atomic, a second bind fails with EADDRINUSE, and the kernel releases the name when the
 * holder exits in any way, SIGKILL included, so a crashed node restarts without manual cleanup (a
 * lock file would stay behind, and flock is not available to Node). The holder answers a
 * connection with its pid, so the refusal can name it. Read-only tools (`timecoin inspect-db`)
 * never take it. Limits: the name lives in the network namespace, so processes in different
 * network namespaces (e.g. two containers sharing a volume) do not see each other's locks, and any
 * local user can squat the name of a data dir (refusing start-up, never corrupting data).
 */
export interface DataDirLock {
  /** The data directory's real path (symlinks resolved): what the lock is named from. */
  readonly dataDir: string;
  /** False once released. */
  readonly held: boolean;
  /** Unbinds the name; resolves when another process can take it. Idempotent. */
  release(): Promise<void>;
}

/** How long a refused process waits for the holder to say its pid. */
export const HOLDER_QUERY_TIMEOUT_MS = 1_000;

/** The abstract socket name of a data dir (a leading NUL puts it in the abstract namespace). */
export function lockName(realDataDir: string): string {
  return `\0timecoin-datadir-${createHash('sha256').update(realDataDir).digest('hex')}`;
}

/**
 * Takes the data dir's lock (creating the directory if needed), or throws StoreOpenError
 * DATADIR_LOCKED naming the directory and, when it answers, the holder's pid.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  if (process.platform !== 'linux')
    throw new StoreOpenError(
      'LOCK_UNSUPPORTED',
      `the data directory lock needs Linux abstract sockets; this is ${process.platform}`,
      { platform: process.platform },
    );
  mkdirSync(dataDir, { recursive: true });
  const realDir = realpathSync(dataDir);
  const name = lockName(realDir);
  const server = createServer((socket) => {
    socket.on('error', () => {}); // a contender that hangs up early is no concern of ours
    socket.end(`${JSON.stringify({ pid: process.pid })}\n`);
  });
  try {
    await listen(server, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const pid = await askHolderPid(name);
    throw new StoreOpenError(
      'DATADIR_LOCKED',
      `the data directory ${realDir} is in use by another process${pid === undefined ? '' : ` (pid ${pid})`}; ` +
        'stop it first (read-only tools such as inspect-db may run beside it)',
      { dataDir: realDir, ...(pid === undefined ? {} : { pid }) },
    );
  }
  // The lock must not keep the process alive; the kernel drops it when the process ends.
  server.unref();
  let held = true;
  return {
    dataDir: realDir,
    get held() {
      return held;
    },
    release: () => {
      if (!held) return Promise.resolve();
      held = false;
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: name }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The holder's pid, or undefined when it does not answer in time (stopped, or not a node). */
function askHolderPid(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection({ path: name });
    const done = (pid: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => done(undefined), HOLDER_QUERY_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 256) done(undefined);
    });
    socket.on('end', () => {
      try {
        const pid = (JSON.parse(text) as { pid?: unknown }).pid;
        done(Number.isSafeInteger(pid) ? (pid as number) : undefined);
      } catch {
        done(undefined);
      }
    });
    socket.on('error', () => done(undefined));
  });
}
