import { move } from 'piscina';
import { nodeCryptoVerify } from '../../crypto/node-crypto-verify.js';
import {
  decodeSignatureBatch,
  KEY_BYTES,
  MALFORMED,
  PAIR_BYTES,
} from '../../crypto/signature-batch-codec.js';
import { WasmCrypto } from '../../crypto/wasm-crypto.js';
import type { WasmExports } from '../../crypto/wasm-instance.js';
import type { TaskHandlers } from '../task.js';

// One WasmCrypto (views + I/O region) per worker's WASM instance.
const wrappers = new WeakMap<WasmExports, WasmCrypto>();
function cryptoFor(wasm: WasmExports): WasmCrypto {
  let c = wrappers.get(wasm);
  if (!c) {
    c = new WasmCrypto(wasm);
    wrappers.set(wasm, c);
  }
  return c;
}

/** Crypto tasks run by the pool's workers: names are `crypto.*`. */
export const cryptoHandlers: TaskHandlers = {
  /** Liveness and build check: the worker's WASM ABI version. */
  'crypto.abiVersion': (_payload, wasm) => wasm.abiVersion(),

  /**
   * One encoded signature batch in (signature-batch-codec.ts), one byte per item out (1 valid),
   * transferred back rather than copied.
   */
  'crypto.verifyBatch': (payload, wasm) => {
    const answers = cryptoFor(wasm).verifyEncodedBatch(payload as Uint8Array);
    return move(answers.buffer as ArrayBuffer);
  },

  /** RFC 6962 merkle root of packed 32-byte txids; the 32-byte root is transferred back. */
  'crypto.merkleRoot': (payload, wasm) => {
    const root = cryptoFor(wasm).merkleRootPacked(payload as Uint8Array);
    return move(root.buffer as ArrayBuffer);
  },

  /** Both roots of a block body (leaf-roots-codec.ts); the 64 bytes are transferred back. */
  'crypto.leafRoots': (payload, wasm) => {
    const roots = cryptoFor(wasm).leafRootsPacked(payload as Uint8Array);
    return move(roots.buffer as ArrayBuffer);
  },

  /**
   * The same batch through OpenSSL one signature at a time: the native anchor of the pool
   * benchmark (same pool, batcher and transfer), not a consensus verifier.
   */
  'crypto.verifyBatchNodeCrypto': (payload) => {
    const batch = decodeSignatureBatch(payload as Uint8Array);
    const out = new Uint8Array(batch.count);
    let msgAt = 0;
    for (let i = 0; i < batch.count; i++) {
      const len = batch.lengths[i] as number;
      if (len === MALFORMED) continue;
      const pair = batch.pairs.subarray(i * PAIR_BYTES, (i + 1) * PAIR_BYTES);
      const ok = nodeCryptoVerify(
        pair.subarray(0, KEY_BYTES),
        batch.messages.subarray(msgAt, msgAt + len),
        pair.subarray(KEY_BYTES),
      );
      out[i] = ok ? 1 : 0;
      msgAt += len;
    }
    return move(out.buffer);
  },
};
