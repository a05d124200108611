import { CodedError } from '../util/coded-error.js';

/** Why a frame was refused before reaching a handler. Each code maps to a misbehaviour score. */
export type WireErrorCode =
  | 'WIRE_FRAME_TOO_LARGE'
  | 'WIRE_NOT_A_MESSAGE'
  | 'WIRE_UNKNOWN_TYPE'
  | 'WIRE_BAD_CBOR'
  | 'WIRE_BAD_SCHEMA'
  /** A valid catalogue type that is not allowed in the connection's phase (e.g. Tx before the handshake). */
  | 'WIRE_UNEXPECTED_TYPE';

/** A frame that is not a valid message of the catalogue. Never thrown past the transport. */
export class WireError extends CodedError<WireErrorCode> {}
