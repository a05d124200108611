import { describe, expect, it } from 'vitest';
import { MAX_K, SnowballParamsError, verifySnowballParams } from '../../../src/consensus/snowball/params.js';
import { MAINNET } from '../../../src/params/networks.js';

describe('verifySnowballParams', () => {
  it('accepts the chain parameters and the boundary cases', () => {
    expect(() => verifySnowballParams(MAINNET.snowball)).not.toThrow();
    for (const p of [
      { k: 1, alphaPreference: 1, alphaConfidence: 1, beta: 1 },
      { k: 20, alphaPreference: 11, alphaConfidence: 11, beta: 1 },
      { k: 20, alphaPreference: 11, alphaConfidence: 20, beta: 150 },
      { k: 20, alphaPreference: 20, alphaConfidence: 20, beta: 20 },
      { k: 21, alphaPreference: 11, alphaConfidence: 14, beta: 20 },
      { k: MAX_K, alphaPreference: MAX_K, alphaConfidence: MAX_K, beta: 1 },
    ])
      expect(() => verifySnowballParams(p), JSON.stringify(p)).not.toThrow();
  });

  const p = (k: number, alphaPreference: number, alphaConfidence: number, beta: number) => ({
    k,
    alphaPreference,
    alphaConfidence,
    beta,
  });

  // One row per rule: the message must name the inequality and quote the offending values.
  it.each([
    ['k = 0', p(0, 1, 1, 1), 'k = 0: fails the condition that: 0 < k'],
    ['k negative', p(-3, 1, 1, 1), 'k = -3: fails the condition that: 0 < k'],
    [
      'k too large',
      p(MAX_K + 1, MAX_K, MAX_K, 1),
      `k = ${MAX_K + 1}: fails the condition that: k <= ${MAX_K}`,
    ],
    ['k not an integer', p(20.5, 11, 14, 20), 'k = 20.5: fails the condition that: k is an integer'],
    [
      'alphaPreference = k/2',
      p(20, 10, 14, 20),
      'k = 20, alphaPreference = 10: fails the condition that: k/2 < alphaPreference',
    ],
    [
      'alphaPreference below k/2 for odd k',
      p(21, 10, 14, 20),
      'k = 21, alphaPreference = 10: fails the condition that: k/2 < alphaPreference',
    ],
    [
      'alphaConfidence below alphaPreference',
      p(20, 14, 13, 20),
      'alphaPreference = 14, alphaConfidence = 13: fails the condition that: alphaPreference <= alphaConfidence',
    ],
    [
      'alphaConfidence > k',
      p(20, 11, 21, 20),
      'k = 20, alphaConfidence = 21: fails the condition that: alphaConfidence <= k',
    ],
    [
      'alphaPreference NaN',
      p(20, Number.NaN, 14, 20),
      'alphaPreference = NaN: fails the condition that: alphaPreference is an integer',
    ],
    [
      'alphaConfidence fractional',
      p(20, 11, 14.5, 20),
      'alphaConfidence = 14.5: fails the condition that: alphaConfidence is an integer',
    ],
    ['beta = 0', p(20, 11, 14, 0), 'beta = 0: fails the condition that: 0 < beta'],
    ['beta fractional', p(20, 11, 14, 1.5), 'beta = 1.5: fails the condition that: beta is an integer'],
  ])('rejects %s', (_name, params, message) => {
    let caught: unknown;
    try {
      verifySnowballParams(params);
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
