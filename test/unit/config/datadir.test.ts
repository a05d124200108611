import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, ensureDatadir } from '../../../src/config/node-config.js';

// mkdirSync as the real one, except where a test makes it fail as this machine cannot (the tests
// run as root, so no EACCES; no read-only or full file system to hand).
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, mkdirSync: vi.fn(actual.mkdirSync) };
});

const scratch = () => mkdtempSync(join(tmpdir(), 'datadir-'));

/** A file where a data directory should be: `<tmp>/not-a-dir`. */
function aFile(): string {
  const file = join(scratch(), 'not-a-dir');
  writeFileSync(file, 'x');
  return file;
}

function thrown(f: () => void): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function configError(f: () => void): ConfigError {
  const err = thrown(f);
  if (err instanceof ConfigError) return err;
  throw new Error(`expected a ConfigError, got ${String(err)}`);
}

/** mkdirSync fails once with a system error as Node words it: "CODE: text, mkdir 'path'". */
function failMkdirOnce(code: string, text: string): void {
  vi.mocked(mkdirSync).mockImplementationOnce((path) => {
    throw Object.assign(new Error(`${code}: ${text}, mkdir '${String(path)}'`), {
      code,
      errno: -1,
      syscall: 'mkdir',
    });
  });
}

describe('ensureDatadir', () => {
  it('creates a missing datadir with its parents, with the mode asked for, and leaves an existing one be', () => {
    const dir = join(scratch(), 'a', 'b');
    ensureDatadir(dir, 0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    ensureDatadir(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('without a mode, creates the datadir as mkdir does by default', () => {
    const root = scratch();
    mkdirSync(join(root, 'reference'));
    ensureDatadir(join(root, 'datadir'));
    expect(statSync(join(root, 'datadir')).mode & 0o777).toBe(statSync(join(root, 'reference')).mode & 0o777);
  });

  it('a file at the path: DATADIR_UNUSABLE "not a directory (EEXIST)", naming the key, the path and the errno', () => {
    const file = aFile();
    const err = configError(() => ensureDatadir(file));
    expect(err.code).toBe('DATADIR_UNUSABLE');
    expect(err.message).toBe(`DATADIR_UNUSABLE: datadir ${file}: not a directory (EEXIST)`);
    expect(err.details).toEqual({ key: 'datadir', path: file, errno: 'EEXIST' });
  });

  it('a path through a file: "not a directory (a part of the path is a file) (ENOTDIR)"', () => {
    const dir = join(aFile(), 'sub');
    const err = configError(() => ensureDatadir(dir, 0o700));
    expect(err.message).toBe(
      `DATADIR_UNUSABLE: datadir ${dir}: not a directory (a part of the path is a file) (ENOTDIR)`,
    );
    expect(err.details).toEqual({ key: 'datadir', path: dir, errno: 'ENOTDIR' });
  });

  it('a symbolic-link loop and an over-long name, as the table words them', () => {
    const root = scratch();
    symlinkSync(join(root, 'b'), join(root, 'a'));
    symlinkSync(join(root, 'a'), join(root, 'b'));
    const loop = join(root, 'a', 'sub');
    expect(configError(() => ensureDatadir(loop)).message).toBe(
      `DATADIR_UNUSABLE: datadir ${loop}: too many symbolic links (ELOOP)`,
    );
    const long = join(root, 'x'.repeat(300));
    expect(configError(() => ensureDatadir(long)).message).toBe(
      `DATADIR_UNUSABLE: datadir ${long}: name too long (ENAMETOOLONG)`,
    );
  });

  it.each([
    ['EACCES', 'permission denied', 'permission denied'],
    ['EPERM', 'operation not permitted', 'operation not permitted'],
    ['EROFS', 'read-only file system', 'read-only file system'],
    ['ENOSPC', 'no space left on device', 'no space left on device'],
    ['EDQUOT', 'disk quota exceeded', 'disk quota exceeded'],
  ])('%s: "%s"', (code, text, why) => {
    const dir = join(scratch(), 'd');
    failMkdirOnce(code, text);
    const err = configError(() => ensureDatadir(dir));
    expect(err.message).toBe(`DATADIR_UNUSABLE: datadir ${dir}: ${why} (${code})`);
    expect(err.details).toEqual({ key: 'datadir', path: dir, errno: code });
  });

  it('an errno not in the table: Node\'s own text, without its "CODE: " prefix and the syscall after the comma', () => {
    // An empty path: mkdir '' fails with ENOENT.
    const err = configError(() => ensureDatadir(''));
    expect(err.message).toBe('DATADIR_UNUSABLE: datadir : no such file or directory (ENOENT)');
    expect(err.details).toEqual({ key: 'datadir', path: '', errno: 'ENOENT' });
    // Also one whose code has digits (the prefix is E, then capitals and digits).
    failMkdirOnce('E2BIG', 'argument list too long');
    expect(configError(() => ensureDatadir('/x')).message).toBe(
      'DATADIR_UNUSABLE: datadir /x: argument list too long (E2BIG)',
    );
  });

  it("Node's own argument errors carry a code too: refused the same way, with Node's text up to the comma", () => {
    const dir = join(scratch(), 'a\0b');
    expect(configError(() => ensureDatadir(dir)).message).toBe(
      `DATADIR_UNUSABLE: datadir ${dir}: The argument 'path' must be a string (ERR_INVALID_ARG_VALUE)`,
    );
  });

  it('an error without an errno is thrown as it is', () => {
    const boom = new Error('not a system error');
    vi.mocked(mkdirSync).mockImplementationOnce(() => {
      throw boom;
    });
    expect(thrown(() => ensureDatadir(join(scratch(), 'd')))).toBe(boom);
  });
});
