import { describe, expect, it } from 'vitest';
import { canonical } from '../../../src/vdf/group.js';
import { RSA_2048, RSA_2048_DECIMAL } from '../../../src/vdf/rsa2048.js';

describe('RSA-2048 challenge modulus', () => {
  it('has 617 decimal digits and 2048 bits, and is odd', () => {
    expect(RSA_2048_DECIMAL).toMatch(/^[0-9]{617}$/);
    expect(RSA_2048.toString(2).length).toBe(2048);
    expect(RSA_2048 % 2n).toBe(1n);
  });

  it('has no prime factor below 100,000', () => {
    const limit = 100_000;
    const sieve = new Uint8Array(limit);
    for (let p = 2; p < limit; p++) {
      if (sieve[p]) continue;
      for (let m = p * p; m < limit; m += p) sieve[m] = 1;
      expect(RSA_2048 % BigInt(p), `divisible by ${p}`).not.toBe(0n);
    }
  });

  it('matches the published digits at both ends and the hex prefix recorded in docs/protocol.md', () => {
    expect(RSA_2048_DECIMAL.slice(0, 20)).toBe('25195908475657893494');
    expect(RSA_2048_DECIMAL.slice(-23)).toBe('12010397122822120720357');
    expect(RSA_2048.toString(16).slice(0, 16)).toBe('c7970ceedcc3b075');
  });

  it('reproduces an independent vector: 2^4096 mod RSA-2048 (cambrian/accumulator rsa.rs test_exp)', () => {
    const expected = BigInt(
      '217207389955395428589369158781869218697519159898401521658993038615824872408108784926597' +
        '517496727372037176277380476487000099770530440575029170919732871116716934260655466121508' +
        '332329543615367099810550371217642707848747209719337160655740326150736137284544974770721' +
        '296865388733305727739636960186370782308858960903126545368015203728531224712542949463283' +
        '059298449823194163842041340565518401459166858709515078878951293564147044227487142171138' +
        '804897039341476125519380825017530552968018297030172607314398711102156189885095451290884' +
        '843968486448057303474665815156929593135832083257250345066939165710477850618840948660503' +
        '95109710',
    );
    // That test compares canonical (min(v, N − v)) representatives on both sides, like our group.
    expect(canonical((1n << 4096n) % RSA_2048)).toBe(canonical(expected));
  });
});
