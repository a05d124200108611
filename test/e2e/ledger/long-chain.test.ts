import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { compareBytes } from '../../../src/encoding/bytes.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET } from '../../../src/params/networks.js';
import { blockSize } from '../../../src/protocol/block.js';
import { type EncodedTx, txidOf } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { chainedSpends, selfSpend } from '../../support/chained-spends.js';
import { FUNDED, fundedOutpoint, key } from '../../support/devnet-ledger.js';
import { tempDir } from '../../unit/storage/temp-dir.js';

/*
 * Issue 12: dependency ordering used to recurse once per parent, so a block of chained self-spends
 * overflowed the stack at ~5,100 transactions in a fresh process (~7,600 after JIT warm-up): the
 * same valid block was accepted by warm nodes and threw RangeError on restarted ones. 20,000 is far
 * past both. A 20,000-transaction chain (~3.7 MB) does not fit the 2 MB block limit, so this test
 * raises the limit: stack depth depends on the chain length, not on the limit.
 */
const CHAIN = 20_000;
const FEE = 1_000n;
const params: ChainParams = { ...DEVNET, maxBlockBytes: 4_000_000 };
const genesis = genesisBlock(params);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Every walk over a block body starts at its lowest txid. The last transaction's fee is chosen so
 * that it has the lowest txid of all: a walk starting there descends all 20,000 parents, which is
 * exactly what overflowed the recursive walks.
 */
function chainWithLowestTxidLast(): EncodedTx[] {
  const owner = key(0); // derived once: deriving a key pair costs more than a txid
  const head = chainedSpends(params, owner, fundedOutpoint(0), FUNDED, CHAIN - 1, FEE, { signed: false });
  let lowest = head[0]!.txid;
  for (const t of head) if (compareBytes(t.txid, lowest) < 0) lowest = t.txid;
  const tail = head[CHAIN - 2]!;
  const before = tail.tx.outputs[0]!.value;
  let lastFee = FEE;
  const lastTxid = () => txidOf(selfSpend(params, owner, { txid: tail.txid, vout: 0 }, before - lastFee));
  while (compareBytes(lastTxid(), lowest) >= 0) lastFee++;
  return chainedSpends(params, owner, fundedOutpoint(0), FUNDED, CHAIN, FEE, { lastFee });
}

function nextBlock(store: ChainStore, ledger: LedgerService) {
  const candidates = ledger.mempool
    .finalized()
    .map((etx) => ({ etx, fee: ledger.mempool.get(etx.txid)!.fee }));
  return nextBlockOn(store, candidates);
}

describe('20,000 chained transactions in one block (issue 12)', () => {
  it('loads from the finalized pool, assembles, validates, applies and reverts through LedgerService and LMDB', async () => {
    const chain = chainWithLowestTxidLast();
    const last = { txid: chain[CHAIN - 1]!.txid, vout: 0 };
    const { dir, cleanup } = tempDir('long-chain');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, params, genesis);
    cleanups.push(() => store.close());
    // The chain was final before this process started: start-up loads it and orders it.
    await store.putFinalized(...chain);
    const ledger = LedgerService.open(params, store, new WasmVerifier());
    expect(ledger.mempool.finalized()).toHaveLength(CHAIN);

    const { block, slot } = nextBlock(store, ledger);
    expect(block.txs).toHaveLength(CHAIN + 1);
    // The walk starts at the deepest transaction (see chainWithLowestTxidLast).
    expect(block.txs[1]!.txid).toEqual(chain[CHAIN - 1]!.txid);
    expect(blockSize(block)).toBeGreaterThan(3_500_000);
    await ledger.applyBlock(block, slot);
    expect(store.tip().height).toBe(1);
    expect(store.getUtxo(fundedOutpoint(0))).toBeUndefined();
    const lastFee = chain[CHAIN - 2]!.tx.outputs[0]!.value - chain[CHAIN - 1]!.tx.outputs[0]!.value;
    expect(store.getUtxo(last)?.value).toBe(FUNDED - BigInt(CHAIN - 1) * FEE - lastFee);
    expect(store.getTxHeight(chain[CHAIN / 2]!.txid)).toBe(1);
    expect(ledger.mempool.count).toBe(0);

    await ledger.revertTip();
    expect(store.tip().height).toBe(0);
    expect(store.getUtxo(fundedOutpoint(0))?.value).toBe(FUNDED);
    expect(store.getUtxo(last)).toBeUndefined();
    expect(ledger.mempool.finalized()).toHaveLength(CHAIN);

    // The reverted transactions are final again, waiting for the next block.
    expect(ledger.mempool.finalized().map((t) => t.txid)).toEqual(block.txs.slice(1).map((t) => t.txid));
  }, 120_000);
});
