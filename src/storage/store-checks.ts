import { DecodeError } from '../encoding/byte-reader.js';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { decodeBlock, headerHash } from '../protocol/block.js';
import { type ChainTip, decodeChainTip } from './chain-tip.js';
import { type ChainDatabases, META_KEYS, read, readU32Bytes, SCHEMA_VERSION } from './databases.js';
import { StoreOpenError } from './errors.js';
import { decodeUndoRecord } from './undo-record.js';

/** What the meta database says about the stored chain. */
export interface StoredMeta {
  readonly schema: number;
  readonly network: string;
  readonly chainId: number;
  readonly genesisHash: Uint8Array;
  readonly tip: ChainTip;
}

/**
 * Decodes a stored record; a decode failure (outside damage: the layouts are written only by this
 * module's code, one transaction at a time) becomes a typed refusal instead of a DecodeError.
 */
export function decodeStored<T>(
  code: 'META_CORRUPT' | 'TIP_BLOCK_CORRUPT' | 'UNDO_CORRUPT' | 'UTXO_CORRUPT',
  what: string,
  details: Record<string, unknown>,
  decode: () => T,
): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof DecodeError || err instanceof RangeError)
      throw new StoreOpenError(
        code,
        `${what} does not decode (${err.message}): the data directory is damaged`,
        details,
      );
    throw err;
  }
}

/** Reads meta, refusing a schema other than SCHEMA_VERSION before interpreting anything else. */
export function readStoredMeta(
  dbs: ChainDatabases,
  accepted: readonly number[] = [SCHEMA_VERSION],
): StoredMeta {
  const get = (key: string): Uint8Array => {
    const v = read(dbs.meta, key);
    if (v === undefined)
      throw new StoreOpenError('META_MISSING', `meta entry ${JSON.stringify(key)} is missing`, { key });
    return v;
  };
  const u32 = (key: string): number =>
    decodeStored('META_CORRUPT', `meta entry ${JSON.stringify(key)}`, { key }, () => readU32Bytes(get(key)));
  const schema = u32(META_KEYS.schema);
  if (!accepted.includes(schema))
    throw new StoreOpenError(
      'SCHEMA_MISMATCH',
      `the data directory has storage schema version ${schema}, this node uses version ${SCHEMA_VERSION}; ` +
        'refusing to open it (nothing was changed): use a node of the matching version or a new data directory',
      { found: schema, expected: SCHEMA_VERSION },
    );
  return {
    schema,
    network: new TextDecoder().decode(get(META_KEYS.network)),
    chainId: u32(META_KEYS.chainId),
    genesisHash: new Uint8Array(get(META_KEYS.genesis)),
    tip: readStoredTip(dbs),
  };
}

/** The tip recorded in meta (inside a write transaction: the tip as committed by anyone). */
export function readStoredTip(dbs: ChainDatabases): ChainTip {
  const bytes = read(dbs.meta, META_KEYS.tip);
  if (bytes === undefined)
    throw new StoreOpenError('META_MISSING', 'meta entry "tip" is missing', { key: META_KEYS.tip });
  return decodeStored('META_CORRUPT', 'meta entry "tip"', { key: META_KEYS.tip }, () =>
    decodeChainTip(bytes),
  );
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
  const block = decodeStored(
    'TIP_BLOCK_CORRUPT',
    `the block at tip height ${tip.height}`,
    { height: tip.height },
    () => decodeBlock(bytes, params.maxBlockBytes),
  );
  const hash = headerHash(block.header);
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
  if (tip.height === 0) return;
  const undo = read(dbs.undo, tip.height);
  if (undo === undefined)
    throw new StoreOpenError('UNDO_MISSING', `no undo record for tip height ${tip.height}`, {
      height: tip.height,
    });
  decodeStored('UNDO_CORRUPT', `the undo record of tip height ${tip.height}`, { height: tip.height }, () =>
    decodeUndoRecord(undo),
  );
}
