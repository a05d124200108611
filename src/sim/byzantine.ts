import { Vote } from '../consensus/snowball/poll.js';

/** How a Byzantine validator answers polls. */
export const STRATEGIES = ['silent', 'always-no', 'equivocate', 'balance'] as const;
export type ByzantineStrategy = (typeof STRATEGIES)[number];

/** What the omniscient adversary knows when it answers (the simulator maintains it). */
export interface AdversaryView {
  /** Conflict index of a transaction, or -1 when it conflicts with nothing. */
  conflictOf(tx: number): number;
  /** Which member (0 or 1) of a conflict pair this transaction is. */
  memberOf(tx: number): number;
  /** Honest nodes currently preferring member 0 / member 1 of the conflict. */
  honestPreferring(conflict: number, member: number): number;
}

/**
 * The votes a Byzantine node sends for a poll over `txs`, or null to stay silent.
 * - silent: never answers (its draws time out as no votes);
 * - always-no: no to everything, to stall finality;
 * - equivocate: yes to every member of every conflict set;
 * - balance: the classic attack on metastable consensus — yes only to the member fewer honest nodes
 *   currently prefer, to keep the honest nodes split; non-conflicting transactions get honest yes
 *   votes so the attacker looks well-behaved.
 */
export function byzantineVotes(
  strategy: ByzantineStrategy,
  txs: readonly number[],
  view: AdversaryView,
  responder: number,
): Uint8Array | null {
  if (strategy === 'silent') return null;
  const votes = new Uint8Array(txs.length);
  if (strategy === 'always-no') return votes;
  if (strategy === 'equivocate') return votes.fill(Vote.YES);
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]!;
    const c = view.conflictOf(tx);
    if (c < 0) {
      votes[i] = Vote.YES;
      continue;
    }
    const a = view.honestPreferring(c, 0);
    const b = view.honestPreferring(c, 1);
    // Back the underdog; on a tie split the adversary's own votes by responder parity.
    const favoured = a < b ? 0 : b < a ? 1 : responder & 1;
    votes[i] = view.memberOf(tx) === favoured ? Vote.YES : Vote.NO;
  }
  return votes;
}
