import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVNET_FUNDED_KEYS, devnetFundedKey } from '../../chain/genesis.js';
import { fromHex, toHex } from '../../encoding/bytes.js';
import { formatTime, parseTime } from '../../params/units.js';
import { encodeAddress } from '../../protocol/address.js';
import { readKeyFileInfo, writeKeyFile } from '../../wallet/key-file.js';
import { generateKeyPair, keyPairFromSecret } from '../../wallet/keys.js';
import { buildPayment, PaymentError } from '../../wallet/payment.js';
import { type CliCommand, UsageError } from '../command.js';
import { CliFailure, CONNECTION_OPTIONS, CONNECTION_USAGE, EXIT, RpcClient } from '../rpc-client.js';
import {
  addressPayload,
  loadWalletKey,
  networkParams,
  passphrase,
  spendableCoins,
  WALLET_OPTIONS,
  waitTimeout,
  walletPath,
} from '../wallet-context.js';

/** `timecoin wallet create|import|address`: the key file (wallet/key-file.ts). */
export const walletCommand: CliCommand = {
  name: 'wallet',
  summary: 'Create or import a wallet key file (mode 0600, optional scrypt passphrase); show its address',
  usage:
    'wallet create|import SECRETHEX|import --devnet-key N|address [--network N] [--wallet FILE] [--passphrase-file F] (or env TIMECOIN_WALLET_PASSPHRASE)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        network: { type: 'string', default: 'devnet' },
        ...WALLET_OPTIONS,
        'devnet-key': { type: 'string' },
        json: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
    const params = networkParams(values.network);
    const path = walletPath(params.network, values.wallet);
    const devnetKey = values['devnet-key'];
    const [action, arg] = positionals;
    if (action === 'address') {
      const info = readKeyFileInfo(path);
      console.log(values.json ? JSON.stringify({ ...info, path }) : info.address);
      return EXIT.OK;
    }
    let key: ReturnType<typeof generateKeyPair>;
    if (action === 'create') key = generateKeyPair();
    else if (action === 'import' && devnetKey !== undefined) {
      key = devnetFundedImport(params.network, devnetKey, arg);
    } else if (action === 'import') {
      if (!arg || !/^[0-9a-fA-F]{64}$/.test(arg))
        throw new UsageError('import takes a 32-byte secret key in hex');
      key = keyPairFromSecret(fromHex(arg.toLowerCase(), 32));
    } else throw new UsageError('wallet create, wallet import SECRETHEX or wallet address');
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const pass = passphrase(values['passphrase-file']);
    const address = writeKeyFile(path, params, key, pass);
    if (values.json)
      console.log(JSON.stringify({ address, path, publicKey: toHex(key.publicKey), sealed: !!pass }));
    else console.log(`${address}\nwallet written to ${path}${pass ? ' (passphrase protected)' : ''}`);
    return EXIT.OK;
  },
};

/**
 * `wallet import --devnet-key N`: the devnet genesis's funded key N (0–9), so a newcomer with a
 * running devnet (`npm start`) has coins to send at once. Devnet only: its keys derive from a public
 * seed phrase, so on any other network they would be anyone's.
 */
function devnetFundedImport(network: string, index: string, secretArg: string | undefined) {
  if (network !== 'devnet') throw new UsageError(`--devnet-key is for the devnet only, not ${network}`);
  if (secretArg !== undefined) throw new UsageError('import takes SECRETHEX or --devnet-key N, not both');
  const n = Number(index);
  if (!/^\d+$/.test(index) || n >= DEVNET_FUNDED_KEYS)
    throw new UsageError(`--devnet-key is a funded devnet key index, 0 to ${DEVNET_FUNDED_KEYS - 1}`);
  return devnetFundedKey(n);
}

interface Balance {
  value: string;
  sat: string;
  confirmed: { value: string };
  pending: { value: string };
  height: number;
}

