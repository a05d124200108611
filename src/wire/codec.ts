import { Encoder } from 'cbor-x';
import { checkObject, type ObjectSchema } from './guards.js';
import { FRAME_LIMIT } from './limits.js';
import { MESSAGE_NAME, type MessageType, type WireMessage } from './message-types.js';
import { peekType } from './peek-type.js';
import { SCHEMAS } from './schemas.js';
import { WireError } from './wire-error.js';

/**
 * cbor-x configured for plain data only: no record extension, no structured clone (cycles), no
 * typed-array tags (Uint8Array is a plain byte string), compact map headers. Decoding returns
 * Buffers that VIEW the input frame, so callers must pass a frame they own (not a uWS message
 * buffer, which is reused after the handler returns).
 */
const cbor = new Encoder({
  useRecords: false,
  structuredClone: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
  bundleStrings: false,
  pack: false,
});

const SCHEMA_OF = SCHEMAS as Readonly<Record<number, ObjectSchema>>;
const LIMIT_OF = FRAME_LIMIT as Readonly<Record<number, number>>;

/**
 * Encodes a catalogue message. `t` must be the first own key of `msg` (every constructor in the code
 * base writes it first); peekType relies on it, so we check it rather than trust it.
 */
export function encodeMessage(msg: WireMessage): Uint8Array {
  for (const first in msg) {
    if (first !== 't') throw new TypeError('wire messages must have `t` as their first key');
    break;
  }
  return cbor.encode(msg);
}

/**
 * Frame → validated message, or a WireError. Order matters: type and size from the raw prefix
 * first, then CBOR decoding, then the exact schema of that type. Nothing reaches a handler unchecked.
 */
export function decodeFrame(frame: Uint8Array): WireMessage {
  const type = peekType(frame);
  if (type < 0) {
    throw new WireError('WIRE_NOT_A_MESSAGE', 'frame does not start with a {t: type} map', {
      bytes: frame.length,
    });
  }
  const limit = LIMIT_OF[type];
  const schema = SCHEMA_OF[type];
  if (limit === undefined || schema === undefined) {
    throw new WireError('WIRE_UNKNOWN_TYPE', `unknown message type ${type}`, { type });
  }
  if (frame.length > limit) {
    throw new WireError('WIRE_FRAME_TOO_LARGE', `${MESSAGE_NAME[type]} frame of ${frame.length} bytes`, {
      type,
      bytes: frame.length,
      limit,
    });
  }
  let value: unknown;
  try {
    value = cbor.decode(frame);
  } catch (err) {
    throw new WireError('WIRE_BAD_CBOR', `invalid CBOR in ${MESSAGE_NAME[type]}: ${(err as Error).message}`, {
      type,
    });
  }
  const problem = checkObject(schema, value);
  if (problem !== null) {
    throw new WireError('WIRE_BAD_SCHEMA', `${MESSAGE_NAME[type]}: ${problem}`, { type });
  }
  return value as WireMessage;
}

/** The frame limit for a message type (for senders that build large answers such as Blocks). */
export function frameLimitOf(type: MessageType): number {
  return LIMIT_OF[type]!;
}
