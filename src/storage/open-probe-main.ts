/**
 * The child process of probeStoreOpen (open-probe.ts): `node open-probe-main.js DATADIR NETWORK
 * open|read` opens the chain store as a node would and closes it (`open`), or reads it read-only
 * as `inspect-db` does, changing nothing (`read`). Exit 0: it opened; 1: a typed refusal (the
 * caller's own open reports it). A crash in LMDB ends this process by a signal, which is the answer.
 */
import { genesisBlock } from '../chain/genesis.js';
import { paramsFor } from '../params/networks.js';
import { ChainStore } from './chain-store.js';
import { inspectStore } from './inspect.js';

const [dataDir, network, mode] = process.argv.slice(2);
try {
  if (dataDir === undefined || network === undefined)
    throw new Error('usage: open-probe-main DATADIR NETWORK open|read');
  if (mode === 'read') await inspectStore(dataDir);
  else {
    const params = paramsFor(network);
    const store = await ChainStore.open(dataDir, params, genesisBlock(params));
    await store.close();
  }
} catch {
  process.exitCode = 1;
}
