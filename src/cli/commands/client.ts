import { parseArgs } from 'node:util';
import { type CliCommand, UsageError } from '../command.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, EXIT, RpcClient } from '../rpc-client.js';

/**
 * Operator commands that read a running node over JSON-RPC: `tx`, `status`, `peers` and `rpc`
 * (any method, like bitcoin-cli). They print JSON, so their output pipes into jq.
 */

function print(v: unknown): void {
  console.log(typeof v === 'string' ? v : JSON.stringify(v, null, 2));
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: CONNECTION_OPTIONS, allowPositionals: true, strict: true });
}

export const txCommand: CliCommand = {
  name: 'tx',
  summary: 'A transaction: its finality status and decoded fields',
  usage: `tx TXID ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parse(argv);
    const txid = positionals[0];
    if (!txid || !/^[0-9a-f]{64}$/.test(txid)) throw new UsageError('tx takes a 64-hex-digit txid');
    const client = RpcClient.fromFlags(values);
    const finality = await client.call<Record<string, unknown>>('gettransactionfinality', [txid]);
    const tx =
      finality['status'] === 'unknown'
        ? null
        : await client.call('getrawtransaction', [txid, true]).catch(() => null);
    print({ ...finality, ...(tx ? { tx } : {}) });
    return EXIT.OK;
  },
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'The node at a glance: chain tip, role, peers, mempool, consensus',
  usage: `status ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values } = parse(argv);
    const client = RpcClient.fromFlags(values);
    const [chain, network, mempool, consensus] = await Promise.all([
      client.call<Record<string, unknown>>('getblockchaininfo'),
      client.call<Record<string, unknown>>('getnetworkinfo'),
      client.call<Record<string, unknown>>('getmempoolinfo'),
      client.call<Record<string, unknown>>('getconsensusinfo'),
    ]);
    print({
      chain: chain['chain'],
      blocks: chain['blocks'],
      bestblockhash: chain['bestblockhash'],
      role: consensus['role'],
      nodeid: network['nodeid'],
      connections: network['connections'],
      mempool: { size: mempool['size'], processing: mempool['processing'], finalized: mempool['finalized'] },
      quorum: consensus['quorum'],
      finalityhalted: consensus['finalityhalted'],
    });
    return EXIT.OK;
  },
};

export const peersCommand: CliCommand = {
  name: 'peers',
  summary: "The node's connected peers",
  usage: `peers ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values } = parse(argv);
    print(await RpcClient.fromFlags(values).call('getpeerinfo'));
    return EXIT.OK;
  },
};

/** Parameters as bitcoin-cli takes them: JSON when they parse as JSON, plain strings otherwise. */
export function cliParam(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const rpcCommand: CliCommand = {
  name: 'rpc',
  summary: 'Call any RPC method (params as JSON values or plain strings), like bitcoin-cli',
  usage: `rpc METHOD [PARAM…] ${CONNECTION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parse(argv);
    const [method, ...params] = positionals;
    if (!method) throw new UsageError('rpc takes a method name (try: timecoin rpc help)');
    print(await RpcClient.fromFlags(values).call(method, params.map(cliParam), 600_000 + 10_000));
    return EXIT.OK;
  },
};
