import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicAuthHeader, COOKIE_USER, RpcAuth } from '../../../src/rpc/rpc-auth.js';

describe('RPC credentials', () => {
  it('writes a fresh 0600 cookie each start, accepts it, refuses anything else, removes it at dispose', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timecoin-cookie-'));
    const a = RpcAuth.withCookie(dir);
    const path = join(dir, '.cookie');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const [user, secret] = readFileSync(path, 'utf8').split(':');
    expect(user).toBe(COOKIE_USER);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(a.check(basicAuthHeader(COOKIE_USER, secret!))).toBe(true);
    expect(a.check(basicAuthHeader(COOKIE_USER, `${secret!.slice(0, -1)}0`))).toBe(secret!.endsWith('0'));
    expect(a.check(basicAuthHeader('someone', secret!))).toBe(false);
    expect(a.check('')).toBe(false);
    expect(a.check(`Bearer ${secret}`)).toBe(false);
    const b = RpcAuth.withCookie(dir);
    expect(readFileSync(path, 'utf8')).not.toBe(`${user}:${secret}`);
    expect(a.check(basicAuthHeader(COOKIE_USER, secret!))).toBe(true); // a's secret is its own
    expect(b.check(basicAuthHeader(COOKIE_USER, secret!))).toBe(false);
    b.dispose();
    expect(existsSync(path)).toBe(false);
  });

  it('configured credentials', () => {
    const a = RpcAuth.withPassword('alice', 'correct horse battery staple');
    expect(a.check(basicAuthHeader('alice', 'correct horse battery staple'))).toBe(true);
    expect(a.check(basicAuthHeader('alice', 'correct horse battery stapl'))).toBe(false);
    expect(a.check(basicAuthHeader('alicf', 'correct horse battery staple'))).toBe(false);
    expect(a.cookiePath).toBeUndefined();
  });

  it('accepts only a whole "Basic <base64>" header, and is bitcoind-compatible in its cookie user', () => {
    const a = RpcAuth.withPassword('alice', 'correct horse battery staple');
    const good = basicAuthHeader('alice', 'correct horse battery staple');
    expect(a.check(good)).toBe(true);
    expect(a.check(`x${good}`)).toBe(false);
    expect(a.check(`${good} `)).toBe(false);
    expect(a.check(`${good}!`)).toBe(false);
    expect(a.check(`Basic ${'A'.repeat(1025)}`)).toBe(false);
    expect(COOKIE_USER).toBe('__cookie__');
  });

  it('dispose removes only a cookie it wrote, and tolerates one already gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timecoin-cookie-'));
    const a = RpcAuth.withCookie(dir);
    a.dispose();
    expect(() => a.dispose()).not.toThrow();
    expect(() => RpcAuth.withPassword('u', 'p'.repeat(16)).dispose()).not.toThrow();
  });

  it('closes the cookie file it writes (no descriptor left open per start)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timecoin-cookie-'));
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 20; i++) RpcAuth.withCookie(dir).dispose();
    expect(open()).toBe(before);
  });
});
