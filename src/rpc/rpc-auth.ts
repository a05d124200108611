import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The cookie file's user name, as bitcoind's (`__cookie__:<hex>`), so bitcoin-cli habits carry over. */
export const COOKIE_USER = '__cookie__';
export const COOKIE_FILE = '.cookie';

/**
 * RPC credentials: configured user/password, or a random cookie written to `<datadir>/.cookie`
 * (mode 0600, a new one each start, removed at stop). Local tools read the cookie; anyone who can
 * read the data directory can use the node, nobody else. Credentials are compared through SHA-256
 * digests with `timingSafeEqual`, so the comparison takes the same time whatever the guess.
 */
export class RpcAuth {
  private readonly expected: Buffer;

  private constructor(
    readonly user: string,
    password: string,
    /** The cookie file this instance wrote, removed by `dispose`. */
    readonly cookiePath: string | undefined,
  ) {
    this.expected = digest(`${user}:${password}`);
  }

  static withPassword(user: string, password: string): RpcAuth {
    return new RpcAuth(user, password, undefined);
  }

  /** Writes a fresh cookie into `datadir` (replacing a stale one from an earlier run). */
  static withCookie(datadir: string): RpcAuth {
    const path = join(datadir, COOKIE_FILE);
    const secret = randomBytes(32).toString('hex');
    rmSync(path, { force: true });
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${COOKIE_USER}:${secret}`);
    } finally {
      closeSync(fd);
    }
    return new RpcAuth(COOKIE_USER, secret, path);
  }

  /** Checks an HTTP `Authorization` header value (Basic). */
  check(header: string): boolean {
    const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header);
    if (!m) return false;
    const given = digest(Buffer.from(m[1]!, 'base64').toString('utf8'));
    return timingSafeEqual(given, this.expected);
  }

  dispose(): void {
    if (this.cookiePath) rmSync(this.cookiePath, { force: true });
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** `Basic …` header value for a user and password (clients, tests). */
export function basicAuthHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
