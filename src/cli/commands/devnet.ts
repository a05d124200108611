import { parseArgs } from 'node:util';
import { DEVNET_FUNDED_KEYS, DEVNET_SEED, devnetFundedKey, genesisBlock } from '../../chain/genesis.js';
import { loadNodeConfig } from '../../config/node-config.js';
import { isAlive, LocalNetwork, readState } from '../../devnet/local-network.js';
import { toHex } from '../../encoding/bytes.js';
import { DEVNET } from '../../params/networks.js';
import { formatTime } from '../../params/units.js';
import { encodeAddress } from '../../protocol/address.js';
import { headerHash } from '../../protocol/block.js';
import { ChainStore } from '../../storage/chain-store.js';
import { type CliCommand, UsageError } from '../command.js';
import { RpcClient } from '../rpc-client.js';

/**
 * `timecoin devnet up|down|status` runs a live local network (`npm start` runs `devnet up`);
 * `timecoin devnet [info]` creates or opens one devnet data directory with the devnet genesis
 * (seed-derived funded keys and five equal-weight Bronze masternodes) and prints its ledger.
 */
export const devnetCommand: CliCommand = {
  name: 'devnet',
  summary: 'Run a live local devnet with a dashboard (up|down|status), or print a devnet ledger (info)',
  usage:
    'devnet up [--dir .data] [--validators 4] [--no-load] [--slot-ms MS] | down [--dir .data] | status [--dir .data] | [info] [--datadir DIR] [--json]',
  async run(argv) {
    const sub = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : 'info';
    const rest = sub === argv[0] ? argv.slice(1) : argv;
    if (sub === 'up') return devnetUp(rest);
    if (sub === 'down') return devnetDown(rest);
    if (sub === 'status') return devnetStatus(rest);
    if (sub !== 'info') throw new UsageError(`unknown devnet subcommand ${JSON.stringify(sub)}`);
    return devnetInfo(rest);
  },
};

