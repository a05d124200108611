/**
 * Misbehaviour points per offence. A peer reaching BAN_THRESHOLD is disconnected and banned for the
 * configured duration. Undecodable frames cost the most (an honest implementation never sends
 * one); going over a rate limit costs a little per message, so a burst is forgiven by decay but a
 * sustained flood bans within a fraction of a second.
 */
export const OFFENCE_POINTS = Object.freeze({
  WIRE_FRAME_TOO_LARGE: 50,
  WIRE_NOT_A_MESSAGE: 50,
  WIRE_UNKNOWN_TYPE: 20,
  WIRE_BAD_CBOR: 50,
  WIRE_BAD_SCHEMA: 25,
  RATE_LIMITED: 2,
  UNSOLICITED_RESPONSE: 10,
  WIRE_UNEXPECTED_TYPE: 25,
  TEXT_FRAME: 50,
  /** A frame over the WebSocket payload cap: the transport closes at once, so this bans at once. */
  FRAME_OVER_CAP: 100,
});

export type Offence = keyof typeof OFFENCE_POINTS;

/** Default score at which a peer is banned (P2pNodeOptions.banThreshold). */
export const BAN_THRESHOLD = 100;

/** A peer's score with linear decay (`decayPerSec` points per second), clock passed in. */
export class MisbehaviourScore {
  private value = 0;
  private lastMs: number;

  constructor(
    private readonly decayPerSec: number,
    nowMs: number,
  ) {
    this.lastMs = nowMs;
  }

  /** Adds the offence's points and returns the new score. */
  add(offence: Offence, nowMs: number): number {
    this.decay(nowMs);
    this.value += OFFENCE_POINTS[offence];
    return this.value;
  }

  current(nowMs: number): number {
    this.decay(nowMs);
    return this.value;
  }

  private decay(nowMs: number): void {
    if (nowMs > this.lastMs) {
      this.value = Math.max(0, this.value - ((nowMs - this.lastMs) * this.decayPerSec) / 1000);
      this.lastMs = nowMs;
    }
  }
}
