import { describe, expect, it } from 'vitest';
import { MAX_K, SnowballParamsError, verifySnowballParams } from '../../../src/consensus/snowball/params.js';
import { MAINNET } from '../../../src/params/networks.js';

describe('verifySnowballParams', () => {
  it('accepts the chain parameters and the boundary cases', () => {
    expect(() => verifySnowballParams(MAINNET.snowball)).not.toThrow();
    for (const p of [
      { k: 1, alpha: 1, beta: 1 },
      { k: 20, alpha: 11, beta: 1 },
      { k: 20, alpha: 20, beta: 150 },
      { k: 21, alpha: 11, beta: 20 },
      { k: MAX_K, alpha: MAX_K, beta: 1 },
    ])
      expect(() => verifySnowballParams(p), JSON.stringify(p)).not.toThrow();
  });

  // One row per rule: the message must name the inequality and quote the offending values.
  it.each([
    ['k = 0', { k: 0, alpha: 1, beta: 1 }, 'k = 0: fails the condition that: 0 < k'],
    ['k negative', { k: -3, alpha: 1, beta: 1 }, 'k = -3: fails the condition that: 0 < k'],
    [
      'k too large',
      { k: MAX_K + 1, alpha: MAX_K, beta: 1 },
      `k = ${MAX_K + 1}: fails the condition that: k <= ${MAX_K}`,
    ],
    [
      'k not an integer',
      { k: 20.5, alpha: 14, beta: 20 },
      'k = 20.5: fails the condition that: k is an integer',
    ],
    [
      'alpha = k/2',
      { k: 20, alpha: 10, beta: 20 },
      'k = 20, alpha = 10: fails the condition that: k/2 < alpha',
    ],
    [
      'alpha below k/2',
      { k: 20, alpha: 3, beta: 20 },
      'k = 20, alpha = 3: fails the condition that: k/2 < alpha',
    ],
    ['alpha > k', { k: 20, alpha: 21, beta: 20 }, 'k = 20, alpha = 21: fails the condition that: alpha <= k'],
    [
      'alpha NaN',
      { k: 20, alpha: Number.NaN, beta: 20 },
      'alpha = NaN: fails the condition that: alpha is an integer',
    ],
    ['beta = 0', { k: 20, alpha: 14, beta: 0 }, 'beta = 0: fails the condition that: 0 < beta'],
    [
      'beta fractional',
      { k: 20, alpha: 14, beta: 1.5 },
      'beta = 1.5: fails the condition that: beta is an integer',
    ],
  ])('rejects %s', (_name, p, message) => {
    let caught: unknown;
    try {
      verifySnowballParams(p);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SnowballParamsError);
    const e = caught as SnowballParamsError;
    expect(e.code).toBe('SNOWBALL_PARAMS_INVALID');
    expect(e.message).toBe(`SNOWBALL_PARAMS_INVALID: ${message}`);
    expect(e.details.rule).toBe(message.split('fails the condition that: ')[1]);
  });
});
