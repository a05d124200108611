/**
 * Snowball finality (DESIGN §5): parameters, sampler, benchlist, per-outpoint Snowball, poll
 * bookkeeping, engine.
 */
export { Benchlist, type BenchlistConfig, DEFAULT_BENCHLIST_CONFIG } from './benchlist.js';
export { ConflictSet, type ConflictSetParams } from './conflict-set.js';
export {
  DEFAULT_MAX_ITEMS_PER_POLL,
  type Decided,
  type PollRequest,
  SnowballEngine,
  type TxStatus,
} from './engine.js';
export { SnowballError, type SnowballErrorCode } from './errors.js';
export { MAX_K, type SnowballParams, SnowballParamsError, verifySnowballParams } from './params.js';
export { Poll, Vote } from './poll.js';
export { type Rng, Xoshiro128 } from './prng.js';
export { type PollPool, pollPool, pollQuorumMet, StakeSampler, type WeightedValidator } from './sampler.js';
