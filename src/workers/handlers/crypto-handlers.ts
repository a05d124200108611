import { move } from 'piscina';
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
};
