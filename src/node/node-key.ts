import { chmodSync, closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEVNET_NODE_KEY_BASE, DEVNET_SEED } from '../chain/genesis.js';
import { fromHex, toHex } from '../encoding/bytes.js';
import { CodedError } from '../util/coded-error.js';
import { devnetKeyPair, generateKeyPair, type KeyPair, keyPairFromSecret } from '../wallet/keys.js';

/**
 * The node's identity key (Ed25519): it signs handshakes, blocks and registrations. It lives in
 * `<datadir>/node.key` as one line of hex (the 32-byte RFC 8032 seed), mode 0600, and is never
 * printed or logged. Like OpenSSH with private keys, a key file readable by group or others is
 * refused rather than used: a node key leaked to another local user is a stolen masternode.
 */

export const NODE_KEY_FILE = 'node.key';

export type NodeKeyErrorCode =
  | 'NODE_KEY_MISSING'
  | 'NODE_KEY_UNPROTECTED'
  | 'NODE_KEY_INVALID'
  | 'NODE_KEY_EXISTS';
export class NodeKeyError extends CodedError<NodeKeyErrorCode> {}

export function nodeKeyPath(datadir: string): string {
  return join(datadir, NODE_KEY_FILE);
}

/**
 * Creates `<datadir>/node.key` with a fresh random key. Refuses to overwrite an existing key
 * (losing it loses the masternode's identity). Returns the public key only.
 */
export function createNodeKey(datadir: string): Uint8Array {
  const path = nodeKeyPath(datadir);
  if (existsSync(path))
    throw new NodeKeyError('NODE_KEY_EXISTS', `${path} already exists; refusing to overwrite a node key`, {
      path,
    });
  const key = generateKeyPair();
  // 'wx': fail if it appeared meanwhile; mode applies at creation, so the secret is never readable
  // by others even for an instant.
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${toHex(key.secretKey)}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
  return key.publicKey;
}

/** Reads and checks `<datadir>/node.key`. */
export function loadNodeKey(datadir: string): KeyPair {
  const path = nodeKeyPath(datadir);
  if (!existsSync(path))
    throw new NodeKeyError(
      'NODE_KEY_MISSING',
      `no node key at ${path}; create one with \`timecoin node init --datadir ${datadir}\``,
      { path },
    );
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new NodeKeyError(
      'NODE_KEY_UNPROTECTED',
      `${path} has mode ${mode.toString(8).padStart(3, '0')}; a node key must be readable by its owner only (chmod 600 ${path})`,
      { path, mode },
    );
  const text = readFileSync(path, 'utf8').trim();
  let key: KeyPair;
  try {
    key = keyPairFromSecret(fromHex(text, 32));
  } catch {
    throw new NodeKeyError('NODE_KEY_INVALID', `${path} does not hold a 32-byte hex key`, { path });
  }
  // No key-policy check on the public key: derived from a seed it is [a]B with a clamped scalar, a
  // canonical encoding of a prime-order point (the policy refuses only keys peers hand us).
  return key;
}

/** Devnet masternode key `index` (node keys 100… of the public devnet seed): for local networks only. */
export function devnetNodeKey(index: number): KeyPair {
  return devnetKeyPair(DEVNET_SEED, DEVNET_NODE_KEY_BASE + index);
}
