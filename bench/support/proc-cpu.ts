import { readFileSync } from 'node:fs';

/** Linux reports per-process times in USER_HZ ticks, 100 per second on every architecture we run. */
const USER_HZ = 100;

/** User + system CPU time (ms) from a /proc `stat` file (a process's or one of its threads'). */
function statCpuMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // The command name may hold spaces or parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}

/**
 * CPU time (user + system, ms) another process has used so far, from /proc/<pid>/stat, so a
 * bench can say how much of a shared machine the node used as opposed to its load generator.
 */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU time (ms) of one thread of another process, from /proc/<pid>/task/<tid>/stat; the main
 * thread's tid is the pid. A node's coordinator cost per transaction, apart from its workers'.
 */
export function threadCpuMs(pid: number, tid = pid): number {
  return statCpuMs(`/proc/${pid}/task/${tid}/stat`);
}
