import { z } from 'zod';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import { formatTime } from '../params/units.js';
import { decodeAddress, encodeAddress } from '../protocol/address.js';
import type { OutPoint } from '../protocol/transaction.js';
import { RPC_ERROR, type RpcDispatcher, RpcError } from '../rpc/json-rpc.js';
import { CodedError } from '../util/coded-error.js';
import { MempoolAddressIndex, type SpentOutput } from './mempool-address-index.js';
import type { TimeNode } from './node.js';

/**
 * The address-facing RPC methods (getbalance, listunspent, masternodelist): what a wallet or an
 * exchange asks about an address, read from the address index (storage/address-index.ts) for what
 * is in blocks and from the mempool for what is final but not yet in a block. TIME transactions
 * are final before a block carries them (Snowball), so "final" is the balance to act on;
 * "confirmed" is the part already in blocks.
 */

/** Amounts over RPC: a decimal string with 8 decimals and the integer sat as a decimal string. */
export function amount(sat: bigint): { value: string; sat: string } {
  return { value: formatTime(sat), sat: sat.toString() };
}

/** Most outputs one listunspent answers (an exchange pages with `minconf`/`maxcount`). */
export const MAX_LISTUNSPENT = 10_000;

/** An address parameter: the TIME address text, checked for this network. */
const addressSchema = z.string().min(1).max(64);

function addressParam(node: TimeNode, text: string): Uint8Array {
  try {
    return decodeAddress(text, node.params.addressDigit).payload;
  } catch (err) {
    throw new RpcError(RPC_ERROR.NOT_FOUND, `invalid address: ${(err as Error).message}`, {
      code: err instanceof CodedError ? err.code : 'INVALID_ADDRESS',
    });
  }
}

/** The output an input spends: from the chain, or from a mempool transaction not yet in a block. */
function spentOutput(node: TimeNode, input: OutPoint): SpentOutput | undefined {
  const u = node.store.getUtxo(input);
  if (u) return u;
  return node.ledger.mempool.get(input.txid)?.etx.tx.outputs[input.vout];
}

export function registerAddressRpc(d: RpcDispatcher, node: TimeNode): void {
  const pool = new MempoolAddressIndex((input) => spentOutput(node, input));
  node.ledger.mempool.observe(pool);
  d.register({
    name: 'getbalance',
    summary:
      'Balance of an address: final (in blocks or final by Snowball, what to act on), confirmed (in blocks), pending (still being polled)',
    params: [{ name: 'address', schema: addressSchema, description: 'a TIME address' }],
    handler: async (p) => {
      const text = p['address'] as string;
      const payload = addressParam(node, text);
      const totals = await node.store.addressTotals(payload);
      const final = totals.sat + pool.delta(payload, 'finalized');
      return {
        address: text,
        ...amount(final),
        confirmed: amount(totals.sat),
        pending: amount(pool.delta(payload, 'processing')),
        confirmedoutputs: totals.outputs,
        height: node.store.tip().height,
      };
    },
  });

  d.register({
    name: 'listunspent',
    summary:
      'Unspent outputs of an address, oldest first: minconf 0 (default) includes final outputs not yet in a block; outputs spent by a mempool transaction are left out',
    params: [
      { name: 'address', schema: addressSchema, description: 'a TIME address' },
      {
        name: 'minconf',
        schema: z.number().int().min(0).max(0xffff_ffff),
        optional: true,
        description: 'blocks on top, 0 = final but maybe not in a block yet (default 0)',
      },
      {
        name: 'maxcount',
        schema: z.number().int().min(1).max(MAX_LISTUNSPENT),
        optional: true,
        description: `most outputs returned (default and at most ${MAX_LISTUNSPENT})`,
      },
    ],
    handler: async (p) => {
      const text = p['address'] as string;
      const payload = addressParam(node, text);
      const minconf = (p['minconf'] as number | undefined) ?? 0;
      const maxcount = (p['maxcount'] as number | undefined) ?? MAX_LISTUNSPENT;
      const mp = node.ledger.mempool;
      const tip = node.store.tip().height;
      // An output's confirmations are tip - height + 1, at most tip + 1 (genesis, height 0): a
      // larger minconf matches nothing, and walking the address's whole index to find that out
      // cost ~10 ms per call for 3,000 outputs.
      if (minconf > tip + 1) return [];
      const maturity = node.params.coinbaseMaturity;
      const spentInMempool = (o: OutPoint) =>
        mp.finalizedSpender(o) !== undefined || mp.conflictSet(o).length > 0;
      const out: Record<string, unknown>[] = [];
      const row = (o: OutPoint, value: bigint, height: number | null, coinbase: boolean) => ({
        txid: toHex(o.txid),
        vout: o.vout,
        address: text,
        amount: formatTime(value),
        sat: value.toString(),
        confirmations: height === null ? 0 : tip - height + 1,
        ...(height === null ? {} : { height }),
        final: true,
        coinbase,
        spendable: !coinbase || (height !== null && tip + 1 - height >= maturity),
      });
      if (minconf === 0) {
        for (const etx of pool.paying(payload, 'finalized')) {
          etx.tx.outputs.forEach((o, vout) => {
            const op = { txid: etx.txid, vout };
            if (out.length < maxcount && bytesEqual(o.address, payload) && !spentInMempool(op))
              out.push(row(op, o.value, null, false));
          });
        }
      }
      // Oldest first; the index's pages are read until enough rows or the address's end.
      let after: { height: number; outpoint: OutPoint } | undefined;
      const confirmed: Record<string, unknown>[] = [];
      while (confirmed.length + out.length < maxcount) {
        const page = await node.store.addressUtxos(payload, { limit: 1_000, ...(after ? { after } : {}) });
        for (const u of page) {
          if (tip - u.height + 1 < minconf) continue;
          if (spentInMempool(u.outpoint)) continue;
          if (confirmed.length + out.length >= maxcount) break;
          confirmed.push(row(u.outpoint, u.value, u.height, u.coinbase));
        }
        if (page.length < 1_000) break;
        const last = page[page.length - 1]!;
        after = { height: last.height, outpoint: last.outpoint };
      }
      return [...confirmed, ...out];
    },
  });

  d.register({
    name: 'masternodelist',
    summary: 'Registered masternodes (active at the tip by default; all with a true argument)',
    params: [
      {
        name: 'all',
        schema: z.boolean(),
        optional: true,
        description: 'include deregistered and waiting masternodes',
      },
    ],
    handler: (p) => {
      const params = node.params;
      const tip = node.store.tip().height;
      const active = new Set(node.store.activeMasternodes(tip).map((m) => toHex(m.nodePubkey)));
      const records =
        p['all'] === true ? node.store.masternodeRange(100_000) : node.store.activeMasternodes(tip);
      return records.map((m) => {
        const id = toHex(m.nodePubkey);
        const tier = params.tiers[m.tier]!;
        return {
          pubkey: id,
          tier: tier.name,
          weight: tier.weight,
          status: active.has(id) ? 'active' : m.deregisteredHeight !== null ? 'deregistered' : 'waiting',
          rewardaddress: encodeAddress(params.addressDigit, m.rewardAddress),
          collateral: m.collateral ? { txid: toHex(m.collateral.txid), vout: m.collateral.vout } : null,
          registeredheight: m.registeredHeight,
          deregisteredheight: m.deregisteredHeight,
          self: id === node.nodeId,
          connected: id === node.nodeId || node.p2p.peers().some((peer) => peer.peerId === id),
        };
      });
    },
  });
}
