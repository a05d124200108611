import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { Mempool, type TxStatus } from '../../../src/ledger/mempool.js';
import { MempoolAddressIndex, type SpentOutput } from '../../../src/node/mempool-address-index.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type OutPoint, type Transaction, TX_VERSION } from '../../../src/protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../../../src/protocol/tx-codec.js';

/**
 * The index against the pool it watches: after every step of a seeded run of admissions (chained
 * spends and double spends among them), finalizations, rejections, expiries, blocks and reorgs
 * returning transactions, each address's delta and paying list per status must equal a walk of the
 * whole pool, with every input's output read from the outputs ever made (an outpoint's output never
 * changes: the txid commits to it).
 */
describe('MempoolAddressIndex', () => {
  const addresses = Array.from({ length: 5 }, (_, i) => new Uint8Array(20).fill(i + 1));
  const outKey = (o: OutPoint) => `${toHex(o.txid)}:${o.vout}`;

  function tx(inputs: OutPoint[], outputs: SpentOutput[], nonce: number): EncodedTx {
    const t: Transaction = {
      version: TX_VERSION,
      chainId: DEVNET.chainId,
      inputs,
      outputs,
      lockTime: nonce,
      payload: null,
      witnesses: inputs.map(() => ({ pubkey: new Uint8Array(32), signature: new Uint8Array(64) })),
    };
    return encodeTx(t);
  }

  // Asked after every change, and after every 7th (joins, status changes and leaves meet in the
  // queue of transactions not filed yet).
  it.each([1, 7])('equals a walk of the whole pool, asked every %i steps of a seeded run of 600', (every) => {
    let seed = 0xadd7;
    const rng = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
    let clock = 0;
    const pool = new Mempool({ maxCount: 100_000, maxBytes: 1e9, processingExpiryMs: 50 }, () => clock);
    // Every output ever made, and the chain's unspent ones (what resolve reads first, as the node does).
    const made = new Map<string, SpentOutput>();
    const chain = new Map<string, SpentOutput>();
    const spendable: OutPoint[] = [];
    for (let i = 0; i < 30; i++) {
      const op = { txid: new Uint8Array(32).fill(200 + (i % 50)).map((b, j) => (j === 0 ? i : b)), vout: 0 };
      const o = { value: BigInt(1_000 + i), address: pick(addresses) };
      made.set(outKey(op), o);
      chain.set(outKey(op), o);
      spendable.push(op);
    }
    const index = new MempoolAddressIndex(
      (input) => chain.get(outKey(input)) ?? pool.get(input.txid)?.etx.tx.outputs[input.vout],
    );
    // Half the run with the index attached from the start, half attached late (its initial replay).
    let attached = false;
    const inBlocks: EncodedTx[] = [];

    const check = () => {
      if (!attached) return;
      for (const status of ['processing', 'finalized'] as TxStatus[]) {
        for (const a of addresses) {
          let want = 0n;
          const paying: string[] = [];
          for (const etx of pool.unordered(status)) {
            for (const o of etx.tx.outputs) if (toHex(o.address) === toHex(a)) want += o.value;
            for (const i of etx.tx.inputs) {
              const o = made.get(outKey(i))!;
              if (toHex(o.address) === toHex(a)) want -= o.value;
            }
            if (etx.tx.outputs.some((o) => toHex(o.address) === toHex(a))) paying.push(toHex(etx.txid));
          }
          expect(index.delta(a, status), `${status} ${toHex(a)}`).toBe(want);
          expect(index.paying(a, status).map((e) => toHex(e.txid))).toEqual(paying.sort());
        }
      }
    };

    for (let step = 0; step < 600; step++) {
      if (step === 150) {
        pool.observe(index);
        attached = true;
      }
      const r = rng();
      const processing = pool.unordered('processing');
      const finalized = pool.unordered('finalized');
      if (r < 0.45) {
        // Inputs the ledger would accept: the chain's, or a finalized pool transaction's output
        // (spent ones included, for double spends).
        const existing = spendable.filter(
          (o) => chain.has(outKey(o)) || pool.get(o.txid)?.status === 'finalized',
        );
        if (existing.length === 0) continue;
        const inputs = [pick(existing)];
        if (rng() < 0.3) inputs.push(pick(existing));
        if (outKey(inputs[0]!) === outKey(inputs[inputs.length - 1]!) && inputs.length === 2) inputs.pop();
        const outputs = Array.from({ length: 1 + Math.floor(rng() * 3) }, () => ({
          value: BigInt(1 + Math.floor(rng() * 500)),
          address: pick(addresses),
        }));
        const etx = tx(inputs, outputs, step);
        try {
          pool.admit(etx, 1n);
          etx.tx.outputs.forEach((o, vout) => {
            made.set(outKey({ txid: etx.txid, vout }), o);
            spendable.push({ txid: etx.txid, vout });
          });
        } catch {
          // refused (a finalized rival, a rejected twin): nothing entered
        }
      } else if (r < 0.6 && processing.length > 0) {
        pool.finalize(pick(processing).txid);
      } else if (r < 0.68 && processing.length > 0) {
        pool.reject(pick(processing).txid);
      } else if (r < 0.74) {
        clock += 30;
        pool.expireProcessing();
      } else if (r < 0.84 && finalized.length > 0) {
        // A block with some finalized transactions whose inputs the chain holds.
        const block = finalized.filter((e) => e.tx.inputs.every((i) => chain.has(outKey(i)))).slice(0, 3);
        for (const e of block) {
          for (const i of e.tx.inputs) chain.delete(outKey(i));
          e.tx.outputs.forEach((o, vout) => {
            chain.set(outKey({ txid: e.txid, vout }), o);
          });
        }
        pool.removeBlock(block);
        inBlocks.push(...block);
      } else if (inBlocks.length > 0) {
        // A reorg returns the newest block transaction: final again, its inputs back in the chain.
        const e = inBlocks.pop()!;
        if (
          e.tx.outputs.some(
            (_, vout) =>
              ![...pool.unordered('processing'), ...pool.unordered('finalized')].every((x) =>
                x.tx.inputs.every((i) => outKey(i) !== outKey({ txid: e.txid, vout })),
              ),
          )
        ) {
          inBlocks.push(e);
          continue;
        }
        e.tx.outputs.forEach((_, vout) => {
          chain.delete(outKey({ txid: e.txid, vout }));
        });
        for (const i of e.tx.inputs) chain.set(outKey(i), made.get(outKey(i))!);
        pool.restoreFinalized(e, 1n);
      }
      if (step % every === 0) check();
    }
    expect(pool.unordered('finalized').length + pool.unordered('processing').length).toBeGreaterThan(5);
  });

  it('a transaction whose parent is not readable yet is counted once it is', () => {
    const known = new Map<string, SpentOutput>();
    const index = new MempoolAddressIndex((input) => known.get(outKey(input)));
    const [a, b] = addresses as [Uint8Array, Uint8Array];
    const parent = { txid: new Uint8Array(32).fill(9), vout: 0 };
    const child = tx([parent], [{ value: 40n, address: b }], 1);
    index.entered(child, 'finalized');
    // Its own output counts at once; the spend of a's output waits for the parent.
    expect(index.delta(b, 'finalized')).toBe(40n);
    expect(index.delta(a, 'finalized')).toBe(0n);
    known.set(outKey(parent), { value: 50n, address: a });
    expect(index.delta(a, 'finalized')).toBe(-50n);
    index.left(child, 'finalized');
    expect(index.delta(a, 'finalized')).toBe(0n);
    expect(index.delta(b, 'finalized')).toBe(0n);
    // Nothing is left behind for addresses no transaction touches any more.
    expect(index.addressCount('finalized')).toBe(0);
    // A leave for a transaction never filed (not by the pool's contract) changes nothing and never throws.
    index.entered(child, 'processing');
    index.left(tx([parent], [{ value: 1n, address: a }], 2), 'processing');
    expect(index.delta(b, 'processing')).toBe(40n);
    expect(index.addressCount('processing')).toBe(2);
  });
});
