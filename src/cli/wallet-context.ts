import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { paramsFor } from '../params/networks.js';
import { decodeAddress } from '../protocol/address.js';
import { readKeyFile } from '../wallet/key-file.js';
import type { KeyPair } from '../wallet/keys.js';
import type { SpendableCoin } from '../wallet/payment.js';
import { UsageError } from './command.js';
import { CliFailure, EXIT, type RpcClient } from './rpc-client.js';

/** Flags that name the wallet file and its passphrase (env TIMECOIN_WALLET_PASSPHRASE for scripts). */
export const WALLET_OPTIONS = {
  wallet: { type: 'string' },
  'passphrase-file': { type: 'string' },
} as const;

export function walletPath(network: string, given: string | undefined): string {
  return given ?? process.env['TIMECOIN_WALLET'] ?? join(homedir(), '.timecoin', `wallet-${network}.json`);
}

export function passphrase(file: string | undefined): string | undefined {
  if (file !== undefined) return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  const env = process.env['TIMECOIN_WALLET_PASSPHRASE'];
  return env === undefined || env === '' ? undefined : env;
}

export function loadWalletKey(
  network: string,
  f: { wallet?: string | undefined; 'passphrase-file'?: string | undefined },
): KeyPair {
  return readKeyFile(walletPath(network, f.wallet), passphrase(f['passphrase-file']));
}

/** Longest `--timeout` a submitting command takes: waittransactionfinality's own bound (ms). */
export const MAX_WAIT_MS = 600_000;

/**
 * The `--timeout MS` of the commands that submit a transaction and wait for its finality (`send`,
 * `masternode`). Checked before the wallet is read or the node asked: a bad value found after the
 * submission would fail a command whose transaction was already sent.
 */
export function waitTimeout(text: string | undefined): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_WAIT_MS)
    throw new UsageError(`--timeout is milliseconds, at most ${MAX_WAIT_MS}`);
  return ms;
}

export function networkParams(network: string | undefined): ChainParams {
  try {
    return paramsFor(network ?? 'devnet');
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, (err as Error).message);
  }
}

export function addressPayload(params: ChainParams, text: string): Uint8Array {
  try {
    return decodeAddress(text, params.addressDigit).payload;
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, `not a ${params.network} address: ${text} (${(err as Error).message})`);
  }
}

interface UnspentRow {
  txid: string;
  vout: number;
  sat: string;
  spendable: boolean;
}

/** The wallet's spendable coins as the node sees them (final, not spent by a mempool transaction). */
export async function spendableCoins(client: RpcClient, address: string): Promise<SpendableCoin[]> {
  const rows = await client.call<UnspentRow[]>('listunspent', [address, 0]);
  return rows
    .filter((r) => r.spendable)
    .map((r) => ({ outpoint: { txid: fromHex(r.txid, 32), vout: r.vout }, value: BigInt(r.sat) }));
}
