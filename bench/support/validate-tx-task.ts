import { devnetFundedKey, genesisBlock } from '../../src/chain/genesis.js';
import type { LedgerView } from '../../src/ledger/ledger-state.js';
import { checkTxAgainstLedger, checkTxStructure } from '../../src/ledger/tx-validation.js';
import type { ChainParams } from '../../src/params/chain-params.js';
import { time } from '../../src/params/units.js';
import type { EncodedTx } from '../../src/protocol/tx-codec.js';
import { signTx } from '../../src/wallet/tx-builder.js';
import type { BenchSuite } from '../harness.js';

/**
 * `ledger.validateTx`: structural + ledger (UTXO) checks of a 1-in-2-out transaction, signatures
 * excluded (they are the crypto pool's job), against `view` — pass the LMDB store to measure the
 * real read path. The transactions spend the devnet genesis allocations, so `view` must hold the
 * devnet genesis state.
 */
export async function benchValidateTx(
  suite: BenchSuite,
  params: ChainParams,
  view: LedgerView,
): Promise<void> {
  const allocation = genesisBlock(params).txs[0]!;
  const txs: EncodedTx[] = [];
  for (let i = 0; i < 10; i++) {
    const k = devnetFundedKey(i);
    txs.push(
      signTx(
        params,
        {
          inputs: [{ txid: allocation.txid, vout: i }],
          outputs: [
            { value: time(1), address: devnetFundedKey((i + 1) % 10).addressPayload },
            { value: allocation.tx.outputs[i]!.value - time(1) - 10_000n, address: k.addressPayload },
          ],
        },
        [k],
      ),
    );
  }
  let n = 0;
  await suite.task('ledger.validateTx', () => {
    const etx = txs[n++ % txs.length]!;
    checkTxStructure(etx, params);
    checkTxAgainstLedger(etx, view, params, view.tipHeight() + 1);
  });
}
