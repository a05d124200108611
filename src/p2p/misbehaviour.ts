/**
 * Misbehaviour points per offence. A node key or an IP reaching its ban threshold is disconnected
 * and banned for the configured duration. Undecodable frames cost the most (an honest
 * implementation never sends one); going over a rate limit costs a little per message, so a burst
 * is forgiven by decay but a sustained flood bans within a fraction of a second.
 *
 * Wire offences are found by the transport; application offences are reported by the node through
 * `P2pNode.misbehaved(peerId, offence, detail)` after it decoded and checked what a peer sent.
 */
export const OFFENCE_POINTS = Object.freeze({
  WIRE_FRAME_TOO_LARGE: 50,
  WIRE_NOT_A_MESSAGE: 50,
  WIRE_UNKNOWN_TYPE: 20,
  WIRE_BAD_CBOR: 50,
  WIRE_BAD_SCHEMA: 25,
  WIRE_UNEXPECTED_TYPE: 25,
  RATE_LIMITED: 2,
  UNSOLICITED_RESPONSE: 10,
  TEXT_FRAME: 50,
  /** A frame over the WebSocket payload cap: the transport closes at once, so this bans at once. */
  FRAME_OVER_CAP: 100,
  /** A handshake signature that does not verify (scored against the IP: no key was proven). */
  BAD_SIGNATURE: 50,
  // ---- application offences (P2pNode.misbehaved) ----
  /** A transaction that fails validation for a reason an honest relayer would have checked. */
  INVALID_TX: 10,
  /** A block that fails validation (signature, merkle root, rules): honest nodes never relay one. */
  INVALID_BLOCK: 50,
  /** A beacon whose VDF proof does not verify. */
  INVALID_BEACON: 50,
  /** An answer that does not fit its request: wrong vote count, blocks or transactions not asked for. */
  INVALID_RESPONSE: 25,
});

export type Offence = keyof typeof OFFENCE_POINTS;

/** Offences the application may report (the others are found by the transport itself). */
export const APPLICATION_OFFENCES = Object.freeze([
  'INVALID_TX',
  'INVALID_BLOCK',
  'INVALID_BEACON',
  'INVALID_RESPONSE',
] as const satisfies readonly Offence[]);
export type ApplicationOffence = (typeof APPLICATION_OFFENCES)[number];

/** Default score at which a node key is banned (P2pNodeOptions.banThreshold). */
export const BAN_THRESHOLD = 100;
