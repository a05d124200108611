import { describe, expect, it } from 'vitest';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { outpoint, PARAMS, poll, txid, VALIDATORS } from './engine-driver.js';

/**
 * A poll carries at most maxItemsPerPoll of the processing transactions, round-robin, so with more
 * processing than one poll holds, a poll can carry a double spend's losing member without the
 * winner. Such a poll says nothing about the winner unless the loser's votes rule it out.
 */

/** A fresh 32-byte id with `tag` and a counter. */
function id(tag: number, i: number): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = tag;
  b[1] = i >> 8;
  b[2] = i & 0xff;
  return b;
}

function op(i: number): Uint8Array {
  const b = new Uint8Array(36);
  b[0] = 0xcc;
  b[1] = i >> 8;
  b[2] = i & 0xff;
  return b;
}

describe('Snowball engine: polls that carry only part of a conflict set', () => {
  it('with 2 items per poll and 3 processing, a unanimous double spend finalizes in about beta × 3/2 polls', () => {
    const engine = new SnowballEngine(PARAMS, 2);
    const [a, b, c] = [txid(1), txid(2), txid(3)];
    expect(engine.add(a, [outpoint(1)])).toBe('processing');
    expect(engine.add(b, [outpoint(1)])).toBe('processing');
    expect(engine.add(c, [outpoint(3)])).toBe('processing');
    // Polls carry {A,B}, {C,A}, {B,C}, …: every third one has B without A.
    const yesA = toHex(a);
    let polls = 0;
    while (engine.statusOf(a) === 'processing' && polls < 200) {
      poll(engine, (h) => (h === yesA ? 20 : 0));
      polls++;
    }
    expect(engine.statusOf(a)).toBe('accepted');
    expect(engine.statusOf(b)).toBe('rejected');
    expect(polls).toBeLessThanOrEqual(PARAMS.beta * 2);
  });

  it('1,536 processing at the default poll size: attacker pairs all finalize for the unanimous member', () => {
    const engine = new SnowballEngine(PARAMS);
    const winners = new Set<string>();
    for (let i = 0; i < 768; i++) {
      engine.add(id(0x01, i), [op(i)]);
      winners.add(toHex(id(0x01, i)));
    }
    for (let i = 0; i < 768; i++) engine.add(id(0x02, i), [op(i)]);
    let accepted = 0;
    for (let i = 0; i < 100 && accepted < 768; i++) {
      poll(engine, (h) => (winners.has(h) ? 20 : 0));
      accepted += engine.takeDecided().accepted.length;
    }
    expect(accepted).toBe(768);
  });

  it('a poll of the rival alone still fails the set when its votes leave the preference short', () => {
    // beta 3 keeps the streak short. A and B conflict; C fills the polls (2 items each), which
    // cycle {A,B}, {C,A}, {B,C}: A is asked twice in a row at most, then B alone.
    const run = (bAlone: number) => {
      const engine = new SnowballEngine({ ...PARAMS, beta: 3 }, 2);
      const [a, b, c] = [txid(1), txid(2), txid(3)];
      engine.add(a, [outpoint(1)]);
      engine.add(b, [outpoint(1)]);
      engine.add(c, [outpoint(3)]);
      const [ha, hb] = [toHex(a), toHex(b)];
      for (let i = 0; i < 60 && engine.statusOf(a) === 'processing'; i++) {
        const req = engine.startPoll(VALIDATORS)!;
        const hexes = req.txids.map(toHex);
        // A confident majority for A whenever it is asked (14 of 20, B 6); B alone gets `bAlone`.
        const yes = hexes.map((h) => (h === ha ? 14 : h === hb ? (hexes.includes(ha) ? 6 : bAlone) : 0));
        for (let v = 0; v < 20; v++) {
          const votes = yes.map((y) => (v < y ? Vote.YES : Vote.NO));
          if (engine.recordResponse(req.requestId, req.validators[v]!, votes)) break;
        }
      }
      return engine.statusOf(a);
    };
    // 7 yes for B (k − alphaConfidence + 1): at most 13 of that sample back A, short of
    // alphaConfidence, so the poll fails A's set and A never gets 3 in a row.
    expect(run(PARAMS.k - PARAMS.alphaConfidence + 1)).toBe('processing');
    // 6: A could still have had 14 in that sample; the poll is skipped for the set and A finalizes.
    expect(run(PARAMS.k - PARAMS.alphaConfidence)).toBe('accepted');
  });
});
