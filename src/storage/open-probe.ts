import { spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkName } from '../params/chain-params.js';
import { packageRoot } from '../util/package-root.js';
import { ADDRESS_INDEX_FILE } from './address-index.js';
import { ENV_FILE } from './databases.js';
import { StoreOpenError } from './errors.js';

/** The probe's entry point, compiled (also when this module runs from src/ under the tests). */
const probeMain = (): string => join(packageRoot(), 'dist', 'src', 'storage', 'open-probe-main.js');

/** Signals by which a process dies of a fault in native code reading a damaged file. */
const CRASH_SIGNALS: ReadonlySet<string> = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT']);

/**
 * Whether a probe that ended by `signal` crashed on the file. Only faults count: a probe killed
 * by SIGKILL (its timeout, the OOM killer) or SIGTERM/SIGINT (an operator) says nothing about it.
 */
export function isCrashSignal(signal: string | null): boolean {
  return signal !== null && CRASH_SIGNALS.has(signal);
}

/** A probe that has not finished by then is left to the real open (a slow disk is not damage). */
export const PROBE_TIMEOUT_MS = 60_000;

/**
 * LMDB trusts its file: a damaged chain.mdb (a zeroed first page, a truncated file, garbage over
 * the data pages) makes the native library follow wild page pointers, and the process dies by
 * SIGSEGV or SIGBUS, printing nothing. So before a node opens an existing store it opens it
 * exactly as the node would (ChainStore.open, then close) in a child process; if that child dies
 * by such a signal, startup stops here with StoreOpenError DATA_CORRUPT naming the file, and the
 * operator knows to restore a backup or sync into a new data directory. Any other outcome is left
 * to the node's own open, which reports typed refusals itself. `inspect-db` probes its read-only
 * read the same way. A new data directory (no file, or an empty one) needs no probe. The probe
 * costs one short process start (~0.3 s).
 *
 * The node's open also opens the address index (addresses.mdb), which can be damaged the same way.
 * It is derived data (rebuilt from the UTXO set whenever it is missing), so when an `open` probe
 * crashes and the index file exists, the index is deleted and the probe runs once more: a clean
 * second run means the damage was the index's (resolves `{ indexDiscarded: true }`; the node's open
 * rebuilds it), a second crash is the chain's.
 *
 * It cannot cover damage in pages the start-up checks never read; LMDB has no page checksums.
 */
export async function probeStoreOpen(
  dataDir: string,
  network: NetworkName,
  /** `open`: as the node opens it (read-write, under the lock); `read`: as inspect-db reads it. */
  mode: 'open' | 'read' = 'open',
  /** Left to the real open after this long (tests shorten it). */
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<{ indexDiscarded: boolean }> {
  const file = join(dataDir, ENV_FILE);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { indexDiscarded: false };
  }
  if (size === 0) return { indexDiscarded: false };
  let signal = await probeOnce(dataDir, network, mode, timeoutMs);
  const index = join(dataDir, ADDRESS_INDEX_FILE);
  let indexDiscarded = false;
  if (isCrashSignal(signal) && mode === 'open' && existsSync(index)) {
    for (const f of [index, `${index}-lock`]) rmSync(f, { force: true });
    indexDiscarded = true;
    signal = await probeOnce(dataDir, network, mode, timeoutMs);
  }
  if (isCrashSignal(signal))
    throw new StoreOpenError(
      'DATA_CORRUPT',
      `${file} is damaged: the LMDB library crashed (${signal}) opening it. Restore the data ` +
        'directory from a backup, or start the node on a new data directory to sync the chain again',
      { file, signal },
    );
  return { indexDiscarded };
}

/** One probe child; resolves with the signal that ended it (null: it exited, or did not start). */
function probeOnce(
  dataDir: string,
  network: NetworkName,
  mode: 'open' | 'read',
  timeoutMs: number,
): Promise<NodeJS.Signals | null> {
  return new Promise<NodeJS.Signals | null>((resolve) => {
    const child = spawn(process.execPath, [probeMain(), dataDir, network, mode], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.once('exit', (_code, sig) => {
      clearTimeout(timer);
      resolve(sig);
    });
  });
}
