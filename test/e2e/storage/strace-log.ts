/**
 * Reads the log of `strace -f -y -o LOG` into syscalls in completion order, and checks that a
 * process's writes to one file were durable at the moments it said so. Only what the durability
 * test needs: open/close to know each descriptor's path and O_DSYNC/O_SYNC flag, the write family,
 * fdatasync/fsync, and the process's own marker lines written to stdout.
 */

export interface Syscall {
  readonly pid: number;
  readonly name: string;
  /** Everything between the parentheses, as strace printed it. */
  readonly args: string;
  /** What follows `= ` (e.g. `0`, `18`, `19</path/to/file>`, `-1 EAGAIN (...)`). */
  readonly result: string;
}

/** `strace -e inject=…:delay_enter=…` appends " (DELAYED)" to a result: not part of it. */
const COMPLETE = /^(\d+) +(\w+)\((.*)\) += (.*?)(?: \(DELAYED\))?$/;
const UNFINISHED = /^(\d+) +(\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+) +<\.\.\. (\w+) resumed>(.*)\) += (.*?)(?: \(DELAYED\))?$/;

/**
 * One syscall per line; a call another thread interrupted (`<unfinished ...>`, then `<... resumed>`)
 * is joined and placed where it completed, which is when its effect is known to have happened.
 */
export function parseStraceLog(text: string): Syscall[] {
  const out: Syscall[] = [];
  const pending = new Map<string, string>();
  for (const line of text.split('\n')) {
    let m = COMPLETE.exec(line);
    if (m) {
      out.push({ pid: Number(m[1]), name: m[2]!, args: m[3]!, result: m[4]! });
      continue;
    }
    m = UNFINISHED.exec(line);
    if (m) {
      pending.set(`${m[1]} ${m[2]}`, m[3]!);
      continue;
    }
    m = RESUMED.exec(line);
    if (m) {
      const key = `${m[1]} ${m[2]}`;
      const start = pending.get(key) ?? '';
      pending.delete(key);
      out.push({ pid: Number(m[1]), name: m[2]!, args: start + m[3]!, result: m[4]! });
    }
  }
  return out;
}

const WRITES = new Set(['write', 'writev', 'pwrite64', 'pwritev', 'pwritev2']);
const SYNCS = new Set(['fdatasync', 'fsync']);
/** With -y, a descriptor argument or result prints as `19</tmp/dir/chain.mdb>`. */
const FD_WITH_PATH = /^(\d+)<([^>]*)>/;
const OPENAT = /^[^,]+, "([^"]*)", ([A-Z_|]+)/;
const MARKER = /^1<[^>]*>, "(about-to-)?([a-z]+?)(-done)? (\d+)\\n"/;

/** One acknowledged durable operation: from "about-to-<op> <n>" to "<op>-done <n>". */
export interface DurableWindow {
  readonly op: string;
  readonly n: number;
  /** fdatasync/fsync calls on the file that returned 0 inside the window. */
  readonly syncs: number;
  /** Writes to the file inside the window. */
  readonly writes: number;
  /** Writes through a descriptor without O_DSYNC/O_SYNC that no later sync in the window covers. */
  readonly unsyncedWrites: number;
}

export interface DurabilityReport {
  readonly windows: DurableWindow[];
  /** "about-to" markers with no matching "-done" (the operation never acknowledged). */
  readonly unfinished: string[];
  /** Writes to the file outside every window: data written without anyone waiting for it. */
  readonly writesOutsideWindows: number;
  /** Descriptors of the file that were opened with O_DSYNC or O_SYNC. */
  readonly synchronousOpens: number;
}

/** Splits the syscalls of `file` into the marker windows and counts syncs and writes in each. */
export function durabilityReport(calls: readonly Syscall[], file: string): DurabilityReport {
  const synchronousFds = new Set<number>();
  let synchronousOpens = 0;
  const windows: DurableWindow[] = [];
  const unfinished: string[] = [];
  let writesOutsideWindows = 0;
  let open: { op: string; n: number; syncs: number; writes: number; unsynced: number } | null = null;

  for (const call of calls) {
    if (call.name === 'openat') {
      const target = OPENAT.exec(call.args);
      const fd = FD_WITH_PATH.exec(call.result);
      if (target && fd && target[1] === file) {
        const synchronous = /\bO_(D)?SYNC\b/.test(target[2]!);
        if (synchronous) {
          synchronousFds.add(Number(fd[1]));
          synchronousOpens++;
        } else synchronousFds.delete(Number(fd[1]));
      }
      continue;
    }
    if (call.name === 'close') {
      const fd = FD_WITH_PATH.exec(call.args);
      if (fd) synchronousFds.delete(Number(fd[1]));
      continue;
    }
    const marker = call.name === 'write' ? MARKER.exec(call.args) : null;
    if (marker) {
      const [, about, op, done, n] = marker;
      if (about) {
        if (open) unfinished.push(`${open.op} ${open.n}`);
        open = { op: op!, n: Number(n), syncs: 0, writes: 0, unsynced: 0 };
      } else if (done && open && open.op === op && open.n === Number(n)) {
        windows.push({
          op: open.op,
          n: open.n,
          syncs: open.syncs,
          writes: open.writes,
          unsyncedWrites: open.unsynced,
        });
        open = null;
      }
      continue;
    }
    const fd = FD_WITH_PATH.exec(call.args);
    if (!fd || fd[2] !== file) continue;
    if (WRITES.has(call.name)) {
      if (!open) {
        writesOutsideWindows++;
        continue;
      }
      open.writes++;
      if (!synchronousFds.has(Number(fd[1]))) open.unsynced++;
    } else if (SYNCS.has(call.name) && call.result === '0' && open) {
      open.syncs++;
      open.unsynced = 0; // fdatasync/fsync covers every write made before it, through any descriptor
    }
  }
  if (open) unfinished.push(`${open.op} ${open.n}`);
  return { windows, unfinished, writesOutsideWindows, synchronousOpens };
}
