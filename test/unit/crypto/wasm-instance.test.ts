import { describe, expect, it } from 'vitest';
import { EXPECTED_ABI_VERSION, instantiateWasm } from '../../../src/crypto/wasm-instance.js';

describe('wasm build pipeline', () => {
  it.each(['debug', 'release'] as const)('%s build loads and reports the expected ABI', (target) => {
    const wasm = instantiateWasm(target);
    expect(wasm.abiVersion()).toBe(EXPECTED_ABI_VERSION);
    expect(wasm.memory).toBeInstanceOf(WebAssembly.Memory);
  });
});
