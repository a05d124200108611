import { ed25519 } from '@noble/curves/ed25519.js';
import { move } from 'piscina';
import {
  decodeSignatureBatch,
  KEY_BYTES,
  MALFORMED,
  PAIR_BYTES,
} from '../../crypto/signature-batch-codec.js';
import type { TaskHandlers } from '../task.js';

/** Crypto tasks run by the pool's workers: names are `crypto.*`. */
export const cryptoHandlers: TaskHandlers = {
  /** Liveness and build check: the worker's WASM ABI version. */
  'crypto.abiVersion': (_payload, wasm) => wasm.abiVersion(),

  /** One encoded signature batch in (see signature-batch-codec.ts), one byte 0/1 per item out. */
  'crypto.verifyBatch': (payload) => {
    // Interim: @noble in the worker until the WASM verifier lands.
    const batch = decodeSignatureBatch(payload as Uint8Array);
    const out = new Uint8Array(batch.count);
    let msgAt = 0;
    for (let i = 0; i < batch.count; i++) {
      const len = batch.lengths[i] as number;
      if (len === MALFORMED) continue;
      const pair = batch.pairs.subarray(i * PAIR_BYTES, (i + 1) * PAIR_BYTES);
      const msg = batch.messages.subarray(msgAt, msgAt + len);
      msgAt += len;
      try {
        out[i] = ed25519.verify(pair.subarray(KEY_BYTES), msg, pair.subarray(0, KEY_BYTES)) ? 1 : 0;
      } catch {
        out[i] = 0;
      }
    }
    return move(out.buffer);
  },
};
