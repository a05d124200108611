import { expect } from 'vitest';
import { activeSetAt } from '../../../src/chain/active-set.js';
import { fromHex, toHex } from '../../../src/encoding/bytes.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import type { Block } from '../../../src/protocol/block.js';
import { NO_COLLATERAL, type OutPoint } from '../../../src/protocol/transaction.js';
import { outpointFromKey } from '../../../src/protocol/tx-codec.js';
import type { AddressUtxo, ChainStore } from '../../../src/storage/chain-store.js';

/*
 * Test oracle: an in-memory replay of blocks from genesis, written separately from the store's code
 * (hex-keyed Maps, no LMDB, no undo records), so the store can be checked against it.
 */

interface ModelUtxo {
  value: bigint;
  address: string;
  height: number;
  coinbase: boolean;
}

interface ModelNode {
  tier: number;
  collateral: string | null;
  rewardAddress: string;
  registeredHeight: number;
  deregisteredHeight: number | null;
}

const opKey = (txidHex: string, vout: number): string => `${txidHex}:${vout.toString().padStart(10, '0')}`;

/** The state both the model and the store snapshot expose, in comparable form. */
export interface ChainSnapshot {
  readonly utxos: Map<string, ModelUtxo>;
  readonly txs: Map<string, number>;
  readonly nodes: Map<string, ModelNode>;
  readonly collateral: Map<string, string>;
}

export class ReplayModel implements ChainSnapshot {
  readonly utxos = new Map<string, ModelUtxo>();
  readonly txs = new Map<string, number>();
  readonly nodes = new Map<string, ModelNode>();
  readonly collateral = new Map<string, string>();

  constructor(private readonly params: ChainParams) {}

  static of(params: ChainParams, blocks: readonly Block[]): ReplayModel {
    const m = new ReplayModel(params);
    for (const b of blocks) m.apply(b);
    return m;
  }

  apply(block: Block): void {
    const h = block.header.height;
    for (const { tx, txid } of block.txs) {
      const id = toHex(txid);
      for (const i of tx.inputs) {
        const k = opKey(toHex(i.txid), i.vout);
        if (!this.utxos.delete(k)) throw new Error(`model: block ${h} spends missing ${k}`);
      }
      tx.outputs.forEach((o, vout) => {
        this.utxos.set(opKey(id, vout), {
          value: o.value,
          address: toHex(o.address),
          height: h,
          coinbase: tx.inputs.length === 0 && h !== 0,
        });
      });
      this.txs.set(id, h);
      const p = tx.payload;
      if (p?.kind === 'register') {
        let tier = 0;
        let collateral: string | null = null;
        if (p.collateralVout !== NO_COLLATERAL) {
          const value = tx.outputs[p.collateralVout]!.value;
          this.params.tiers.forEach((t, i) => {
            if (value >= t.collateral) tier = i;
          });
          collateral = opKey(id, p.collateralVout);
          this.collateral.set(collateral, toHex(p.nodePubkey));
        }
        this.nodes.set(toHex(p.nodePubkey), {
          tier,
          collateral,
          rewardAddress: toHex(p.rewardAddress),
          registeredHeight: h,
          deregisteredHeight: null,
        });
      } else if (p?.kind === 'deregister') {
        const node = this.nodes.get(toHex(p.nodePubkey));
        if (!node) throw new Error('model: deregistering an unknown node');
        node.deregisteredHeight = h;
        if (node.collateral) this.collateral.delete(node.collateral);
      }
    }
  }
}

