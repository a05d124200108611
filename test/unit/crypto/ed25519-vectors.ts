import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { SignatureItem } from '../../../src/crypto/signature-verifier.js';
import { fromHex as hexToBytes } from '../../../src/encoding/bytes.js';
import { packageRoot } from '../../../src/util/package-root.js';

/** A signature case with the answer the ZIP-215 verifier must give. */
export interface Case extends SignatureItem {
  readonly label: string;
  readonly expected: boolean;
}

const dir = () => join(packageRoot(), '..', 'shared', 'vectors', 'ed25519');
const read = (name: string) => readFileSync(join(dir(), name), 'utf8');

/** @noble/curves with ZIP-215 rules: the independent oracle. */
export function nobleZip215(item: SignatureItem): boolean {
  try {
    return ed25519.verify(item.signature, item.message, item.publicKey, { zip215: true });
  } catch {
    return false;
  }
}

/** The 1,024 SUPERCOP sign.input vectors: `sk||pk:pk:msg:sig||msg:` per line; all valid. */
export function supercopCases(): Case[] {
  return read('vectors.txt')
    .trim()
    .split('\n')
    .map((line, i) => {
      const [, pk, msg, sigMsg] = line.split(':') as [string, string, string, string];
      return {
        label: `vectors.txt#${i}`,
        publicKey: hexToBytes(pk),
        message: hexToBytes(msg),
        signature: hexToBytes(sigMsg.slice(0, 128)),
        expected: true,
      };
    });
}

/** ZIP-215's small-order and non-canonical cases over the message "Zcash"; answer: valid_zip215. */
export function zip215Cases(): Case[] {
  const rows = JSON.parse(read('zip215.json')) as {
    vk_bytes: string;
    sig_bytes: string;
    valid_zip215: boolean;
  }[];
  const message = new TextEncoder().encode('Zcash');
  return rows.map((r, i) => ({
    label: `zip215.json#${i}`,
    publicKey: hexToBytes(r.vk_bytes),
    message,
    signature: hexToBytes(r.sig_bytes),
    expected: r.valid_zip215,
  }));
}

/** Small-order and non-canonical edge cases; the answer comes from @noble (ZIP-215). */
export function edgeCases(): Case[] {
  const rows = JSON.parse(read('edge-cases.json')) as {
    message: string;
    pub_key: string;
    signature: string;
  }[];
  return rows.map((r, i) => {
    const item = {
      publicKey: hexToBytes(r.pub_key),
      message: hexToBytes(r.message),
      signature: hexToBytes(r.signature),
    };
    return { label: `edge-cases.json#${i}`, ...item, expected: nobleZip215(item) };
  });
}

export interface WycheproofCase extends Case {
  readonly tcId: number;
  readonly wycheproofValid: boolean;
}

/** Wycheproof EdDSA groups; the ZIP-215 answer comes from @noble, Wycheproof's own is kept too. */
export function wycheproofCases(): WycheproofCase[] {
  const doc = JSON.parse(read('ed25519_test_OLD.json')) as {
    testGroups: {
      key: { pk: string };
      tests: { tcId: number; msg: string; sig: string; result: string }[];
    }[];
  };
  const out: WycheproofCase[] = [];
  for (const g of doc.testGroups) {
    for (const t of g.tests) {
      const item = {
        publicKey: hexToBytes(g.key.pk),
        message: hexToBytes(t.msg),
        signature: hexToBytes(t.sig),
      };
      out.push({
        label: `wycheproof tcId ${t.tcId}`,
        tcId: t.tcId,
        ...item,
        expected: nobleZip215(item),
        wycheproofValid: t.result === 'valid',
      });
    }
  }
  return out;
}
