/**
 * The node's TLS certificate: a self-signed Ed25519 certificate made once (at `init`) and stored next
 * to the node key. It carries no identity of its own — the node key signs a handshake transcript
 * that includes SHA-256 of this certificate (the tls-server-end-point channel binding, see
 * handshake.ts), so whoever presents another certificate cannot relay a signature made for this one.
 *
 * Made with @peculiar/x509 (X.509 generation over WebCrypto, which in Node does Ed25519 natively);
 * node:crypto can parse certificates but not make them. The library's dependency container needs
 * the `reflect-metadata` polyfill, so both are loaded only when a certificate has to be made.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { CodedError } from '../util/coded-error.js';

/** What the transport needs: uWS reads the files; the hash is the channel binding of our listener. */
export interface TlsMaterial {
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 of the certificate's DER encoding (RFC 5929 tls-server-end-point). */
  readonly endpointHash: Uint8Array;
}

export class TlsCertificateError extends CodedError<'P2P_TLS_CERTIFICATE'> {}

export const TLS_CERT_FILE = 'p2p-tls.crt';
export const TLS_KEY_FILE = 'p2p-tls.key';

let dialerContext: SecureContext | undefined;

/**
 * The TLS context of every outbound connection (TLS 1.3 only, no CA: the binding authenticates),
 * made once: building one per connection cost as much as the handshake's signatures.
 */
export function dialerSecureContext(): SecureContext {
  dialerContext ??= createSecureContext({ minVersion: 'TLSv1.3' });
  return dialerContext;
}

/** SHA-256 of a certificate's DER bytes. */
export function endpointHashOf(certDer: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(certDer).digest());
}

/** A fresh self-signed Ed25519 certificate and its PKCS#8 key, both PEM. */
export async function makeTlsCertificate(): Promise<{ certPem: string; keyPem: string }> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const { webcrypto } = await import('node:crypto');
  x509.cryptoProvider.set(webcrypto as Crypto);
  const alg = { name: 'Ed25519' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=timecoin-p2p',
    // The certificate is never checked against a clock or a CA (the binding is what counts), so
    // it must not expire under a running node.
    notBefore: new Date('2000-01-01T00:00:00Z'),
    notAfter: new Date('9999-12-31T23:59:59Z'),
    signingAlgorithm: alg,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}

/** Reads the certificate in `dir` (TLS_CERT_FILE / TLS_KEY_FILE) and computes its binding hash. */
export function loadTlsMaterial(dir: string): TlsMaterial {
  const certFile = join(dir, TLS_CERT_FILE);
  const keyFile = join(dir, TLS_KEY_FILE);
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    if (!existsSync(keyFile)) throw new Error(`${keyFile} is missing`);
    return { certFile, keyFile, endpointHash: endpointHashOf(cert.raw) };
  } catch (err) {
    throw new TlsCertificateError(
      'P2P_TLS_CERTIFICATE',
      `cannot use ${certFile}: ${(err as Error).message}`,
      {
        certFile,
      },
    );
  }
}

/**
 * The node's certificate in `dir`, made on first use. The key is written with mode 0600 and both
 * files appear atomically (written aside, then renamed), so a crash never leaves half a certificate.
 */
export async function loadOrCreateTlsMaterial(dir: string): Promise<TlsMaterial> {
  if (!existsSync(join(dir, TLS_CERT_FILE))) {
    const { certPem, keyPem } = await makeTlsCertificate();
    const keyFile = join(dir, TLS_KEY_FILE);
    writeFileSync(`${keyFile}.tmp`, keyPem, { mode: 0o600 });
    chmodSync(`${keyFile}.tmp`, 0o600);
    renameSync(`${keyFile}.tmp`, keyFile);
    const certFile = join(dir, TLS_CERT_FILE);
    writeFileSync(`${certFile}.tmp`, certPem);
    renameSync(`${certFile}.tmp`, certFile);
  }
  return loadTlsMaterial(dir);
}
