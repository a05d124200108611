import { randomBytes } from 'node:crypto';
import type { TestSwitches } from './test-switches.js';

export interface TestSpammerDeps {
  readonly switches: TestSwitches;
  readonly gossipTxs: (txs: Uint8Array[]) => void;
  readonly gossipBlock: (bytes: Uint8Array) => void;
}

/** How often the spam switch is looked at, and a burst sent while it is on. */
const TICK_MS = 100;
const TXS_PER_TICK = 16;

/**
 * The `spam` test switch (devnet, `--test-switches` only): while on, every 100 ms it gossips 16
 * random byte strings as transactions and one as a block. Receivers must refuse them without harm
 * and score the sender until it is banned. Off, it costs one boolean check per tick.
 */
export class TestSpammer {
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly d: TestSpammerDeps) {
    if (!d.switches.enabled) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    if (!this.d.switches.spam) return;
    this.d.gossipTxs(
      Array.from({ length: TXS_PER_TICK }, () => randomBytes(120 + (randomBytes(1)[0]! % 120))),
    );
    this.d.gossipBlock(randomBytes(600));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
