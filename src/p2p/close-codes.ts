/**
 * WebSocket close codes (4000–4999 are for applications, RFC 6455 §7.4.2). The peer sees the code and
 * the reason text; a Reject message with the same code name is sent first when the socket is healthy.
 */
export const CLOSE = Object.freeze({
  protocolViolation: 4000,
  wrongChain: 4001,
  wrongGenesis: 4002,
  wrongVersion: 4003,
  badSignature: 4004,
  handshakeTimeout: 4005,
  duplicate: 4006,
  selfConnection: 4007,
  banned: 4008,
  tooManyPeers: 4009,
  shutdown: 4010,
  livenessTimeout: 4011,
  badKey: 4012,
  handshakeRateLimited: 4013,
  overloaded: 4014,
  evicted: 4015,
});

export type CloseName = keyof typeof CLOSE;

/** Reject/close code names as they appear on the wire (Reject.code) and in logs. */
export const CLOSE_CODE_NAME: Readonly<Record<CloseName, string>> = Object.freeze({
  protocolViolation: 'PROTOCOL_VIOLATION',
  wrongChain: 'WRONG_CHAIN',
  wrongGenesis: 'WRONG_GENESIS',
  wrongVersion: 'WRONG_VERSION',
  badSignature: 'BAD_SIGNATURE',
  handshakeTimeout: 'HANDSHAKE_TIMEOUT',
  duplicate: 'DUPLICATE_CONNECTION',
  selfConnection: 'SELF_CONNECTION',
  banned: 'BANNED',
  tooManyPeers: 'TOO_MANY_PEERS',
  shutdown: 'SHUTDOWN',
  livenessTimeout: 'LIVENESS_TIMEOUT',
  badKey: 'BAD_KEY',
  handshakeRateLimited: 'HANDSHAKE_RATE_LIMITED',
  overloaded: 'OVERLOADED',
  evicted: 'EVICTED',
});

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= 123 ? text : bytes.subarray(0, 120).toString('utf8');
}
