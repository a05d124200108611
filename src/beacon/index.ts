/** Beacon input derivation, leader ranking and the fallback publishing rule (DESIGN §6). */
export { type AnchorCandidate, beaconInput, beaconPreimage, selectAnchor } from './beacon-input.js';
export {
  type RankedMasternode,
  RankingError,
  rankLeaders,
  rankOf,
  rankZeroLeader,
} from './leader-ranking.js';
export { earliestPublishMs, mayPublish, publishDelayMs, slotStartMs } from './publish-schedule.js';
