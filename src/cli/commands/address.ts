import { parseArgs } from 'node:util';
import { fromHex, toHex } from '../../encoding/bytes.js';
import { paramsFor } from '../../params/networks.js';
import { addressPayloadOfPubkey, decodeAddress, encodeAddress } from '../../protocol/address.js';
import { type CliCommand, UsageError } from '../command.js';

const NETWORK_OF_DIGIT = { '0': 'testnet', '1': 'mainnet', '2': 'devnet' } as const;

export const addressCommand: CliCommand = {
  name: 'address',
  summary: 'Print the address of a public key, or decode and check an address',
  usage: 'address (--pubkey HEX [--network mainnet|testnet|devnet] | --decode ADDRESS) [--json]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        pubkey: { type: 'string' },
        decode: { type: 'string' },
        network: { type: 'string', default: 'devnet' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    let out: Record<string, string>;
    if (values.decode !== undefined) {
      const { digit, payload } = decodeAddress(values.decode);
      out = { address: values.decode, network: NETWORK_OF_DIGIT[digit], payload: toHex(payload) };
    } else if (values.pubkey !== undefined) {
      let pubkey: Uint8Array;
      try {
        pubkey = fromHex(values.pubkey, 32);
      } catch {
        throw new UsageError('--pubkey must be 64 hex digits (a 32-byte Ed25519 public key)');
      }
      const params = paramsFor(values.network!);
      const payload = addressPayloadOfPubkey(pubkey);
      out = {
        network: params.network,
        payload: toHex(payload),
        address: encodeAddress(params.addressDigit, payload),
      };
    } else {
      throw new UsageError('give --pubkey or --decode');
    }
    if (values.json) console.log(JSON.stringify(out));
    else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(8)} ${v}`);
    return 0;
  },
};
