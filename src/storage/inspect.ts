import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { NETWORKS } from '../params/networks.js';
import { readActiveSet } from './active-set-index.js';
import type { ChainTip } from './chain-tip.js';
import {
  type ChainDatabases,
  ENV_FILE,
  META_DB,
  openDatabases,
  type StoreCounts,
  storeCounts,
} from './databases.js';
import { StoreOpenError } from './errors.js';
import { checkNetwork, checkTipConsistent, readStoredMeta } from './store-checks.js';

/** What `timecoin inspect-db` prints. */
export interface StoreSummary {
  readonly dataDir: string;
  readonly network: string;
  readonly chainId: number;
  readonly schema: number;
  readonly genesisHash: string;
  readonly tip: { readonly height: number; readonly hash: string; readonly slot: number };
  readonly counts: StoreCounts & { readonly activeMasternodes: number };
}

/**
 * Opens a data directory READ-ONLY (safe beside a running node) and summarizes it, applying the
 * same refusals as ChainStore.open: not a store, schema version, network (when `expected` is given)
 * and tip consistency. Never creates or changes anything.
 */
export async function inspectStore(dataDir: string, expected?: ChainParams): Promise<StoreSummary> {
  if (!existsSync(join(dataDir, ENV_FILE)))
    throw new StoreOpenError('NOT_A_STORE', `${dataDir} holds no chain store (${ENV_FILE} is missing)`, {
      dataDir,
    });
  let dbs: ChainDatabases;
  try {
    dbs = openDatabases(dataDir, { readOnly: true });
  } catch (err) {
    throw new StoreOpenError('NOT_A_STORE', `${dataDir}: cannot open the chain store: ${String(err)}`, {
      dataDir,
    });
  }
  try {
    // Read-only, lmdb-js cannot create a missing named database and hands back one whose every
    // read throws a TypeError: an LMDB file without our meta database is some other program's.
    // (Named databases are keys of the root; a plain get of one reads as absent, a range does not.)
    if (![...dbs.env.getKeys({ start: META_DB, limit: 1 })].includes(META_DB))
      throw new StoreOpenError('NOT_A_STORE', `${dataDir}: ${ENV_FILE} holds no chain store databases`, {
        dataDir,
      });
    const meta = readStoredMeta(dbs);
    // Own keys only: a damaged meta record naming "constructor" is an unknown network.
    const params = Object.hasOwn(NETWORKS, meta.network)
      ? (NETWORKS as Record<string, ChainParams>)[meta.network]
      : undefined;
    if (!params)
      throw new StoreOpenError(
        'NETWORK_MISMATCH',
        `the store names an unknown network ${JSON.stringify(meta.network)}`,
      );
    checkNetwork(meta, expected ?? params);
    checkTipConsistent(dbs, params, meta.tip);
    return {
      dataDir,
      network: meta.network,
      chainId: meta.chainId,
      schema: meta.schema,
      genesisHash: toHex(meta.genesisHash),
      tip: showTip(meta.tip),
      counts: { ...storeCounts(dbs), activeMasternodes: readActiveSet(dbs, meta.tip.height, params).length },
    };
  } finally {
    await dbs.env.close();
  }
}

function showTip(t: ChainTip): StoreSummary['tip'] {
  return { height: t.height, hash: toHex(t.hash), slot: t.slot };
}
