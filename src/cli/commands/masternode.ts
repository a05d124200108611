import { parseArgs } from 'node:util';
import { fromHex, toHex } from '../../encoding/bytes.js';
import { minimumFee } from '../../ledger/tx-validation.js';
import { devnetNodeKey, loadNodeKey } from '../../node/node-key.js';
import { TIER_NAMES } from '../../params/chain-params.js';
import { formatTime } from '../../params/units.js';
import { encodeAddress } from '../../protocol/address.js';
import type { KeyPair } from '../../wallet/keys.js';
import { buildPayment, PaymentError } from '../../wallet/payment.js';
import { deregistrationPayload, registrationPayload, signTx } from '../../wallet/tx-builder.js';
import { type CliCommand, UsageError } from '../command.js';
import { CliFailure, CONNECTION_OPTIONS, CONNECTION_USAGE, EXIT, RpcClient } from '../rpc-client.js';
import {
  loadWalletKey,
  networkParams,
  spendableCoins,
  WALLET_OPTIONS,
  waitTimeout,
} from '../wallet-context.js';

/**
 * `timecoin masternode register|deregister`: the collateral transactions, paid and owned by the
 * wallet. Register locks a collateral output (vout 0, to the wallet) and carries the registration
 * signed by the node key (from the node's data dir); deregister spends that collateral back to the
 * wallet, which the collateral owner's signature authorizes (no node key needed). Both wait for
 * finality like `send`.
 */
export const masternodeCommand: CliCommand = {
  name: 'masternode',
  summary: 'Register a masternode (collateral from the wallet) or deregister it (collateral back)',
  usage: `masternode register --tier free|bronze|silver|gold (--node-datadir DIR | --devnet-index N) | deregister NODEPUBKEY  [--timeout MS] [--wallet FILE] ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...CONNECTION_OPTIONS,
        ...WALLET_OPTIONS,
        tier: { type: 'string', default: 'bronze' },
        'node-datadir': { type: 'string' },
        'devnet-index': { type: 'string' },
        timeout: { type: 'string', default: '60000' },
      },
      allowPositionals: true,
      strict: true,
    });
    const params = networkParams(values.network);
    const timeout = waitTimeout(values.timeout);
    const wallet = loadWalletKey(params.network, values);
    const address = encodeAddress(params.addressDigit, wallet.addressPayload);
    const client = RpcClient.fromFlags(values);
    const [action, arg] = positionals;
    let txHex: string;
    if (action === 'register') {
      const tier = TIER_NAMES.indexOf(values.tier as (typeof TIER_NAMES)[number]);
      if (tier <= 0)
        throw new UsageError('--tier is bronze, silver or gold (the free tier needs a treasury fee)');
      const nodeKey = resolveNodeKey(values['node-datadir'], values['devnet-index']);
      const collateral = params.tiers[tier]!.collateral;
      try {
        const built = buildPayment(
          params,
          wallet,
          await spendableCoins(client, address),
          [{ value: collateral, address: wallet.addressPayload }],
          { payload: (first) => registrationPayload(params, first, nodeKey, 0, wallet.addressPayload) },
        );
        txHex = toHex(built.tx.bytes);
      } catch (err) {
        if (err instanceof PaymentError && err.code === 'INSUFFICIENT_FUNDS')
          throw new CliFailure(
            EXIT.INSUFFICIENT_FUNDS,
            `${err.message}; ${formatTime(collateral)} TIME collateral`,
          );
        throw err;
      }
    } else if (action === 'deregister') {
      if (!arg || !/^[0-9a-f]{64}$/.test(arg))
        throw new UsageError('deregister takes the node public key (hex)');
      const list = await client.call<{ pubkey: string; collateral: { txid: string; vout: number } | null }[]>(
        'masternodelist',
        [true],
      );
      const mn = list.find((m) => m.pubkey === arg);
      if (!mn?.collateral)
        throw new CliFailure(EXIT.ERROR, `no registered masternode ${arg} with collateral`);
      const outpoint = { txid: fromHex(mn.collateral.txid, 32), vout: mn.collateral.vout };
      const raw = await client.call<{ vout: { sat: string; address: string }[] }>('getrawtransaction', [
        mn.collateral.txid,
        true,
      ]);
      const value = BigInt(raw.vout[outpoint.vout]!.sat);
      // A one-input, one-output deregistration is well under 300 bytes.
      const fee = minimumFee(params, 300);
      txHex = toHex(
        signTx(
          params,
          {
            inputs: [outpoint],
            outputs: [{ value: value - fee, address: wallet.addressPayload }],
            payload: deregistrationPayload(params, outpoint, { publicKey: fromHex(arg, 32) }),
          },
          [wallet],
        ).bytes,
      );
    } else throw new UsageError('masternode register or masternode deregister NODEPUBKEY');
    const started = performance.now();
    const txid = await client.sendRawTransaction(txHex, timeout);
    const f = await client.call<{ status: string; final: boolean }>(
      'waittransactionfinality',
      [txid, timeout],
      timeout + 10_000,
    );
    console.log(
      `${txid}\n${action} ${f.final ? 'final' : `not final (${f.status})`} in ${Math.round(performance.now() - started)} ms`,
    );
    return f.final ? EXIT.OK : EXIT.NOT_FINAL;
  },
};

function resolveNodeKey(datadir: string | undefined, devnetIndex: string | undefined): KeyPair {
  if (datadir !== undefined) return loadNodeKey(datadir);
  if (devnetIndex !== undefined) {
    const i = Number(devnetIndex);
    if (!Number.isInteger(i) || i < 0) throw new UsageError('--devnet-index is a key index');
    return devnetNodeKey(i);
  }
  throw new UsageError('register needs the node key: --node-datadir DIR (its node.key) or --devnet-index N');
}
