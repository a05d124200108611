import type { ChainParams } from '../params/chain-params.js';
import type { BlockHeader } from '../protocol/block.js';
import { rankWindow, slotAt } from './slot-time.js';

/**
 * Local-clock policies about blocks. They are NOT validity rules: two honest nodes with slightly
 * different clocks must never disagree on whether a block is valid, only on when they act on it.
 * Validity (validateBlock) uses the header alone: the timestamp lies in its rank's window.
 */

type Timing = Pick<
  ChainParams,
  'genesisTimeMs' | 'slotMs' | 'leaderFallbackStepMs' | 'futureBlockToleranceMs'
>;

/**
 * True when the block claims a time more than the clock tolerance ahead of `nowMs`: do not relay
 * or apply it yet (keep it, bounded, and look again when its time comes). A block for a slot far in
 * the future is otherwise valid; this check is what keeps it out.
 */
export function isFromTheFuture(
  header: Pick<BlockHeader, 'timestampMs'>,
  nowMs: number,
  params: Timing,
): boolean {
  return header.timestampMs > nowMs + params.futureBlockToleranceMs;
}

/**
 * True when a block claims a time more than TWO clock tolerances ahead of `nowMs`. An honest node
 * relays a block only once its own clock admits it (isFromTheFuture false there), and honest clocks
 * are within the tolerance of each other, so such a block proves its sender wrong: the node drops
 * it like any future block and also scores the sender (FROM_THE_FUTURE). Between one and two
 * tolerances the block is only dropped: the sender's clock may just run ahead.
 */
export function isFarFromTheFuture(
  header: Pick<BlockHeader, 'timestampMs'>,
  nowMs: number,
  params: Timing,
): boolean {
  return header.timestampMs > nowMs + 2 * params.futureBlockToleranceMs;
}

/**
 * True when a block received at `arrivalMs` arrived before its rank's window closed plus the
 * clock tolerance. Producers build only on timely blocks (DESIGN §6): a late block never displaces a
 * timely one of the same height, so an anchor's producer cannot buy time for grinding by
 * publishing late.
 */
export function arrivedInTime(
  header: Pick<BlockHeader, 'slot' | 'rank'>,
  arrivalMs: number,
  params: Timing,
): boolean {
  return arrivalMs < rankWindow(params, header.slot, header.rank).endMs + params.futureBlockToleranceMs;
}

/**
 * True when a Beacon message is for a slot this node can use now: the current slot or the next,
 * each edge widened by the clock tolerance. Honest nodes gossip slot s + 1's beacon during slot s
 * (and slot s's when it comes late). A beacon for any other slot helps no producer here (a block
 * carries its own beacon and is verified with it), so it is dropped without running the VDF and
 * not relayed: a peer cannot make us verify beacons for arbitrary slots.
 */
export function beaconSlotWanted(slot: number, nowMs: number, params: Timing): boolean {
  return (
    slot >= slotAt(params, nowMs - params.futureBlockToleranceMs) &&
    slot <= slotAt(params, nowMs + params.futureBlockToleranceMs) + 1
  );
}
