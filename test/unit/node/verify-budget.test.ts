import { describe, expect, it } from 'vitest';
import { AT_LARGE_VERIFY_BUDGET, PEER_VERIFY_BUDGET, VerifyBudget } from '../../../src/node/verify-budget.js';

describe('VerifyBudget', () => {
  it('defaults: 512/s (burst 1,024) per peer without stake, 2,048/s (burst 4,096) for all of them', () => {
    expect(PEER_VERIFY_BUDGET).toEqual({ perSec: 512, burst: 1_024 });
    expect(AT_LARGE_VERIFY_BUDGET).toEqual({ perSec: 2_048, burst: 4_096 });
  });

  it('takes from the peer and the shared budget together, or from neither', () => {
    let now = 0;
    const v = new VerifyBudget({
      isStaked: () => false,
      now: () => now,
      perPeer: { perSec: 0, burst: 2 },
      atLarge: { perSec: 1, burst: 1 },
    });
    expect(v.allow('a')).toBe(true); // a: 1 left; shared: 0
    expect(v.allow('a')).toBe(false); // the shared budget is empty: a keeps its last token
    now = 1_000; // the shared budget refills one
    expect(v.allow('a')).toBe(true);
    now = 2_000;
    expect(v.allow('a')).toBe(false); // a's own is spent (it never refills here)
    expect(v.allow('b')).toBe(true); // b has its own, and the shared one refilled
  });

  it('never budgets an active masternode, whatever it sends', () => {
    const v = new VerifyBudget({
      isStaked: (id) => id === 'mn',
      now: () => 0,
      perPeer: { perSec: 0, burst: 0 },
    });
    for (let i = 0; i < 10_000; i++) expect(v.allow('mn')).toBe(true);
    expect(v.allow('stranger')).toBe(false);
  });
});
