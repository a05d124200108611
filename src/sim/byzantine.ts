import { Vote } from '../consensus/snowball/poll.js';

/** How a Byzantine validator answers polls. */
export const STRATEGIES = ['silent', 'always-no', 'equivocate', 'balance'] as const;
export type ByzantineStrategy = (typeof STRATEGIES)[number];

/** What the omniscient adversary knows when it answers (the simulator maintains it). */
export interface AdversaryView {
  /** The outpoints this transaction spends that some other transaction spends too. */
  contestedInputsOf(tx: number): readonly number[];
  /** Every transaction spending this outpoint. */
  spendersOf(outpoint: number): readonly number[];
  /** Honest nodes that would answer yes for this transaction right now. */
  honestPreferring(tx: number): number;
}

/**
 * The votes a Byzantine node sends for a poll over `txs`, or null to stay silent.
 * - silent: never answers (its draws time out as no votes, and the pollers bench it);
 * - always-no: no to everything, to stall finality;
 * - equivocate: yes to every member of every conflict set;
 * - balance: the classic attack on metastable consensus — in every contested conflict set, yes only
 *   for the member the fewest honest nodes currently back (a transaction with several contested
 *   inputs only if it is that member in all of them), to keep the honest nodes split; ties are
 *   spread over the attacker's nodes by responder index. Transactions without a rival get honest
 *   yes votes so the attacker looks well-behaved.
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
    let backed = true;
    for (const o of view.contestedInputsOf(tx)) if (underdog(view, o, responder) !== tx) backed = false;
    votes[i] = backed ? Vote.YES : Vote.NO;
  }
  return votes;
}

/** The spender of `outpoint` the fewest honest nodes back; ties go round-robin by responder. */
function underdog(view: AdversaryView, outpoint: number, responder: number): number {
  const spenders = view.spendersOf(outpoint);
  let fewest = Number.POSITIVE_INFINITY;
  const tied: number[] = [];
  for (const t of spenders) {
    const n = view.honestPreferring(t);
    if (n < fewest) {
      fewest = n;
      tied.length = 0;
    }
    if (n === fewest) tied.push(t);
  }
  return tied[responder % tied.length]!;
}
