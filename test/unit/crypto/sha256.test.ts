import { randomBytes } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { sha256, sha256d } from '../../../src/crypto/sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256 and sha256d on the calling thread (OpenSSL)', () => {
  it('agree with @noble/hashes on empty, short and random inputs', () => {
    for (const len of [0, 1, 55, 56, 63, 64, 65, 1000]) {
      const data = new Uint8Array(randomBytes(len));
      expect(hex(sha256(data))).toBe(hex(nobleSha256(data)));
      expect(hex(sha256d(data))).toBe(hex(nobleSha256(nobleSha256(data))));
    }
  });

  it('sha256d("hello") is the well-known double hash (Bitcoin wiki)', () => {
    const hello = new TextEncoder().encode('hello');
    expect(hex(sha256(hello))).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(hex(sha256d(hello))).toBe('9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50');
  });
});
