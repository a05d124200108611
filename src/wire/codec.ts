import { Encoder } from 'cbor-x';
import { checkObject, type ObjectSchema } from './guards.js';
import { FRAME_LIMIT, PRE_AUTH_FRAME_LIMIT } from './limits.js';
import { MESSAGE_NAME, type MessageType, MSG, type WireMessage } from './message-types.js';
import { peekType } from './peek-type.js';
import { SCHEMAS } from './schemas.js';
import { strictCborProblem } from './strict-cbor.js';
import { WireError } from './wire-error.js';

/**
 * cbor-x configured for plain data only: no record extension, no structured clone (cycles), no
 * typed-array tags (Uint8Array is a plain byte string), compact map headers. These options shape
 * what we ENCODE; on decode cbor-x would still honour tags, so every frame passes strict-cbor.ts
 * first. Decoded byte strings are copies (`copyBuffers`), not views of the frame: a transaction or
 * header kept for minutes (mempool, orphans, double-sign watch) must not pin a frame of up to 4 MiB.
 */
const cbor = new Encoder({
  useRecords: false,
  structuredClone: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
  bundleStrings: false,
  pack: false,
  copyBuffers: true,
  // u53 fields (heights, slots) travel as CBOR uint64 and come back as exact numbers (the strict
  // scan refuses anything above 2^53 − 1).
  int64AsNumber: true,
} as ConstructorParameters<typeof Encoder>[0]); // (int64AsNumber is missing from cbor-x's typings)

const U32_LIMIT = 0x1_0000_0000;

const SCHEMA_OF = SCHEMAS as Readonly<Record<number, ObjectSchema>>;
const LIMIT_OF = FRAME_LIMIT as Readonly<Record<number, number>>;

/**
 * Encodes a catalogue message. `t` must be the first own key of `msg` (every constructor in the code
 * base writes it first); peekType relies on it, so we check it rather than trust it.
 */
export function encodeMessage(msg: WireMessage): Uint8Array {
  let wide: Record<string, unknown> | undefined;
  let first = true;
  for (const key in msg) {
    if (first && key !== 't') throw new TypeError('wire messages must have `t` as their first key');
    first = false;
    const v = (msg as unknown as Record<string, unknown>)[key];
    // cbor-x writes integers ≥ 2^32 as float64, which the strict decoder refuses: write them as
    // uint64 (a BigInt). Only top-level fields are u53 in the catalogue.
    if (typeof v === 'number' && v >= U32_LIMIT && Number.isSafeInteger(v)) {
      wide ??= { ...msg };
      wide[key] = BigInt(v);
    }
  }
  return cbor.encode(wide ?? msg);
}

/** Which frames a connection accepts in its current phase. */
export type FramePhase = 'handshake' | 'authenticated';

/**
 * Frame → validated message, or a WireError. Order matters: in the handshake phase the raw length
 * (≤ 1 KiB) and a handshake type, then type and per-type size from the raw prefix, then the strict
 * CBOR scan, then cbor-x, then the exact schema of that type. Nothing reaches a handler unchecked,
 * and nothing is allocated for a frame refused before cbor-x.
 */
export function decodeFrame(frame: Uint8Array, phase: FramePhase = 'authenticated'): WireMessage {
  if (phase === 'handshake' && frame.length > PRE_AUTH_FRAME_LIMIT) {
    throw new WireError('WIRE_FRAME_TOO_LARGE', `${frame.length}-byte frame before the handshake completed`, {
      bytes: frame.length,
      limit: PRE_AUTH_FRAME_LIMIT,
    });
  }
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
  // Hello and Auth exactly once, at the start; everything else only after them.
  if ((phase === 'handshake') !== (type === MSG.hello || type === MSG.auth) && type !== MSG.reject) {
    throw new WireError(
      'WIRE_UNEXPECTED_TYPE',
      `${MESSAGE_NAME[type]} ${phase === 'handshake' ? 'before' : 'after'} the handshake`,
      {
        type,
      },
    );
  }
  if (frame.length > limit) {
    throw new WireError('WIRE_FRAME_TOO_LARGE', `${MESSAGE_NAME[type]} frame of ${frame.length} bytes`, {
      type,
      bytes: frame.length,
      limit,
    });
  }
  const problem = strictCborProblem(frame);
  if (problem !== null) {
    throw new WireError('WIRE_BAD_CBOR', `${MESSAGE_NAME[type]}: not plain CBOR: ${problem}`, { type });
  }
  let value: unknown;
  try {
    value = cbor.decode(frame);
  } catch (err) {
    throw new WireError('WIRE_BAD_CBOR', `invalid CBOR in ${MESSAGE_NAME[type]}: ${(err as Error).message}`, {
      type,
    });
  }
  const mismatch = checkObject(schema, value);
  if (mismatch !== null) {
    throw new WireError('WIRE_BAD_SCHEMA', `${MESSAGE_NAME[type]}: ${mismatch}`, { type });
  }
  return value as WireMessage;
}

/** The frame limit for a message type (for senders that build large answers such as Blocks). */
export function frameLimitOf(type: MessageType): number {
  return LIMIT_OF[type]!;
}
