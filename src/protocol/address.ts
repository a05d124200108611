import { base58 } from '@scure/base';
import { sha256, sha256d } from '../crypto/sha256.js';
import { bytesEqual } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { CodedError } from '../util/coded-error.js';
import { ADDRESS_PAYLOAD_BYTES, PUBKEY_BYTES } from './transaction.js';

/**
 * Addresses (DESIGN §3): "TIME" + network digit + base58btc(payload20 ‖ checksum4), where
 * payload = SHA-256(pubkey)[0..20] and checksum = SHA-256(SHA-256(digit ‖ payload))[0..4]. The
 * digit is the ASCII byte ('0' testnet, '1' mainnet, '2' devnet) and is covered by the checksum, so
 * an address cannot be moved to another network by editing one character.
 */

export type AddressErrorCode = 'BAD_PREFIX' | 'BAD_NETWORK' | 'BAD_BASE58' | 'BAD_LENGTH' | 'BAD_CHECKSUM';
export class AddressError extends CodedError<AddressErrorCode> {}

const PREFIX = 'TIME';
const DIGITS = ['0', '1', '2'] as const;

export function addressPayloadOfPubkey(pubkey: Uint8Array): Uint8Array {
  if (pubkey.length !== PUBKEY_BYTES) throw new RangeError(`public key must be ${PUBKEY_BYTES} bytes`);
  return sha256(pubkey).subarray(0, ADDRESS_PAYLOAD_BYTES).slice();
}

function checksum(digit: string, payload: Uint8Array): Uint8Array {
  const pre = new Uint8Array(1 + payload.length);
  pre[0] = digit.charCodeAt(0);
  pre.set(payload, 1);
  return sha256d(pre).subarray(0, 4);
}

export function encodeAddress(digit: ChainParams['addressDigit'], payload: Uint8Array): string {
  if (payload.length !== ADDRESS_PAYLOAD_BYTES)
    throw new RangeError(`address payload must be ${ADDRESS_PAYLOAD_BYTES} bytes`);
  const body = new Uint8Array(ADDRESS_PAYLOAD_BYTES + 4);
  body.set(payload);
  body.set(checksum(digit, payload), ADDRESS_PAYLOAD_BYTES);
  return PREFIX + digit + base58.encode(body);
}

export interface DecodedAddress {
  readonly digit: ChainParams['addressDigit'];
  readonly payload: Uint8Array;
}

/** Decodes any network's address; pass `expectDigit` to also require one network. */
export function decodeAddress(text: string, expectDigit?: ChainParams['addressDigit']): DecodedAddress {
  if (
    typeof text !== 'string' ||
    !text.startsWith(PREFIX) ||
    text.length < PREFIX.length + 2 ||
    text.length > 64
  ) {
    throw new AddressError('BAD_PREFIX', 'address must start with "TIME" and a network digit');
  }
  const digit = text[PREFIX.length] as ChainParams['addressDigit'];
  if (!DIGITS.includes(digit))
    throw new AddressError('BAD_NETWORK', `unknown network digit ${JSON.stringify(digit)}`);
  if (expectDigit !== undefined && digit !== expectDigit) {
    throw new AddressError('BAD_NETWORK', `address is for network digit ${digit}, expected ${expectDigit}`);
  }
  let body: Uint8Array;
  try {
    body = base58.decode(text.slice(PREFIX.length + 1));
  } catch {
    throw new AddressError('BAD_BASE58', 'address body is not base58');
  }
  if (body.length !== ADDRESS_PAYLOAD_BYTES + 4) {
    throw new AddressError('BAD_LENGTH', `address body decodes to ${body.length} bytes, expected 24`);
  }
  const payload = body.slice(0, ADDRESS_PAYLOAD_BYTES);
  if (!bytesEqual(body.subarray(ADDRESS_PAYLOAD_BYTES), checksum(digit, payload))) {
    throw new AddressError('BAD_CHECKSUM', 'address checksum does not match');
  }
  return { digit, payload };
}
