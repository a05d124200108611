import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { devnetFundedKey, genesisBlock } from '../../../src/chain/genesis.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET, MAINNET, TESTNET } from '../../../src/params/networks.js';
import { decodeAddress, encodeAddress } from '../../../src/protocol/address.js';
import { encodeBlock, headerHash } from '../../../src/protocol/block.js';
import { TAG } from '../../../src/protocol/domain-tags.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import { txSigMessage } from '../../../src/protocol/signing.js';
import { decodeTx } from '../../../src/protocol/tx-codec.js';
import { witnessHash } from '../../../src/protocol/witness-root.js';
import { signTx } from '../../../src/wallet/tx-builder.js';
import { docVectors } from '../../support/doc-vectors.js';

const get = docVectors().vector;
const hexToBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
/** Independent SHA-256 (@noble/hashes), so a vector is not checked only by the code that made it. */
const oracle = (hex: string) => toHex(nobleSha256(hexToBytes(hex)));

describe('docs/protocol.md vectors', () => {
  it('domain tags are the ASCII name plus one NUL byte', () => {
    expect(toHex(TAG.tx)).toBe(get('tag.tx'));
    expect(toHex(TAG.sig)).toBe(get('tag.sig'));
    expect(toHex(TAG.hdr)).toBe(get('tag.hdr'));
    expect(toHex(TAG.hdrSig)).toBe(get('tag.hdrSig'));
    expect(Buffer.from(hexToBytes(get('tag.tx'))).toString('latin1')).toBe('TIME:tx:1\0');
  });

  it('addresses: payload, per-network encoding, and checksum via an independent SHA-256', () => {
    const key = devnetFundedKey(0);
    expect(toHex(key.secretKey)).toBe(get('address.secret'));
    expect(toHex(key.publicKey)).toBe(get('address.pubkey'));
    expect(oracle(get('address.pubkey')).slice(0, 40)).toBe(get('address.payload'));
    const payload = hexToBytes(get('address.payload'));
    for (const p of [MAINNET, TESTNET, DEVNET]) {
      const text = get(`address.${p.network}`);
      expect(encodeAddress(p.addressDigit, payload)).toBe(text);
      expect(toHex(decodeAddress(text, p.addressDigit).payload)).toBe(get('address.payload'));
      // The checksum covers the digit: moving the address to another network breaks it.
      const other = p.addressDigit === '1' ? '0' : '1';
      expect(() => decodeAddress(`TIME${other}${text.slice(5)}`)).toThrow(/checksum/);
    }
  });

  it('transaction bytes, txid (= SHA-256 of TAG.tx ‖ body) and signing message', () => {
    const g = genesisBlock(DEVNET);
    expect(toHex(g.txs[0]!.txid)).toBe(get('genesis.devnet.allocation'));
    const tx = signTx(
      DEVNET,
      {
        inputs: [{ txid: g.txs[0]!.txid, vout: 0 }],
        outputs: [
          { value: 150_000_000n, address: devnetFundedKey(1).addressPayload },
          { value: 99_999_849_990_000n, address: devnetFundedKey(0).addressPayload },
        ],
      },
      [devnetFundedKey(0)],
    );
    expect(toHex(tx.bytes)).toBe(get('tx.bytes'));
    expect(toHex(tx.txid)).toBe(get('tx.txid'));
    // Independent check: the body is everything before the one 96-byte witness.
    const bodyHex = get('tx.bytes').slice(0, -96 * 2);
    expect(oracle(toHex(TAG.tx) + bodyHex)).toBe(get('tx.txid'));
    expect(toHex(txSigMessage(DEVNET.chainId, tx.txid))).toBe(get('tx.sigmsg'));
    const decoded = decodeTx(hexToBytes(get('tx.bytes')), DEVNET.maxTxBytes);
    expect(toHex(decoded.txid)).toBe(get('tx.txid'));
  });

  it('devnet genesis header: layout, hash = SHA-256(TAG.hdr ‖ fields), merkle and witness roots', () => {
    const g = genesisBlock(DEVNET);
    const fields = get('genesis.devnet.header');
    expect(fields.length).toBe(176 * 2);
    // The block encoding starts with exactly the header fields.
    expect(toHex(encodeBlock(g)).slice(0, fields.length)).toBe(fields);
    expect(toHex(headerHash(g.header))).toBe(get('genesis.devnet.hash'));
    expect(oracle(toHex(TAG.hdr) + fields)).toBe(get('genesis.devnet.hash'));
    expect(toHex(g.header.merkleRoot)).toBe(get('genesis.devnet.merkle'));
    expect(toHex(g.header.witnessRoot)).toBe(get('genesis.devnet.witness'));
    // The roots sit at their documented offsets: after version, chain id, height, slot, timestamp, prev hash.
    expect(fields.slice(2 * 64, 2 * 96)).toBe(get('genesis.devnet.merkle'));
    expect(fields.slice(2 * 96, 2 * 128)).toBe(get('genesis.devnet.witness'));
    // Witness root recomputed independently: RFC 6962 over SHA-256(TAG.wtx ‖ tx bytes).
    const leaves = g.txs.map((t) =>
      nobleSha256(Uint8Array.of(0, ...nobleSha256(new Uint8Array([...TAG.wtx, ...t.bytes])))),
    );
    const node = (a: Uint8Array, b: Uint8Array) => nobleSha256(Uint8Array.of(1, ...a, ...b));
    let level: Uint8Array[] = leaves;
    while (level.length > 1) {
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(node(level[i]!, level[i + 1]!));
      if (level.length % 2 === 1) next.push(level[level.length - 1]!);
      level = next;
    }
    expect(toHex(level[0]!)).toBe(get('genesis.devnet.witness'));
  });

  it('wtxid = SHA-256(TAG.wtx ‖ full transaction bytes)', () => {
    expect(toHex(TAG.wtx)).toBe(get('tag.wtx'));
    expect(Buffer.from(hexToBytes(get('tag.wtx'))).toString('latin1')).toBe('TIME:wtx:1\0');
    expect(toHex(witnessHash(hexToBytes(get('tx.bytes'))))).toBe(get('tx.wtxid'));
    expect(oracle(get('tag.wtx') + get('tx.bytes'))).toBe(get('tx.wtxid'));
  });

  it('merkle roots for 0–3 leaves, recomputed with the independent SHA-256', () => {
    const leaves = [1, 2, 3].map((i) => nobleSha256(new Uint8Array([i])));
    for (const [i, l] of leaves.entries()) expect(toHex(l)).toBe(get(`merkle.l${i + 1}`));
    expect(toHex(merkleRoot([]))).toBe(get('merkle.root0'));
    const leaf = (id: Uint8Array) => nobleSha256(Uint8Array.of(0, ...id));
    const node = (a: Uint8Array, b: Uint8Array) => nobleSha256(Uint8Array.of(1, ...a, ...b));
    expect(toHex(leaf(leaves[0]!))).toBe(get('merkle.root1'));
    expect(toHex(node(leaf(leaves[0]!), leaf(leaves[1]!)))).toBe(get('merkle.root2'));
    expect(toHex(node(node(leaf(leaves[0]!), leaf(leaves[1]!)), leaf(leaves[2]!)))).toBe(get('merkle.root3'));
    for (let n = 1; n <= 3; n++) expect(toHex(merkleRoot(leaves.slice(0, n)))).toBe(get(`merkle.root${n}`));
  });
});