/** `timecoin balance [ADDRESS]`: the node's getbalance for the wallet (or any) address. */
export const balanceCommand: CliCommand = {
  name: 'balance',
  summary: 'Balance of the wallet address (or ADDRESS): final, confirmed in blocks, pending',
  usage: `balance [ADDRESS] [--wallet FILE] [--json] ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...CONNECTION_OPTIONS, ...WALLET_OPTIONS, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    const params = networkParams(values.network);
    const address = positionals[0] ?? readKeyFileInfo(walletPath(params.network, values.wallet)).address;
    const b = await RpcClient.fromFlags(values).call<Balance>('getbalance', [address]);
    if (values.json) console.log(JSON.stringify(b));
    else
      console.log(
        `${address}\n  final      ${b.value} TIME\n  confirmed  ${b.confirmed.value} TIME (in blocks up to ${b.height})\n  pending    ${b.pending.value} TIME`,
      );
    return EXIT.OK;
  },
};

/** `timecoin send ADDRESS AMOUNT`: build, sign, submit, wait for finality, print the time it took. */
export const sendCommand: CliCommand = {
  name: 'send',
  summary: 'Pay AMOUNT TIME to ADDRESS from the wallet; waits for finality and prints how long it took',
  usage: `send ADDRESS AMOUNT [--fee TIME] [--timeout MS] [--no-wait] [--wallet FILE] [--json] ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...CONNECTION_OPTIONS,
        ...WALLET_OPTIONS,
        fee: { type: 'string' },
        timeout: { type: 'string', default: '60000' },
        'no-wait': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [to, amountText] = positionals;
    if (!to || !amountText || positionals.length > 2) throw new UsageError('send takes ADDRESS AMOUNT');
    const params = networkParams(values.network);
    const toPayload = addressPayload(params, to);
    let value: bigint;
    let fee: bigint | undefined;
    try {
      value = parseTime(amountText);
      fee = values.fee === undefined ? undefined : parseTime(values.fee);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (value < params.dustLimit)
      throw new UsageError(`the amount is below the dust limit (${formatTime(params.dustLimit)} TIME)`);
    const timeout = waitTimeout(values.timeout);
    const key = loadWalletKey(params.network, values);
    const from = encodeAddress(params.addressDigit, key.addressPayload);
    const client = RpcClient.fromFlags(values);
    const coins = await spendableCoins(client, from);
    let built: ReturnType<typeof buildPayment>;
    try {
      built = buildPayment(
        params,
        key,
        coins,
        [{ value, address: toPayload }],
        fee === undefined ? {} : { fee },
      );
    } catch (err) {
      if (err instanceof PaymentError && err.code === 'INSUFFICIENT_FUNDS')
        throw new CliFailure(EXIT.INSUFFICIENT_FUNDS, `${err.message} (wallet ${from})`);
      if (err instanceof PaymentError) throw new UsageError(err.message);
      throw err;
    }
    const started = performance.now();
    const txid = await client.sendRawTransaction(toHex(built.tx.bytes), timeout);
    const summary = { txid, amount: formatTime(value), fee: formatTime(built.fee), inputs: built.inputs };
    if (values['no-wait']) {
      console.log(values.json ? JSON.stringify(summary) : txid);
      return EXIT.OK;
    }
    const f = await client.call<{ status: string; final: boolean }>(
      'waittransactionfinality',
      [txid, timeout],
      timeout + 10_000,
    );
    const elapsedMs = Math.round(performance.now() - started);
    if (values.json)
      console.log(JSON.stringify({ ...summary, status: f.status, final: f.final, elapsedms: elapsedMs }));
    else
      console.log(
        f.final
          ? `${txid}\nfinal in ${elapsedMs} ms (${summary.amount} TIME to ${to}, fee ${summary.fee})`
          : `${txid}\nnot final after ${elapsedMs} ms: ${f.status}`,
      );
    return f.final ? EXIT.OK : EXIT.NOT_FINAL;
  },
};
