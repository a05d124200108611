import { expect } from 'vitest';
import type { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { outpointKey } from '../../../src/protocol/tx-codec.js';

/** Every network's thresholds; tests shorten beta where the length of a streak is not the point. */
export const PARAMS = { k: 20, alphaPreference: 11, alphaConfidence: 14, beta: 20 };
export const VALIDATORS = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`);

export function txid(n: number): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = 0xaa;
  b[31] = n;
  return b;
}

export function outpoint(n: number, vout = 0): Uint8Array {
  const prev = new Uint8Array(32);
  prev[0] = 0x55;
  prev[31] = n;
  return outpointKey({ txid: prev, vout });
}

/**
 * One poll over whatever the engine offers; `yesFor(txidHex)` is how many of the 20 validators say
 * yes to that txid. Returns the hex txids polled.
 */
export function poll(engine: SnowballEngine, yesFor: (hex: string) => number): string[] {
  const req = engine.startPoll(VALIDATORS);
  if (!req) return [];
  const hexes = req.txids.map(toHex);
  const yes = hexes.map(yesFor);
  for (let v = 0; v < 20; v++) {
    const votes = yes.map((y) => (v < y ? Vote.YES : Vote.NO));
    if (engine.recordResponse(req.requestId, req.validators[v]!, votes)) break;
  }
  expect(engine.pollsInFlight).toBe(0);
  return hexes;
}

/** `yesFor` for polls where exactly the listed transactions get all 20 votes. */
export function only(...txs: number[]): (hex: string) => number {
  const yes = new Set(txs.map((n) => toHex(txid(n))));
  return (hex) => (yes.has(hex) ? 20 : 0);
}
