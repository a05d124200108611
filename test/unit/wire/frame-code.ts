import { decodeFrame, type FramePhase } from '../../../src/wire/codec.js';
import { WireError } from '../../../src/wire/wire-error.js';

/** The WireError code decoding `frame` in `phase` refuses it with, or 'OK'; any other throw escapes. */
export function codeOf(frame: Uint8Array, phase: FramePhase = 'authenticated'): string {
  try {
    decodeFrame(frame, phase);
    return 'OK';
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
}

/** Bytes from hex text (spaces and line breaks ignored). */
export const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** The parts, one after the other. */
export const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
