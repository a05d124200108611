import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { minimumFee } from '../../../src/ledger/tx-validation.js';
import { DEVNET } from '../../../src/params/networks.js';
import { decodeTx } from '../../../src/protocol/tx-codec.js';
import { KeyFileError, readKeyFile, readKeyFileInfo, writeKeyFile } from '../../../src/wallet/key-file.js';
import { generateKeyPair } from '../../../src/wallet/keys.js';
import { buildPayment, PaymentError } from '../../../src/wallet/payment.js';
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

describe('buildPayment', () => {
  const key = generateKeyPair();
  const coin = (i: number, value: bigint) => ({
    outpoint: { txid: new Uint8Array(32).fill(i), vout: i },
    value,
  });
  const to = generateKeyPair().addressPayload;

  it('takes coins oldest first until they cover amount and the relay-minimum fee, with change back', () => {
    const r = buildPayment(
      DEVNET,
      key,
      [coin(1, 50_000n), coin(2, 60_000n), coin(3, 1_000_000n)],
      [{ value: 100_000n, address: to }],
    );
    expect(r.inputs).toBe(2);
    const tx = decodeTx(r.tx.bytes, DEVNET.maxTxBytes).tx;
    const change = tx.outputs[1]!.value;
    expect(110_000n - 100_000n - change).toBe(r.fee);
    expect(r.fee).toBeGreaterThanOrEqual(minimumFee(DEVNET, r.tx.bytes.length));
  });

  it('says INSUFFICIENT_FUNDS when the coins do not cover it, and refuses a fee below the minimum', () => {
    expect(() => buildPayment(DEVNET, key, [coin(1, 5_000n)], [{ value: 10_000n, address: to }])).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_FUNDS' }),
    );
    expect(() =>
      buildPayment(DEVNET, key, [coin(1, 500_000n)], [{ value: 10_000n, address: to }], { fee: 1n }),
    ).toThrow(PaymentError);
  });
});
