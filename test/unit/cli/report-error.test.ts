import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CliCommand, UsageError } from '../../../src/cli/command.js';
import { isSystemError, reportError } from '../../../src/cli/report-error.js';
import { CliFailure, EXIT } from '../../../src/cli/rpc-client.js';
import { CodedError } from '../../../src/util/coded-error.js';

const cmd: CliCommand = { name: 'node', summary: '', usage: 'node [init]', run: async () => 0 };

/** A system error as node:fs throws it. */
function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code, errno: -20, syscall: 'mkdir' });
}

describe('what `timecoin` prints for an error', () => {
  const lines: string[] = [];
  afterEach(() => {
    lines.length = 0;
    vi.restoreAllMocks();
  });
  const report = (err: unknown) => {
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    return reportError(cmd, err);
  };

  it('a system error (errno code) is one line and exit 1, not a stack', () => {
    const err = errno('ENOTDIR', "not a directory, mkdir '/tmp/f/sub'");
    expect(report(err)).toBe(1);
    expect(lines).toEqual(["timecoin node: ENOTDIR: not a directory, mkdir '/tmp/f/sub'"]);
    expect(isSystemError(err)).toBe(true);
  });

  it('typed errors keep their lines and codes', () => {
    expect(report(new CodedError('CONFIG_INVALID', 'x: y'))).toBe(1);
    expect(report(new UsageError('bad flag'))).toBe(2);
    expect(report(new CliFailure(EXIT.UNREACHABLE, 'down'))).toBe(EXIT.UNREACHABLE);
    expect(lines).toEqual([
      'timecoin node: CONFIG_INVALID: x: y',
      'timecoin node: bad flag\nusage: timecoin node [init]',
      'timecoin node: down',
    ]);
  });

  it('a programming error is left to main.ts to rethrow with its stack', () => {
    expect(report(new TypeError('x is not a function'))).toBeUndefined();
    expect(report(new RangeError('Invalid array length'))).toBeUndefined();
    expect(report(new Error('plain'))).toBeUndefined();
    // Node's argument errors carry a code too, ERR_*, but they are bugs, not the machine's state.
    const arg = Object.assign(new TypeError('The "path" argument must be of type string'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    expect(isSystemError(arg)).toBe(false);
    expect(report(arg)).toBeUndefined();
    expect(report({ code: 'ENOENT' })).toBeUndefined(); // not an Error at all
    expect(lines).toEqual([]);
  });
});