const sorted = <V>(m: Map<string, V>): Array<[string, V]> =>
  [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

const PAGE = 500;

const opKeyOf = (o: OutPoint): string => opKey(toHex(o.txid), o.vout);

/** Reads every row of a paged range read (small pages, so paging itself is exercised). */
function pageAll<T>(fetch: (after: Uint8Array | undefined) => T[], keyOf: (row: T) => Uint8Array): T[] {
  const out: T[] = [];
  let after: Uint8Array | undefined;
  for (;;) {
    const rows = fetch(after);
    if (rows.length === 0) return out;
    out.push(...rows);
    after = keyOf(rows[rows.length - 1]!);
  }
}

/** Reads the store's whole UTXO set, tx index and registry through its paged range reads. */
export function snapshotStore(store: ChainStore): ChainSnapshot {
  const utxos = new Map<string, ModelUtxo>();
  const txs = new Map<string, number>();
  const nodes = new Map<string, ModelNode>();
  const collateral = new Map<string, string>();
  for (const { outpoint, entry } of pageAll(
    (after) => store.utxoRange(PAGE, after),
    (r) => r.key,
  ))
    utxos.set(opKeyOf(outpoint), { ...entry, address: toHex(entry.address) });
  for (const r of pageAll(
    (after) => store.txIndexRange(PAGE, after),
    (r) => r.txid,
  ))
    txs.set(toHex(r.txid), r.height);
  for (const m of pageAll(
    (after) => store.masternodeRange(PAGE, after),
    (m) => m.nodePubkey,
  ))
    nodes.set(toHex(m.nodePubkey), {
      tier: m.tier,
      collateral: m.collateral ? opKey(toHex(m.collateral.txid), m.collateral.vout) : null,
      rewardAddress: toHex(m.rewardAddress),
      registeredHeight: m.registeredHeight,
      deregisteredHeight: m.deregisteredHeight,
    });
  for (const { key, owner } of pageAll(
    (after) => store.collateralRange(PAGE, after),
    (r) => r.key,
  ))
    collateral.set(opKeyOf(outpointFromKey(key)), toHex(owner));
  return { utxos, txs, nodes, collateral };
}

/** Asserts the store's state equals the model's, entry by entry. */
export async function expectStoreMatches(store: ChainStore, model: ChainSnapshot): Promise<void> {
  const s = snapshotStore(store);
  expect(s.utxos.size).toBe(model.utxos.size);
  expect(sorted(s.utxos)).toEqual(sorted(model.utxos));
  expect(sorted(s.txs)).toEqual(sorted(model.txs));
  expect(sorted(s.nodes)).toEqual(sorted(model.nodes));
  expect(sorted(s.collateral)).toEqual(sorted(model.collateral));
  // The point reads (RecentTxHeights for the newest blocks, then txIndex and the UTXO set) agree.
  for (const [txid, height] of model.txs) expect(store.getTxHeight(fromHex(txid, 32)), txid).toBe(height);
  for (const [key, u] of model.utxos) {
    const [txid, vout] = key.split(':');
    const entry = store.getUtxo({ txid: fromHex(txid!, 32), vout: Number(vout) });
    expect(entry && { ...entry, address: toHex(entry.address) }, key).toEqual(u);
  }
  expectActiveSetIndexed(store);
  await expectAddressIndexed(store, model);
}

/**
 * The address index holds exactly the model's unspent outputs, grouped by address: per address the
 * same outputs (read in small pages, oldest first) and the same total, and no entry or total for an
 * address the model does not have (the entry counts equal the UTXO set's and the address count).
 */
export async function expectAddressIndexed(store: ChainStore, model: ChainSnapshot): Promise<void> {
  const byAddress = new Map<string, { key: string; height: number; value: bigint; coinbase: boolean }[]>();
  for (const [key, u] of model.utxos) {
    const list = byAddress.get(u.address) ?? [];
    list.push({ key, height: u.height, value: u.value, coinbase: u.coinbase });
    byAddress.set(u.address, list);
  }
  expect(await store.addressIndexCounts()).toEqual({ outputs: model.utxos.size, addresses: byAddress.size });
  for (const [address, expected] of byAddress) {
    expected.sort((a, b) => a.height - b.height || (a.key < b.key ? -1 : 1));
    const payload = fromHex(address, 20);
    const rows: (AddressUtxo & { cursor: Uint8Array })[] = [];
    for (let after: Uint8Array | undefined; ; ) {
      const page = await store.addressUtxos(payload, {
        limit: 7,
        ...(after ? { after: decodeCursor(after) } : {}),
      });
      if (page.length === 0) break;
      rows.push(
        ...page.map((u) => ({ ...u, cursor: encodeCursor(u.height, u.outpoint.txid, u.outpoint.vout) })),
      );
      after = rows[rows.length - 1]!.cursor;
    }
    expect(
      rows.map((r) => ({
        key: opKey(toHex(r.outpoint.txid), r.outpoint.vout),
        height: r.height,
        value: r.value,
        coinbase: r.coinbase,
      })),
      `address ${address}`,
    ).toEqual(expected);
    const total = expected.reduce((sum, u) => sum + u.value, 0n);
    expect(await store.addressTotals(payload)).toEqual({ sat: total, outputs: expected.length });
  }
}

/** A page cursor as bytes (pageAll's key), height ‖ txid ‖ vout. */
function encodeCursor(height: number, txid: Uint8Array, vout: number): Uint8Array {
  const out = new Uint8Array(40);
  const v = new DataView(out.buffer);
  v.setUint32(0, height);
  out.set(txid, 4);
  v.setUint32(36, vout);
  return out;
}

function decodeCursor(c: Uint8Array): { height: number; outpoint: { txid: Uint8Array; vout: number } } {
  const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
  return { height: v.getUint32(0), outpoint: { txid: c.slice(4, 36), vout: v.getUint32(36) } };
}

/**
 * The store's indexed active set equals the reference rule (src/chain/active-set.ts) over the whole
 * registry, at every height when the chain is short, else at the last 12 heights and a spread below.
 */
export function expectActiveSetIndexed(store: ChainStore): void {
  const registry = pageAll(
    (after) => store.masternodeRange(PAGE, after),
    (m) => m.nodePubkey,
  );
  const tip = store.tip().height;
  const heights = new Set<number>();
  for (let h = Math.max(0, tip - 11); h <= tip; h++) heights.add(h);
  const step = Math.max(1, Math.floor(tip / 12));
  for (let h = 0; h <= tip; h += step) heights.add(h);
  for (const h of heights) {
    const expected = activeSetAt(registry, h, store.params);
    expect(store.activeMasternodes(h), `active set at height ${h}`).toEqual(expected);
  }
}

/** Every stored block from genesis to the tip, in height order. */
export function storedBlocks(store: ChainStore): Block[] {
  const out: Block[] = [];
  for (let h = 0; h <= store.tip().height; h++) {
    const b = store.getBlock(h);
    if (!b) throw new Error(`no stored block at height ${h} (tip ${store.tip().height})`);
    out.push(b);
  }
  return out;
}
