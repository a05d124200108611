import { describe, expect, it } from 'vitest';
import { selectTransactions } from '../../../src/chain/block-assembly.js';
import { compareBytes } from '../../../src/encoding/bytes.js';
import { chainedSpends } from '../../support/chained-spends.js';
import { FUNDED, fundedOutpoint, key, params } from '../../support/devnet-ledger.js';

const candidates = (txs: ReturnType<typeof chainedSpends>) => txs.map((etx) => ({ etx, fee: 1_000n }));

describe('selectTransactions', () => {
  it('selects a 20,000-transaction chain given child first, parents before children, without recursion', () => {
    const chain = chainedSpends(params, key(0), fundedOutpoint(0), FUNDED, 20_000, 1_000n, { signed: false });
    const chosen = selectTransactions(candidates([...chain].reverse()), 1e9);
    expect(chosen).toHaveLength(20_000);
    // Returned in txid order (the block body order).
    for (let i = 1; i < chosen.length; i++)
      expect(compareBytes(chosen[i - 1]!.etx.txid, chosen[i]!.etx.txid)).toBeLessThan(0);
  });

  it('stops a chain at the budget: a child is never taken without its parent', () => {
    const chain = chainedSpends(params, key(0), fundedOutpoint(0), FUNDED, 10, 1_000n, { signed: false });
    const size = chain[0]!.bytes.length;
    const chosen = selectTransactions(candidates([...chain].reverse()), size * 4 + size - 1);
    expect(chosen.map((c) => c.etx.txid).sort(compareBytes)).toEqual(
      chain
        .slice(0, 4)
        .map((t) => t.txid)
        .sort(compareBytes),
    );
    expect(selectTransactions(candidates(chain), size - 1)).toEqual([]);
    expect(selectTransactions(candidates(chain), size)).toHaveLength(1);
  });
});
