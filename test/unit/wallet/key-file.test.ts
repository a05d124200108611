import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET } from '../../../src/params/networks.js';
import { KeyFileError, readKeyFile, readKeyFileInfo, writeKeyFile } from '../../../src/wallet/key-file.js';
import { generateKeyPair } from '../../../src/wallet/keys.js';
import { thrownAs } from '../../support/thrown.js';
import { tempDir } from '../storage/temp-dir.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const d = tempDir('wallet');
  cleanups.push(d.cleanup);
  return d.dir;
}

describe('wallet key file', () => {
  it('round-trips a plain key, mode 0600, and never overwrites', () => {
    const path = join(dir(), 'w.json');
    const key = generateKeyPair();
    const address = writeKeyFile(path, DEVNET, key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKeyFileInfo(path)).toMatchObject({ address, sealed: false });
    expect(readKeyFile(path).secretKey).toEqual(key.secretKey);
    expect(() => writeKeyFile(path, DEVNET, generateKeyPair())).toThrow(KeyFileError);
    expect(readKeyFile(path).secretKey).toEqual(key.secretKey);
  });

  it('seals with a passphrase: no secret in the file, the right passphrase opens it, a wrong one fails', () => {
    const path = join(dir(), 'w.json');
    const key = generateKeyPair();
    writeKeyFile(path, DEVNET, key, 'correct horse');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(Buffer.from(key.secretKey).toString('hex'));
    expect(readKeyFile(path, 'correct horse').publicKey).toEqual(key.publicKey);
    expect(() => readKeyFile(path, 'wrong horse')).toThrow(/wrong passphrase/);
    expect(() => readKeyFile(path)).toThrow(/passphrase/);
    // A tampered ciphertext fails the tag, never yields another key.
    const j = JSON.parse(text) as { sealed: { data: string } };
    j.sealed.data = `${j.sealed.data[0] === 'a' ? 'b' : 'a'}${j.sealed.data.slice(1)}`;
    writeFileSync(path, JSON.stringify(j));
    expect(() => readKeyFile(path, 'correct horse')).toThrow(KeyFileError);
  });

  it('refuses a missing or malformed file with its code', () => {
    const d = dir();
    expect(() => readKeyFile(join(d, 'none.json'))).toThrow(
      expect.objectContaining({ code: 'WALLET_MISSING' }),
    );
    writeFileSync(join(d, 'bad.json'), '{"version":1}');
    expect(() => readKeyFile(join(d, 'bad.json'))).toThrow(
      expect.objectContaining({ code: 'WALLET_CORRUPT' }),
    );
  });
});

