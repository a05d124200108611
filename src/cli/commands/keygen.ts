import { parseArgs } from 'node:util';
import { toHex } from '../../encoding/bytes.js';
import { paramsFor } from '../../params/networks.js';
import { encodeAddress } from '../../protocol/address.js';
import { devnetKeyPair, generateKeyPair } from '../../wallet/keys.js';
import { type CliCommand, UsageError } from '../command.js';

export const keygenCommand: CliCommand = {
  name: 'keygen',
  summary: 'Create an Ed25519 key pair and print its secret key, public key and address',
  usage: 'keygen [--network mainnet|testnet|devnet] [--devnet-seed PHRASE --index N] [--json]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        network: { type: 'string', default: 'devnet' },
        'devnet-seed': { type: 'string' },
        index: { type: 'string', default: '0' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const params = paramsFor(values.network!);
    let key = generateKeyPair();
    if (values['devnet-seed'] !== undefined) {
      const index = Number(values.index);
      if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff)
        throw new UsageError('--index must be a u32');
      key = devnetKeyPair(values['devnet-seed'], index);
    }
    const out = {
      network: params.network,
      secretKey: toHex(key.secretKey),
      publicKey: toHex(key.publicKey),
      address: encodeAddress(params.addressDigit, key.addressPayload),
    };
    if (values.json) console.log(JSON.stringify(out));
    else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(10)} ${v}`);
    return 0;
  },
};
