import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { devnetFundedKey, genesisBlock } from '../../../src/chain/genesis.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET, MAINNET, TESTNET } from '../../../src/params/networks.js';
import { decodeAddress, encodeAddress } from '../../../src/protocol/address.js';
import { headerHash } from '../../../src/protocol/block.js';
import { TAG } from '../../../src/protocol/domain-tags.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import { txSigMessage } from '../../../src/protocol/signing.js';
import { decodeTx } from '../../../src/protocol/tx-codec.js';
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

  it('devnet genesis header hash and merkle root', () => {
    const g = genesisBlock(DEVNET);
    expect(toHex(headerHash(g.header))).toBe(get('genesis.devnet.hash'));
    expect(toHex(g.header.merkleRoot)).toBe(get('genesis.devnet.merkle'));
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