describe('wallet key file: every refusal, with its code and a message naming the file', () => {
  /** A plain wallet file's JSON, to edit one field. */
  function plain(d: string): { path: string; json: Record<string, unknown> } {
    const path = join(d, 'w.json');
    writeKeyFile(path, DEVNET, generateKeyPair());
    return { path, json: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
  }
  function sealed(d: string): {
    path: string;
    json: { sealed: Record<string, unknown> } & Record<string, unknown>;
  } {
    const path = join(d, 's.json');
    writeKeyFile(path, DEVNET, generateKeyPair(), 'pass');
    return { path, json: JSON.parse(readFileSync(path, 'utf8')) };
  }
  const rewrite = (path: string, json: unknown) => writeFileSync(path, JSON.stringify(json));
  const codeOf = (fn: () => unknown): string => thrownAs(fn, KeyFileError).code;

  it('names the file it refuses to overwrite, tells a missing file how to make one, and reports sealed files', () => {
    const { path } = plain(dir());
    expect(() => writeKeyFile(path, DEVNET, generateKeyPair())).toThrow(
      `WALLET_EXISTS: ${path} exists; not overwriting a wallet`,
    );
    const missing = join(dir(), 'none.json');
    expect(() => readKeyFile(missing)).toThrow(
      `WALLET_MISSING: no wallet file at ${missing} (create one: timecoin wallet create)`,
    );
    const s = sealed(dir());
    expect(readKeyFileInfo(s.path).sealed).toBe(true);
    expect(readKeyFileInfo(plain(dir()).path).sealed).toBe(false);
    expect(() => readKeyFile(s.path)).toThrow(
      `WALLET_PASSPHRASE: ${s.path} is protected by a passphrase; none was given`,
    );
    expect(() => readKeyFile(s.path, 'Pass')).toThrow('WALLET_PASSPHRASE: wrong passphrase');
  });

  it('closes every wallet file it writes', () => {
    const d = dir();
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 20; i++) writeKeyFile(join(d, `w${i}.json`), DEVNET, generateKeyPair());
    expect(open()).toBe(before);
  });

  it('refuses a secret key that does not match the stated public key', () => {
    const { path, json } = plain(dir());
    rewrite(path, { ...json, secretKey: Buffer.from(generateKeyPair().secretKey).toString('hex') });
    expect(() => readKeyFile(path)).toThrow(
      `WALLET_CORRUPT: ${path}: the secret key does not match the public key`,
    );
  });

  it('refuses text that is not JSON, and JSON that holds both or neither of secretKey and sealed', () => {
    const d = dir();
    const { path, json } = plain(d);
    writeFileSync(path, '{"version":');
    expect(() => readKeyFile(path)).toThrow(`WALLET_CORRUPT: ${path} is not JSON`);
    const s = sealed(d);
    rewrite(path, { ...json, sealed: s.json.sealed });
    expect(() => readKeyFile(path)).toThrow(`WALLET_CORRUPT: ${path} is not a timecoin wallet file`);
    const { secretKey: _, ...neither } = json;
    rewrite(path, neither);
    expect(codeOf(() => readKeyFileInfo(path))).toBe('WALLET_CORRUPT');
  });

  it('refuses hex fields with anything before or after their exact length', () => {
    const d = dir();
    const p = plain(d);
    for (const field of ['publicKey', 'secretKey']) {
      const v = p.json[field] as string;
      for (const bad of [`${v}0`, `0${v}`, `${v.slice(0, -1)}g`]) {
        rewrite(p.path, { ...p.json, [field]: bad });
        expect(
          codeOf(() => readKeyFileInfo(p.path)),
          `${field} ${bad}`,
        ).toBe('WALLET_CORRUPT');
      }
    }
    const s = sealed(d);
    for (const field of ['salt', 'iv', 'tag', 'data']) {
      const v = s.json.sealed[field] as string;
      for (const bad of [`${v}0`, `0${v}`]) {
        rewrite(s.path, { ...s.json, sealed: { ...s.json.sealed, [field]: bad } });
        expect(
          codeOf(() => readKeyFileInfo(s.path)),
          `${field} ${bad}`,
        ).toBe('WALLET_CORRUPT');
      }
    }
  });

  it('bounds the scrypt cost a file may ask for (N ≤ 2^20, r ≤ 32, p ≤ 4), and any cost OpenSSL refuses is WALLET_CORRUPT', () => {
    const s = sealed(dir());
    const withCost = (n: number, r: number, p: number) => {
      rewrite(s.path, { ...s.json, sealed: { ...s.json.sealed, n, r, p } });
      try {
        readKeyFile(s.path, 'pass');
        return 'opened';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const outOfRange = 'WALLET_CORRUPT: scrypt parameters out of range';
    expect(withCost(2 ** 21, 1, 1)).toBe(outOfRange);
    expect(withCost(2, 33, 1)).toBe(outOfRange);
    expect(withCost(2, 1, 5)).toBe(outOfRange);
    // At each bound the key is derived (and, with other costs than it was sealed with, does not open it).
    expect(withCost(2 ** 20, 2, 1)).toBe('WALLET_PASSPHRASE: wrong passphrase');
    expect(withCost(2, 32, 1)).toBe('WALLET_PASSPHRASE: wrong passphrase');
    expect(withCost(2, 1, 4)).toBe('WALLET_PASSPHRASE: wrong passphrase');
    expect(withCost(2 ** 15, 8, 1)).toBe('opened');
    // Within the bounds but refused by OpenSSL: still the file's fault, with the wallet's code.
    for (const [n, r] of [
      [3, 1],
      [2 ** 16, 1],
      [2 ** 20, 32],
    ] as const)
      expect(withCost(n, r, 1)).toMatch(/^WALLET_CORRUPT: scrypt parameters refused: /);
  });
});

describe.skipIf(process.platform === 'win32')('wallet key file permissions', () => {
  it('refuses a file without a passphrase that group or others can read, naming the file and the chmod', () => {
    const path = join(dir(), 'w.json');
    const key = generateKeyPair();
    writeKeyFile(path, DEVNET, key);
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602, 0o700 | 0o040]) {
      chmodSync(path, mode);
      const octal = mode.toString(8);
      const err = thrownAs(() => readKeyFile(path), KeyFileError);
      expect(err.code, octal).toBe('WALLET_UNPROTECTED');
      expect(err.message).toBe(
        `WALLET_UNPROTECTED: ${path} has mode ${octal}; a wallet file without a passphrase must be readable by its owner only (chmod 600 ${path})`,
      );
      expect(err.details).toEqual({ path, mode });
      // Its address is still shown: that reads no secret.
      expect(readKeyFileInfo(path).sealed).toBe(false);
    }
    // Owner-only modes load: 0600 as written, 0400 read-only, 0700.
    for (const mode of [0o600, 0o400, 0o700]) {
      chmodSync(path, mode);
      expect(readKeyFile(path).secretKey, mode.toString(8)).toEqual(key.secretKey);
    }
  });

  it('loads a sealed file whatever its mode: its secret needs the passphrase', () => {
    const path = join(dir(), 's.json');
    const key = generateKeyPair();
    writeKeyFile(path, DEVNET, key, 'pass');
    chmodSync(path, 0o644);
    expect(readKeyFile(path, 'pass').secretKey).toEqual(key.secretKey);
  });
});
