import { ByteWriter } from '../encoding/byte-writer.js';
import { TAG } from '../protocol/domain-tags.js';
import { encodeElement } from '../vdf/group.js';
import { hashToGroup } from '../vdf/hash-to-group.js';

/**
 * The preimage of slot s's VDF input (DESIGN §6):
 * `TIME:beacon:1`\0 ‖ u32le(chain id) ‖ u64le(slot) ‖ anchor hash (32 bytes).
 */
export function beaconPreimage(chainId: number, slot: number, anchorHash: Uint8Array): Uint8Array {
  return new ByteWriter(64).raw(TAG.beacon).u32(chainId).u64(slot).fixed(anchorHash, 32).finish();
}

/** x = HashToGroup(beaconPreimage(…)) as a 256-byte canonical element: the VDF input of a slot. */
export function beaconInput(chainId: number, slot: number, anchorHash: Uint8Array): Uint8Array {
  return encodeElement(hashToGroup(beaconPreimage(chainId, slot, anchorHash)));
}

/** A block as the anchor rule sees it. */
export interface AnchorCandidate {
  readonly slot: number;
  readonly hash: Uint8Array;
}

/**
 * The anchor of slot s: the newest block of the chain with slot < s − 1, so the input is fixed a
 * full slot before it is needed and evaluation can start early. `chainNewestFirst` walks back from
 * the tip; its last entry is genesis, which anchors the first slots.
 */
export function selectAnchor<B extends AnchorCandidate>(chainNewestFirst: readonly B[], slot: number): B {
  if (chainNewestFirst.length === 0) throw new RangeError('empty chain');
  for (const block of chainNewestFirst) if (block.slot < slot - 1) return block;
  return chainNewestFirst[chainNewestFirst.length - 1] as B;
}
