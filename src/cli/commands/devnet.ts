import { parseArgs } from 'node:util';
import { DEVNET_FUNDED_KEYS, DEVNET_SEED, devnetFundedKey, genesisBlock } from '../../chain/genesis.js';
import { loadNodeConfig } from '../../config/node-config.js';
import { toHex } from '../../encoding/bytes.js';
import { DEVNET } from '../../params/networks.js';
import { formatTime } from '../../params/units.js';
import { encodeAddress } from '../../protocol/address.js';
import { headerHash } from '../../protocol/block.js';
import { ChainStore } from '../../storage/chain-store.js';
import type { CliCommand } from '../command.js';

/**
 * `timecoin devnet` (what `npm start` runs): creates or opens the devnet data directory with the
 * devnet genesis (seed-derived funded keys and five equal-weight Bronze masternodes) and prints its state.
 * It says plainly that the networked node (p2p, Snowball polling, block slots, RPC) is not part of
 * this command yet.
 */
export const devnetCommand: CliCommand = {
  name: 'devnet',
  summary: 'Create or open the devnet data dir (genesis, funded keys, masternodes) and print its state',
  usage: 'devnet [--datadir DIR] [--json]',
  async run(argv) {
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
        '\nThis command sets up and inspects the devnet ledger (LMDB). The networked masternode — peers,\n' +
          'Snowball polling, block slots and JSON-RPC — is not started by it yet; see README "What works today".',
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
