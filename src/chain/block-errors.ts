import { CodedError } from '../util/coded-error.js';

/** One code per block validity rule (DESIGN §6, issue 12); docs/protocol.md lists them in order. */
export const BLOCK_ERROR_CODES = [
  'MALFORMED',
  'TOO_LARGE',
  'UNSUPPORTED_VERSION',
  'WRONG_CHAIN',
  'BAD_HEIGHT',
  'BAD_PREV_HASH',
  'BAD_SLOT',
  'BAD_BEACON',
  'TOO_FEW_MASTERNODES',
  'UNKNOWN_PRODUCER',
  'WRONG_RANK',
  'BAD_TIMESTAMP',
  'BAD_SIGNATURE',
  'TX_COUNT_MISMATCH',
  'BAD_MERKLE_ROOT',
  'BAD_WITNESS_ROOT',
  'NO_COINBASE',
  'EXTRA_COINBASE',
  'BAD_COINBASE',
  'UNSORTED_TXS',
  'DOUBLE_SPEND',
  'BAD_TX',
  'CONFLICTS_FINALIZED',
] as const;

export type BlockErrorCode = (typeof BLOCK_ERROR_CODES)[number];

/**
 * What a failure proves, so the node knows what it may remember:
 * - `header`: every block with this header hash is invalid. The header fields break a rule, or the
 *   transactions it commits to (merkle root over txids, witness root over full transactions) do.
 *   The hash may be remembered as invalid and the sender scored.
 * - `copy`: only these bytes are wrong: the body does not match its header's roots or count, the
 *   bytes do not decode, or the producer signature (not covered by the header hash) does not
 *   verify. Another peer may hold the right block under the same hash: never blacklist the hash.
 *   (Honest relays validate before relaying, so the sender may still be scored.)
 * - `context`: the block does not fit the parent the caller gave (its prev hash names another
 *   block); nothing is proved about the block itself.
 */
export type BlockFaultScope = 'header' | 'copy' | 'context';

const SCOPE: Readonly<Record<BlockErrorCode, BlockFaultScope>> = {
  MALFORMED: 'copy',
  // In validateBlock the size is checked after the roots, so the body is the committed one.
  TOO_LARGE: 'header',
  UNSUPPORTED_VERSION: 'header',
  WRONG_CHAIN: 'header',
  BAD_HEIGHT: 'header',
  BAD_PREV_HASH: 'context',
  BAD_SLOT: 'header',
  BAD_BEACON: 'header',
  TOO_FEW_MASTERNODES: 'header',
  UNKNOWN_PRODUCER: 'header',
  WRONG_RANK: 'header',
  BAD_TIMESTAMP: 'header',
  BAD_SIGNATURE: 'copy',
  TX_COUNT_MISMATCH: 'copy',
  BAD_MERKLE_ROOT: 'copy',
  BAD_WITNESS_ROOT: 'copy',
  NO_COINBASE: 'header',
  EXTRA_COINBASE: 'header',
  BAD_COINBASE: 'header',
  UNSORTED_TXS: 'header',
  DOUBLE_SPEND: 'header',
  BAD_TX: 'header',
  CONFLICTS_FINALIZED: 'header',
};

/** The scope a code has when validateBlock reports it (checks run in the documented order). */
export function blockFaultScope(code: BlockErrorCode): BlockFaultScope {
  return SCOPE[code];
}

export class BlockError extends CodedError<BlockErrorCode> {
  /** What this failure proves (see BlockFaultScope). */
  readonly scope: BlockFaultScope;

  constructor(
    code: BlockErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    scope: BlockFaultScope = blockFaultScope(code),
  ) {
    super(code, message, details);
    this.scope = scope;
  }

  /** True when the header hash itself may be remembered as invalid. */
  get provesHeaderInvalid(): boolean {
    return this.scope === 'header';
  }
}