async function devnetInfo(argv: string[]): Promise<number> {
  {
    const { values } = parseArgs({
      args: argv,
      options: { datadir: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
    });
    const config = loadNodeConfig({ network: 'devnet', overrides: { datadir: values.datadir } });
    const params = DEVNET;
    const genesis = genesisBlock(params);
    const store = await ChainStore.open(config.datadir, params, genesis);
    try {
      const tip = store.tip();
      const allocation = genesis.txs[0]!.txid;
      const funded = Array.from({ length: DEVNET_FUNDED_KEYS }, (_, i) => {
        const utxo = store.getUtxo({ txid: allocation, vout: i });
        return {
          index: i,
          address: encodeAddress(params.addressDigit, devnetFundedKey(i).addressPayload),
          genesisOutput: utxo ? `${formatTime(utxo.value)} TIME unspent` : 'spent',
        };
      });
      const masternodes = store.activeMasternodes(tip.height).map((m) => ({
        tier: params.tiers[m.tier]!.name,
        nodePubkey: toHex(m.nodePubkey),
        rewardAddress: encodeAddress(params.addressDigit, m.rewardAddress),
      }));
      const summary = {
        network: params.network,
        datadir: config.datadir,
        genesis: toHex(headerHash(genesis.header)),
        tip: { height: tip.height, slot: tip.slot, hash: toHex(tip.hash) },
        counts: store.counts(),
        masternodes,
        funded,
        keys: `timecoin keygen --devnet-seed "${DEVNET_SEED}" --index N`,
      };
      if (values.json) {
        console.log(JSON.stringify(summary));
        return 0;
      }
      console.log(`TIME Coin devnet — data dir ${summary.datadir}`);
      console.log(`genesis  ${summary.genesis}`);
      console.log(`tip      height ${tip.height}, slot ${tip.slot}, ${summary.tip.hash}`);
      const c = summary.counts;
      console.log(
        `stored   ${c.blocks} blocks, ${c.utxos} unspent outputs, ${c.finalized} finalized awaiting a block`,
      );
      console.log('masternodes (active at the tip):');
      for (const m of masternodes)
        console.log(`  ${m.tier.padEnd(7)} node ${m.nodePubkey.slice(0, 16)}…  rewards → ${m.rewardAddress}`);
      console.log(`funded keys (secret keys: ${summary.keys}):`);
      for (const f of funded)
        console.log(`  ${String(f.index).padStart(2)}  ${f.address}  ${f.genesisOutput}`);
      console.log(
        "\nThis prints one data dir's ledger. `timecoin devnet up` (npm start) runs a live network.",
      );
      return 0;
    } finally {
      await store.close();
    }
  }
}

const DIR_OPTION = { dir: { type: 'string', default: '.data' } } as const;

async function devnetUp(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...DIR_OPTION,
      validators: { type: 'string', default: '4' },
      'no-load': { type: 'boolean', default: false },
      'slot-ms': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
    strict: true,
  });
  const validators = Number(values.validators);
  if (!Number.isInteger(validators) || validators < 1 || validators > 5)
    throw new UsageError('--validators is 1 to 5 (the devnet genesis masternodes)');
  const slotMs = values['slot-ms'] === undefined ? undefined : Number(values['slot-ms']);
  if (slotMs !== undefined && (!Number.isInteger(slotMs) || slotMs < 200))
    throw new UsageError('--slot-ms is an integer of at least 200');
  console.log(`starting ${validators} validators in ${values.dir}/ …`);
  const net = await LocalNetwork.up({
    dir: values.dir!,
    validators,
    load: !values['no-load'],
    logLevel: values['log-level']!,
    ...(slotMs !== undefined ? { slotMs } : {}),
  });
  console.log(`\nTIME Coin devnet is running: ${validators} validators, data and logs in ${net.dir}/node*/`);
  for (const [i, n] of net.nodes.entries())
    console.log(`  node${i}  rpc 127.0.0.1:${n.rpcPort}  p2p ${n.p2pAddress}  ${n.pubkey.slice(0, 16)}…`);
  console.log(`\n  dashboard  ${net.dashboardUrl}`);
  console.log(
    `  load       ${net.load ? 'small stream of signed transfers (--no-load to turn off)' : 'off'}`,
  );
  console.log(
    `  wallet     timecoin wallet create && timecoin balance --datadir ${net.nodes[0]!.datadir} --rpc-port ${net.nodes[0]!.rpcPort}`,
  );
  console.log('\nCtrl-C stops every node cleanly; running it again resumes the same chain.');
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      console.log('\nstopping the devnet …');
      void net.down().then(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A node that dies on its own ends the run: a network silently missing a validator misleads.
    for (const n of net.nodes)
      void n.exited.then(() => {
        if (!stopping) {
          console.error(
            `node ${n.pubkey.slice(0, 16)} exited (${n.exitCode}); stderr: ${n.stderr.slice(-500)}`,
          );
          stop();
        }
      });
  });
  console.log('devnet stopped');
  return 0;
}

async function devnetDown(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: DIR_OPTION, strict: true });
  const state = readState(values.dir!);
  if (!state || !isAlive(state.pid)) {
    console.log(`no devnet running from ${values.dir}/`);
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(state.pid)) {
    console.error(`devnet process ${state.pid} did not stop within 20 s`);
    return 1;
  }
  console.log('devnet stopped');
  return 0;
}

async function devnetStatus(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: DIR_OPTION, strict: true });
  const state = readState(values.dir!);
  if (!state || !isAlive(state.pid)) {
    console.log(`no devnet running from ${values.dir}/ (start one: timecoin devnet up)`);
    return 3;
  }
  console.log(`devnet (pid ${state.pid}), dashboard ${state.dashboard}`);
  for (const n of state.nodes) {
    const client = RpcClient.fromFlags({ datadir: n.datadir, 'rpc-port': String(n.rpcPort) });
    const line = await Promise.all([
      client.call<{ blocks: number }>('getblockchaininfo'),
      client.call<unknown[]>('getpeerinfo'),
      client.call<{ size: number }>('getmempoolinfo'),
    ]).then(
      ([c, p, m]) => `height ${c.blocks}, ${p.length} peers, mempool ${m.size}`,
      (err: Error) => `unreachable (${err.message})`,
    );
    console.log(`  node${n.index}  rpc ${n.rpcPort}  ${line}`);
  }
  return 0;
}
