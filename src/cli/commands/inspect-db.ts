import { parseArgs } from 'node:util';
import { paramsFor } from '../../params/networks.js';
import { inspectStore } from '../../storage/inspect.js';
import { probeStoreOpen } from '../../storage/open-probe.js';
import { type CliCommand, UsageError } from '../command.js';

export const inspectDbCommand: CliCommand = {
  name: 'inspect-db',
  summary: 'Summarize a data directory (network, schema, tip, counts) without changing it',
  usage: 'inspect-db --datadir DIR [--network mainnet|testnet|devnet] [--json]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        datadir: { type: 'string' },
        network: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (values.datadir === undefined) throw new UsageError('give --datadir DIR');
    let expected: ReturnType<typeof paramsFor> | undefined;
    if (values.network !== undefined) {
      try {
        expected = paramsFor(values.network);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    // LMDB crashes the reading process on a damaged file: read it in a child first (DATA_CORRUPT).
    await probeStoreOpen(values.datadir, expected?.network ?? 'devnet', 'read');
    const s = await inspectStore(values.datadir, expected);
    if (values.json) {
      console.log(JSON.stringify(s));
      return 0;
    }
    const c = s.counts;
    const rows: Array<[string, string | number]> = [
      ['datadir', s.dataDir],
      ['network', `${s.network} (chain id ${s.chainId})`],
      ['schema', s.schema],
      ['genesis', s.genesisHash],
      ['tip', `height ${s.tip.height} slot ${s.tip.slot} ${s.tip.hash}`],
      ['blocks', c.blocks],
      ['utxos', c.utxos],
      ['txs', c.txs],
      ['finalized', c.finalized],
      ['masternodes', `${c.masternodes} registered, ${c.activeMasternodes} active at the tip`],
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(12)} ${v}`);
    return 0;
  },
};
