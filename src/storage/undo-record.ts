import { ByteReader, DecodeError } from '../encoding/byte-reader.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { PUBKEY_BYTES, TXID_BYTES } from '../protocol/transaction.js';
import { type ChainTip, readChainTip, writeChainTip } from './chain-tip.js';
import { type MasternodeRecord, readMasternodeRecord, writeMasternodeRecord } from './masternode-record.js';
import { readUtxoEntry, UTXO_ENTRY_BYTES, type UtxoEntry, writeUtxoEntry } from './utxo-entry.js';

const OUTPOINT_KEY_BYTES = TXID_BYTES + 4;

/** A UTXO a block spent, with the entry it had, in the order the block spent them. */
export interface SpentUtxo {
  readonly key: Uint8Array;
  readonly entry: UtxoEntry;
}

/** The value a masternode-registry key had before the block wrote it (null = absent). */
export interface PriorMasternode {
  readonly nodePubkey: Uint8Array;
  readonly prior: MasternodeRecord | null;
}

/** The owner a collateral-index key had before the block wrote it (null = absent). */
export interface PriorCollateral {
  readonly key: Uint8Array;
  readonly prior: Uint8Array | null;
}

/**
 * Everything needed to undo one block that the block itself does not say: the outputs it spent,
 * the registry entries it overwrote and the tip before it. Created outputs and txids come from the
 * block, so they are not repeated here.
 */
export interface UndoRecord {
  readonly previousTip: ChainTip;
  readonly spent: readonly SpentUtxo[];
  readonly masternodes: readonly PriorMasternode[];
  readonly collateral: readonly PriorCollateral[];
}

/**
 * previousTip (44 B) ‖ u32 n ‖ n × (outpoint key 36 B ‖ utxo entry 33 B)
 * ‖ u32 m ‖ m × (pubkey 32 B ‖ u8 present ‖ [masternode record])
 * ‖ u32 c ‖ c × (outpoint key 36 B ‖ u8 present ‖ [owner pubkey 32 B]).
 *
 * Written incrementally while a block is applied: spends are copied in as raw stored bytes (no
 * decode/encode round trip on the hot path), the registry sections are appended at the end.
 */
export class UndoWriter {
  private readonly w: ByteWriter;
  private written = 0;

  constructor(
    previousTip: ChainTip,
    private readonly spentCount: number,
  ) {
    this.w = new ByteWriter(64 + spentCount * (OUTPOINT_KEY_BYTES + UTXO_ENTRY_BYTES));
    writeChainTip(this.w, previousTip).u32(spentCount);
  }

  /** `entry` is a stored UtxoEntry value (33 bytes), copied now. */
  spentRaw(key: Uint8Array, entry: Uint8Array): void {
    if (++this.written > this.spentCount) throw new RangeError('more spends than announced');
    this.w.fixed(key, OUTPOINT_KEY_BYTES).fixed(entry, UTXO_ENTRY_BYTES);
  }

  spent(key: Uint8Array, entry: UtxoEntry): void {
    if (++this.written > this.spentCount) throw new RangeError('more spends than announced');
    writeUtxoEntry(this.w.fixed(key, OUTPOINT_KEY_BYTES), entry);
  }

  finish(masternodes: readonly PriorMasternode[], collateral: readonly PriorCollateral[]): Uint8Array {
    if (this.written !== this.spentCount)
      throw new RangeError(`announced ${this.spentCount} spends, wrote ${this.written}`);
    const w = this.w;
    w.u32(masternodes.length);
    for (const m of masternodes) {
      w.fixed(m.nodePubkey, PUBKEY_BYTES);
      if (m.prior === null) w.u8(0);
      else writeMasternodeRecord(w.u8(1), m.prior);
    }
    w.u32(collateral.length);
    for (const c of collateral) {
      w.fixed(c.key, OUTPOINT_KEY_BYTES);
      if (c.prior === null) w.u8(0);
      else w.u8(1).fixed(c.prior, PUBKEY_BYTES);
    }
    return w.finish();
  }
}

export function encodeUndoRecord(u: UndoRecord): Uint8Array {
  const w = new UndoWriter(u.previousTip, u.spent.length);
  for (const s of u.spent) w.spent(s.key, s.entry);
  return w.finish(u.masternodes, u.collateral);
}

function count(r: ByteReader, minItemBytes: number, what: string): number {
  const n = r.u32(`${what} count`);
  // Refuse counts the remaining bytes cannot hold before allocating arrays for them.
  if (n * minItemBytes > r.remaining)
    throw new DecodeError('TRUNCATED', `${what} count ${n} cannot fit in ${r.remaining} bytes`);
  return n;
}

function present(r: ByteReader, what: string): boolean {
  const flag = r.u8(what);
  if (flag > 1) throw new DecodeError('INVALID_VALUE', `${what} presence flag ${flag}`);
  return flag === 1;
}

/** Throws DecodeError on any malformation. */
export function decodeUndoRecord(bytes: Uint8Array): UndoRecord {
  const r = new ByteReader(bytes);
  const previousTip = readChainTip(r);
  const spent: SpentUtxo[] = new Array(count(r, OUTPOINT_KEY_BYTES + UTXO_ENTRY_BYTES, 'spent'));
  for (let i = 0; i < spent.length; i++)
    spent[i] = { key: r.fixed(OUTPOINT_KEY_BYTES, 'spent key'), entry: readUtxoEntry(r) };
  const masternodes: PriorMasternode[] = new Array(count(r, PUBKEY_BYTES + 1, 'masternode'));
  for (let i = 0; i < masternodes.length; i++) {
    const nodePubkey = r.fixed(PUBKEY_BYTES, 'node pubkey');
    masternodes[i] = { nodePubkey, prior: present(r, 'masternode') ? readMasternodeRecord(r) : null };
  }
  const collateral: PriorCollateral[] = new Array(count(r, OUTPOINT_KEY_BYTES + 1, 'collateral'));
  for (let i = 0; i < collateral.length; i++) {
    const key = r.fixed(OUTPOINT_KEY_BYTES, 'collateral key');
    collateral[i] = { key, prior: present(r, 'collateral') ? r.fixed(PUBKEY_BYTES, 'owner') : null };
  }
  r.done('undo record');
  return { previousTip, spent, masternodes, collateral };
}
