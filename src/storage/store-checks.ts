import { bytesEqual, toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { decodeBlock, headerHash } from '../protocol/block.js';
import { type ChainTip, decodeChainTip } from './chain-tip.js';
import { type ChainDatabases, META_KEYS, read, readU32Bytes, SCHEMA_VERSION } from './databases.js';
import { StoreOpenError } from './errors.js';

/** What the meta database says about the stored chain. */
export interface StoredMeta {
  readonly schema: number;
  readonly network: string;
  readonly chainId: number;
  readonly genesisHash: Uint8Array;
  readonly tip: ChainTip;
}

/** Reads meta, refusing a schema other than SCHEMA_VERSION before interpreting anything else. */
export function readStoredMeta(dbs: ChainDatabases): StoredMeta {
  const get = (key: string): Uint8Array => {
    const v = read(dbs.meta, key);
    if (v === undefined)
      throw new StoreOpenError('META_MISSING', `meta entry ${JSON.stringify(key)} is missing`, { key });
    return v;
  };
  const schema = readU32Bytes(get(META_KEYS.schema));
  if (schema !== SCHEMA_VERSION)
    throw new StoreOpenError(
      'SCHEMA_MISMATCH',
      `the data directory has storage schema version ${schema}, this node uses version ${SCHEMA_VERSION}; ` +
        'refusing to open it (nothing was changed): use a node of the matching version or a new data directory',
      { found: schema, expected: SCHEMA_VERSION },
    );
  return {
    schema,
    network: new TextDecoder().decode(get(META_KEYS.network)),
    chainId: readU32Bytes(get(META_KEYS.chainId)),
    genesisHash: new Uint8Array(get(META_KEYS.genesis)),
    tip: decodeChainTip(get(META_KEYS.tip)),
  };
}

export function checkNetwork(meta: StoredMeta, params: ChainParams): void {
  if (meta.network !== params.network || meta.chainId !== params.chainId)
    throw new StoreOpenError(
      'NETWORK_MISMATCH',
      `the data directory holds ${meta.network} (chain id ${meta.chainId}), not ${params.network} ` +
        `(chain id ${params.chainId})`,
      { found: meta.network, expected: params.network },
    );
}

/**
 * Startup recovery: the tip names a stored block whose header hash it is, the block index agrees,
 * nothing is stored above it and the tip can be undone. One write transaction per block makes these
 * hold after any crash; a failure here means outside damage, so we refuse rather than guess.
 */
export function checkTipConsistent(dbs: ChainDatabases, params: ChainParams, tip: ChainTip): void {
  const bytes = read(dbs.blocks, tip.height);
  if (bytes === undefined)
    throw new StoreOpenError('TIP_BLOCK_MISSING', `no block stored at tip height ${tip.height}`, {
      height: tip.height,
    });
  const hash = headerHash(decodeBlock(bytes, params.maxBlockBytes).header);
  const indexed = read(dbs.blockIndex, tip.hash);
  if (!bytesEqual(hash, tip.hash) || indexed === undefined || readU32Bytes(indexed) !== tip.height)
    throw new StoreOpenError('TIP_HASH_MISMATCH', `the block at tip height ${tip.height} is not the tip`, {
      height: tip.height,
      tipHash: toHex(tip.hash),
      storedHash: toHex(hash),
    });
  for (const above of dbs.blocks.getKeys({ start: tip.height + 1, limit: 1 }))
    throw new StoreOpenError(
      'BLOCK_ABOVE_TIP',
      `a block is stored at height ${above}, above tip ${tip.height}`,
      {
        height: above,
      },
    );
  if (tip.height > 0 && read(dbs.undo, tip.height) === undefined)
    throw new StoreOpenError('UNDO_MISSING', `no undo record for tip height ${tip.height}`, {
      height: tip.height,
    });
}
