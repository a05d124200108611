import { base58 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/crypto/sha256.js';
import {
  AddressError,
  addressPayloadOfPubkey,
  decodeAddress,
  encodeAddress,
} from '../../../src/protocol/address.js';

const payload = Uint8Array.from({ length: 20 }, (_, i) => i * 7 + 1);

function refusal(text: unknown, expectDigit?: '0' | '1' | '2'): { code: string; message: string } {
  try {
    decodeAddress(text as string, expectDigit);
  } catch (err) {
    expect(err).toBeInstanceOf(AddressError);
    return { code: (err as AddressError).code, message: (err as AddressError).message };
  }
  throw new Error(`accepted ${String(text)}`);
}

describe('addresses: every refusal, by code and message', () => {
  it('round-trips on each network, and the digit is covered by the checksum', () => {
    for (const digit of ['0', '1', '2'] as const) {
      const text = encodeAddress(digit, payload);
      expect(text.startsWith(`TIME${digit}`)).toBe(true);
      expect(decodeAddress(text)).toEqual({ digit, payload });
      expect(decodeAddress(text, digit).payload).toEqual(payload);
    }
    const moved = `TIME1${encodeAddress('2', payload).slice(5)}`;
    expect(refusal(moved)).toEqual({
      code: 'BAD_CHECKSUM',
      message: 'BAD_CHECKSUM: address checksum does not match',
    });
  });

  it('prefix and length bounds', () => {
    const prefix = {
      code: 'BAD_PREFIX',
      message: 'BAD_PREFIX: address must start with "TIME" and a network digit',
    };
    expect(refusal(42)).toEqual(prefix);
    expect(refusal(`time2${encodeAddress('2', payload).slice(5)}`)).toEqual(prefix);
    expect(refusal('TIME2')).toEqual(prefix);
    // Six characters pass the prefix rule (and fail later); 65 do not.
    expect(refusal('TIME2z').code).toBe('BAD_LENGTH');
    expect(refusal(`TIME2${'z'.repeat(59)}`).code).toBe('BAD_LENGTH');
    expect(refusal(`TIME2${'z'.repeat(60)}`)).toEqual(prefix);
  });

  it('network digits', () => {
    const text = encodeAddress('2', payload);
    expect(refusal(`TIME7${text.slice(5)}`)).toEqual({
      code: 'BAD_NETWORK',
      message: 'BAD_NETWORK: unknown network digit "7"',
    });
    expect(refusal(text, '1')).toEqual({
      code: 'BAD_NETWORK',
      message: 'BAD_NETWORK: address is for network digit 2, expected 1',
    });
  });

  it('body: base58 and 24 bytes', () => {
    expect(refusal('TIME20OIl')).toEqual({
      code: 'BAD_BASE58',
      message: 'BAD_BASE58: address body is not base58',
    });
    const short = `TIME2${base58.encode(new Uint8Array(23).fill(5))}`;
    expect(refusal(short)).toEqual({
      code: 'BAD_LENGTH',
      message: 'BAD_LENGTH: address body decodes to 23 bytes, expected 24',
    });
  });

  it('the payload is the first 20 bytes of SHA-256(pubkey), a 32-byte key only; a payload is 20 bytes', () => {
    const pubkey = new Uint8Array(32).fill(9);
    expect(addressPayloadOfPubkey(pubkey)).toEqual(sha256(pubkey).subarray(0, 20));
    expect(() => addressPayloadOfPubkey(new Uint8Array(31))).toThrow('public key must be 32 bytes');
    expect(() => encodeAddress('2', new Uint8Array(21))).toThrow('address payload must be 20 bytes');
  });
});
