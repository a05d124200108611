import { CodedError } from '../util/coded-error.js';

export class TestSwitchError extends CodedError<'TEST_SWITCHES_DISABLED' | 'UNKNOWN_SWITCH'> {}

/** The behaviours a test may switch on in a running devnet node. */
export interface Behaviour {
  /** Never answer polls (a validator that went quiet: its draws time out). */
  silent: boolean;
}

const DEFAULTS: Behaviour = Object.freeze({ silent: false });

/**
 * Test-only behaviour switches, flipped over RPC (`test_setbehaviour`) in multi-process tests. They
 * exist only when the node was started with `--test-switches` on devnet; on mainnet and testnet the
 * flag is refused at start-up and the RPC method is not registered, so no configuration can reach
 * them.
 */
export class TestSwitches {
  private state: Behaviour = { ...DEFAULTS };

  constructor(readonly enabled: boolean) {}

  get silent(): boolean {
    return this.enabled && this.state.silent;
  }

  set(changes: Partial<Record<string, unknown>>): Behaviour {
    if (!this.enabled)
      throw new TestSwitchError('TEST_SWITCHES_DISABLED', 'start a devnet node with --test-switches');
    for (const [k, v] of Object.entries(changes)) {
      if (!(k in DEFAULTS) || typeof v !== typeof DEFAULTS[k as keyof Behaviour])
        throw new TestSwitchError('UNKNOWN_SWITCH', `no test switch ${k.slice(0, 40)} of that type`);
      (this.state as unknown as Record<string, unknown>)[k] = v;
    }
    return { ...this.state };
  }

  get(): Behaviour {
    return { ...this.state };
  }
}
