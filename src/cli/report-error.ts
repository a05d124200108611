import { CodedError } from '../util/coded-error.js';
import { type CliCommand, UsageError } from './command.js';
import { CliFailure } from './rpc-client.js';

/**
 * An error from the operating system: a system call failed and Node set an errno name as `code`
 * (ENOENT, EACCES, ENOTDIR, ENOSPC…). Node's own argument errors carry `ERR_*` codes instead, which
 * this does not match.
 */
export function isSystemError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/**
 * What `timecoin <command>` prints for an error its run() threw, and the exit code: one line on
 * stderr for every error an operator can act on, the usage line too for a usage error. Returns
 * undefined for anything else: main.ts rethrows it so Node prints the stack.
 *
 * The line: usage errors (exit 2), client failures (their own exit code), typed errors (CodedError,
 * exit 1), and system errors, exit 1. A system error is about the machine (a path that is a file,
 * a permission, a full disk), not about the code: its message names the errno and the path, and a
 * stack trace would only bury that. Everything else — a TypeError, a RangeError, an ERR_* argument
 * error, a plain Error — means the code did something it should not, and its stack is what a bug
 * report needs, so it stays visible.
 */
export function reportError(command: CliCommand, err: unknown): number | undefined {
  if (
    err instanceof UsageError ||
    (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
  ) {
    console.error(`timecoin ${command.name}: ${err.message}\nusage: timecoin ${command.usage}`);
    return 2;
  }
  if (err instanceof CliFailure) {
    console.error(`timecoin ${command.name}: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof CodedError || isSystemError(err)) {
    console.error(`timecoin ${command.name}: ${err.message}`);
    return 1;
  }
  return undefined;
}
