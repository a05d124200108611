import type { ChainParams } from '../params/chain-params.js';
import { tierIndexOfCollateral } from '../params/networks.js';
import { NO_COLLATERAL, type OutPoint } from '../protocol/transaction.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import type { LedgerView, MasternodeRecord, UtxoEntry } from './ledger-state.js';
import { outpointStringKey as key, bytesKey as nodeKey } from './map-keys.js';

/**
 * A LedgerView that layers applied transactions over a base view without touching it: created
 * outputs, spent outpoints, registrations and deregistrations. Used for the finalized-but-not-in-a-
 * block state the mempool validates against, for checking a block's transactions against its
 * parent, and (over an empty base) as the in-memory model in tests.
 */
export class LedgerOverlay implements LedgerView {
  private readonly created = new Map<string, UtxoEntry>();
  private readonly spent = new Set<string>();
  private readonly masternodes = new Map<string, MasternodeRecord>();
  private readonly collateral = new Map<string, Uint8Array>();

  constructor(
    private readonly base: LedgerView,
    private readonly params: ChainParams,
    private readonly height: number = base.tipHeight() + 1,
  ) {}

  tipHeight(): number {
    return this.base.tipHeight();
  }

  getUtxo(outpoint: OutPoint): UtxoEntry | undefined {
    const k = key(outpoint);
    if (this.spent.has(k)) return undefined;
    return this.created.get(k) ?? this.base.getUtxo(outpoint);
  }

  collateralOwner(outpoint: OutPoint): Uint8Array | undefined {
    return this.collateral.get(key(outpoint)) ?? this.base.collateralOwner(outpoint);
  }

  getMasternode(nodePubkey: Uint8Array): MasternodeRecord | undefined {
    return this.masternodes.get(nodeKey(nodePubkey)) ?? this.base.getMasternode(nodePubkey);
  }

  /** Applies a transaction that has already been validated against this view. */
  apply(etx: EncodedTx, opts: { coinbase?: boolean } = {}): void {
    const { tx, txid } = etx;
    for (const input of tx.inputs) {
      const k = key(input);
      this.created.delete(k);
      this.spent.add(k);
    }
    tx.outputs.forEach((o, vout) => {
      const k = key({ txid, vout });
      this.spent.delete(k);
      this.created.set(k, {
        value: o.value,
        address: o.address,
        height: this.height,
        coinbase: opts.coinbase ?? false,
      });
    });
    const p = tx.payload;
    if (p?.kind === 'register') {
      const collateral = p.collateralVout === NO_COLLATERAL ? null : { txid, vout: p.collateralVout };
      const tier =
        collateral === null ? 0 : tierIndexOfCollateral(this.params, tx.outputs[p.collateralVout]!.value);
      this.masternodes.set(nodeKey(p.nodePubkey), {
        nodePubkey: p.nodePubkey,
        tier,
        collateral,
        rewardAddress: p.rewardAddress,
        registeredHeight: this.height,
        deregisteredHeight: null,
      });
      if (collateral) this.collateral.set(key(collateral), p.nodePubkey);
    } else if (p?.kind === 'deregister') {
      // The collateral entry stays: the output is released from the block after this one
      // (checkTxAgainstLedger reads deregisteredHeight), as the chain store's view shows once the
      // block is stored. Releasing it here would let the transactions of one block see each other's
      // releases, and a block's validity would depend on its txid order.
      const record = this.getMasternode(p.nodePubkey);
      if (record) this.masternodes.set(nodeKey(p.nodePubkey), { ...record, deregisteredHeight: this.height });
    }
  }
}

/** A view of nothing: the base of an in-memory ledger. */
export const EMPTY_LEDGER: LedgerView = {
  tipHeight: () => -1,
  getUtxo: () => undefined,
  collateralOwner: () => undefined,
  getMasternode: () => undefined,
};
