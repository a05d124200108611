import { describe, expect, it } from 'vitest';
import { DEVNET_SEED, genesisBlock } from '../../../src/chain/genesis.js';
import { EMPTY_LEDGER, LedgerOverlay } from '../../../src/ledger/ledger-overlay.js';
import { time } from '../../../src/params/units.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { registrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import {
  devnetLedger,
  FUNDED,
  fundedOutpoint,
  key,
  params,
  pay,
  spendFunded,
} from '../../support/devnet-ledger.js';

describe('LedgerOverlay (the in-memory view over a ledger)', () => {
  it('by default applies at the height after the base tip: genesis over nothing is height 0', () => {
    expect(EMPTY_LEDGER.tipHeight()).toBe(-1);
    const ledger = new LedgerOverlay(EMPTY_LEDGER, params);
    expect(ledger.tipHeight()).toBe(-1);
    for (const etx of genesisBlock(params).txs) ledger.apply(etx);
    expect(ledger.getUtxo(fundedOutpoint(0))).toMatchObject({ value: FUNDED, height: 0, coinbase: false });
    const next = new LedgerOverlay(ledger, params);
    next.apply(spendFunded(0, [pay(key(1), time(1))]));
    const spend = spendFunded(0, [pay(key(1), time(1))]);
    expect(next.getUtxo({ txid: spend.txid, vout: 0 })?.height).toBe(0);
  });

  it('a spend in the overlay hides the base output without touching the base', () => {
    const base = devnetLedger();
    const top = new LedgerOverlay(base, params, 1);
    const spend = spendFunded(0, [pay(key(1), time(1))]);
    top.apply(spend);
    expect(top.getUtxo(fundedOutpoint(0))).toBeUndefined();
    expect(base.getUtxo(fundedOutpoint(0))?.value).toBe(FUNDED);
    expect(top.getUtxo({ txid: spend.txid, vout: 0 })).toMatchObject({ value: time(1), height: 1 });
  });

  it('records the tier of a paid registration from its collateral, and a Free one as tier 0', () => {
    const ledger = new LedgerOverlay(devnetLedger(), params, 1);
    const bronze = params.tiers[1]!.collateral;
    const node = devnetKeyPair(DEVNET_SEED, 9_100);
    const input = fundedOutpoint(4);
    ledger.apply(
      signTx(
        params,
        {
          inputs: [input],
          outputs: [pay(key(4), bronze), pay(key(4), FUNDED - bronze - 100_000n)],
          payload: registrationPayload(params, input, node, 0, key(4).addressPayload),
        },
        [key(4)],
      ),
    );
    expect(ledger.getMasternode(node.publicKey)).toMatchObject({ tier: 1, registeredHeight: 1 });
    expect(ledger.getMasternode(node.publicKey)?.collateral?.vout).toBe(0);
  });
});
