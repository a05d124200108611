import { Vote } from '../consensus/snowball/poll.js';
import { CodedError } from '../util/coded-error.js';

export class TestSwitchError extends CodedError<'TEST_SWITCHES_DISABLED' | 'UNKNOWN_SWITCH'> {}

/**
 * The behaviours a test may switch on in a running devnet node: the Byzantine modes of the chaos
 * tests (docs/operations.md, "Byzantine validators"). Each is checked at the one point it changes.
 */
export interface Behaviour {
  /** Never answer polls (a validator that went quiet: its draws time out). */
  silent: boolean;
  /** Answer yes for every transaction it knows, both members of a conflict set included. */
  equivocate: boolean;
  /** Answer no to every query. */
  alwaysNo: boolean;
  /** At its rank, sign and publish two different blocks for the slot (double-sign). */
  doubleSign: boolean;
  /** At its rank, publish nothing: the slot falls to the next rank's window. */
  withhold: boolean;
  /** Flood its peers with invalid transactions and malformed block frames. */
  spam: boolean;
  /** Gossip a wrong beacon (random output and proof) instead of each one it evaluates. */
  wrongBeacon: boolean;
}

const DEFAULTS: Behaviour = Object.freeze({
  silent: false,
  equivocate: false,
  alwaysNo: false,
  doubleSign: false,
  withhold: false,
  spam: false,
  wrongBeacon: false,
});

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

  get equivocate(): boolean {
    return this.enabled && this.state.equivocate;
  }

  get alwaysNo(): boolean {
    return this.enabled && this.state.alwaysNo;
  }

  get doubleSign(): boolean {
    return this.enabled && this.state.doubleSign;
  }

  get withhold(): boolean {
    return this.enabled && this.state.withhold;
  }

  get spam(): boolean {
    return this.enabled && this.state.spam;
  }

  get wrongBeacon(): boolean {
    return this.enabled && this.state.wrongBeacon;
  }

  /**
   * The vote modes at the answer point: equivocate turns every known answer (yes or no) into yes,
   * alwaysNo turns every answer into no. Honest nodes' answers pass through unchanged.
   */
  distortVotes(votes: Uint8Array): Uint8Array {
    if (this.alwaysNo) return votes.fill(Vote.NO);
    if (this.equivocate)
      for (let i = 0; i < votes.length; i++) if (votes[i] !== Vote.UNKNOWN) votes[i] = Vote.YES;
    return votes;
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
