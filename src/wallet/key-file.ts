import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { fromHex, toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { encodeAddress } from '../protocol/address.js';
import { CodedError } from '../util/coded-error.js';
import { type KeyPair, keyPairFromSecret } from './keys.js';

/**
 * A wallet key file: one Ed25519 key as JSON, written with mode 0600 and never overwritten; a key
 * without a passphrase is read only while the file keeps an owner-only mode. With a passphrase the
 * secret is sealed by AES-256-GCM under a key stretched by scrypt (node:crypto, no extra package):
 * a stolen file costs an attacker scrypt work per guess, and a wrong passphrase fails the GCM tag
 * instead of yielding a wrong key.
 */

export type KeyFileErrorCode =
  | 'WALLET_EXISTS'
  | 'WALLET_MISSING'
  | 'WALLET_CORRUPT'
  | 'WALLET_PASSPHRASE'
  | 'WALLET_UNPROTECTED';
export class KeyFileError extends CodedError<KeyFileErrorCode> {}

/** scrypt cost: N = 2^15, r = 8 (≈ 32 MiB, ~0.1 s) — interactive-login strength per RFC 7914's advice. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

const Sealed = z.strictObject({
  kdf: z.literal('scrypt'),
  n: z.number().int(),
  r: z.number().int(),
  p: z.number().int(),
  salt: z.string().regex(/^[0-9a-f]{32}$/),
  cipher: z.literal('aes-256-gcm'),
  iv: z.string().regex(/^[0-9a-f]{24}$/),
  tag: z.string().regex(/^[0-9a-f]{32}$/),
  data: z.string().regex(/^[0-9a-f]{64}$/),
});

const KeyFile = z.strictObject({
  version: z.literal(1),
  network: z.string(),
  address: z.string(),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  secretKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  sealed: Sealed.optional(),
});
type KeyFileJson = z.infer<typeof KeyFile>;

/** Writes `key` to a new file at `path` (refuses to replace one: that could destroy funds). */
export function writeKeyFile(path: string, params: ChainParams, key: KeyPair, passphrase?: string): string {
  if (existsSync(path)) throw new KeyFileError('WALLET_EXISTS', `${path} exists; not overwriting a wallet`);
  const address = encodeAddress(params.addressDigit, key.addressPayload);
  const json: KeyFileJson = {
    version: 1,
    network: params.network,
    address,
    publicKey: toHex(key.publicKey),
    ...(passphrase ? { sealed: seal(key.secretKey, passphrase) } : { secretKey: toHex(key.secretKey) }),
  };
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(json, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  return address;
}

/** The file's address and public key, without the passphrase. */
export function readKeyFileInfo(path: string): {
  network: string;
  address: string;
  publicKey: string;
  sealed: boolean;
} {
  const f = parse(path).json;
  return { network: f.network, address: f.address, publicKey: f.publicKey, sealed: f.sealed !== undefined };
}

/**
 * The key of the file; a sealed one needs its passphrase. A file whose secret is not sealed must be
 * readable by its owner only (as node.key, and as OpenSSH asks of a private key): a wallet copied
 * or restored under umask 022 is refused with the chmod that fixes it, instead of signing with a
 * key every local user could read. Windows has no POSIX modes (Node reports 0o666 or 0o444), so
 * the check is skipped there.
 */
export function readKeyFile(path: string, passphrase?: string): KeyPair {
  const { json: f, mode } = parse(path);
  let secret: Uint8Array;
  if (!f.sealed && (mode & 0o077) !== 0 && process.platform !== 'win32')
    throw new KeyFileError(
      'WALLET_UNPROTECTED',
      `${path} has mode ${mode.toString(8).padStart(3, '0')}; a wallet file without a passphrase must be readable by its owner only (chmod 600 ${path})`,
      { path, mode },
    );
  if (f.sealed) {
    if (!passphrase)
      throw new KeyFileError('WALLET_PASSPHRASE', `${path} is protected by a passphrase; none was given`);
    secret = unseal(f.sealed, passphrase);
  } else secret = fromHex(f.secretKey!, 32);
  const key = keyPairFromSecret(secret);
  if (toHex(key.publicKey) !== f.publicKey)
    throw new KeyFileError('WALLET_CORRUPT', `${path}: the secret key does not match the public key`);
  return key;
}

/** The file's JSON and its permission bits (of the file read: fstat on the same descriptor). */
function parse(path: string): { json: KeyFileJson; mode: number } {
  let raw: string;
  let mode: number;
  try {
    const fd = openSync(path, 'r');
    try {
      mode = fstatSync(fd).mode & 0o777;
      raw = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    throw new KeyFileError(
      'WALLET_MISSING',
      `no wallet file at ${path} (create one: timecoin wallet create)`,
    );
  }
  let parsed: ReturnType<typeof KeyFile.safeParse>;
  try {
    parsed = KeyFile.safeParse(JSON.parse(raw));
  } catch {
    throw new KeyFileError('WALLET_CORRUPT', `${path} is not JSON`);
  }
  if (!parsed.success || (parsed.data.secretKey === undefined) === (parsed.data.sealed === undefined))
    throw new KeyFileError('WALLET_CORRUPT', `${path} is not a timecoin wallet file`);
  return { json: parsed.data, mode };
}

function seal(secret: Uint8Array, passphrase: string): z.infer<typeof Sealed> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(passphrase.normalize('NFKC'), salt, 32, SCRYPT);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([c.update(secret), c.final()]);
  return {
    kdf: 'scrypt',
    n: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    salt: salt.toString('hex'),
    cipher: 'aes-256-gcm',
    iv: iv.toString('hex'),
    tag: c.getAuthTag().toString('hex'),
    data: data.toString('hex'),
  };
}

function unseal(s: z.infer<typeof Sealed>, passphrase: string): Uint8Array {
  // Bounded cost parameters: a crafted file cannot make us allocate gigabytes.
  if (s.n > 1 << 20 || s.r > 32 || s.p > 4)
    throw new KeyFileError('WALLET_CORRUPT', 'scrypt parameters out of range');
  let key: Buffer;
  try {
    key = scryptSync(passphrase.normalize('NFKC'), Buffer.from(s.salt, 'hex'), 32, {
      N: s.n,
      r: s.r,
      p: s.p,
      maxmem: 1100 * 1024 * 1024,
    });
  } catch (err) {
    // OpenSSL refuses more than the bounds above: N not a power of two, N ≥ 2^(16r), memory.
    throw new KeyFileError('WALLET_CORRUPT', `scrypt parameters refused: ${(err as Error).message}`);
  }
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'hex'));
  d.setAuthTag(Buffer.from(s.tag, 'hex'));
  try {
    return new Uint8Array(Buffer.concat([d.update(Buffer.from(s.data, 'hex')), d.final()]));
  } catch {
    throw new KeyFileError('WALLET_PASSPHRASE', 'wrong passphrase');
  }
}
