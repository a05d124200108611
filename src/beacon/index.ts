/** Beacon input derivation, verification with memory, and leader ranking (DESIGN §6). */
export { type AnchorCandidate, beaconInput, beaconPreimage, selectAnchor } from './beacon-input.js';
export {
  leaderAtRank,
  type RankedMasternode,
  RankingError,
  rankLeaders,
  rankOf,
  rankZeroLeader,
} from './leader-ranking.js';
export { type BeaconVerifier, type SlotBeacon, type VdfVerify, VerifiedBeacons } from './verified-beacons.js';
