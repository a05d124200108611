import {
  DEVNET_FUNDED_AMOUNT,
  devnetFundedKey,
  devnetMasternodes,
  genesisBlock,
} from '../../src/chain/genesis.js';
import { EMPTY_LEDGER, LedgerOverlay } from '../../src/ledger/ledger-overlay.js';
import type { MasternodeRecord } from '../../src/ledger/ledger-state.js';
import { DEVNET } from '../../src/params/networks.js';
import { NO_COLLATERAL, type OutPoint, type TxOutput } from '../../src/protocol/transaction.js';
import type { EncodedTx } from '../../src/protocol/tx-codec.js';
import type { KeyPair } from '../../src/wallet/keys.js';
import { registrationPayload, signTx, type UnsignedTx } from '../../src/wallet/tx-builder.js';

export const params = DEVNET;

/** Genesis applied to an in-memory ledger (the model the storage layer must agree with). */
export function devnetLedger(): LedgerOverlay {
  const ledger = new LedgerOverlay(EMPTY_LEDGER, params, 0);
  for (const etx of genesisBlock(params).txs) ledger.apply(etx);
  return ledger;
}

/** Outpoint of funded devnet key i's genesis allocation (allocation tx output i). */
export function fundedOutpoint(i: number): OutPoint {
  return { txid: genesisBlock(params).txs[0]!.txid, vout: i };
}

export const FUNDED = DEVNET_FUNDED_AMOUNT;
export const key = devnetFundedKey;

/** A 1-in-N-out spend of funded key i's allocation, fee `fee`, remainder as change to the same key. */
export function spendFunded(
  i: number,
  outputs: TxOutput[],
  fee = 10_000n,
  extra: Partial<UnsignedTx> = {},
): EncodedTx {
  const k = key(i);
  const paid = outputs.reduce((s, o) => s + o.value, 0n);
  const change = FUNDED - paid - fee;
  return signTx(
    params,
    {
      inputs: [fundedOutpoint(i)],
      outputs: change > 0n ? [...outputs, { value: change, address: k.addressPayload }] : outputs,
      ...extra,
    },
    [k],
  );
}

/**
 * A Free-tier registration of `node` spending funded key i's allocation: the registration fee to
 * the treasury, 100,000 sat of fee, the rest back to key i, rewards to key i's address.
 */
export function freeRegistration(i: number, node: KeyPair): EncodedTx {
  return signTx(
    params,
    {
      inputs: [fundedOutpoint(i)],
      outputs: [
        pay(key(i), FUNDED - params.freeRegistrationFee - 100_000n),
        { value: params.freeRegistrationFee, address: params.treasuryAddress },
      ],
      payload: registrationPayload(params, fundedOutpoint(i), node, NO_COLLATERAL, key(i).addressPayload),
    },
    [key(i)],
  );
}

export function pay(to: KeyPair, value: bigint): TxOutput {
  return { value, address: to.addressPayload };
}

/** The genesis masternodes as active records (registered at height 0). */
export function genesisMasternodes(ledger: LedgerOverlay): MasternodeRecord[] {
  return devnetMasternodes().map((mn) => ledger.getMasternode(mn.nodeKey.publicKey)!);
}
