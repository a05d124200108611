import { describe, expect, it } from 'vitest';
import {
  compileWasmFile,
  EXPECTED_ABI_VERSION,
  instantiateModule,
  instantiateWasm,
  wasmBuildPath,
  wasmModule,
} from '../../../src/crypto/wasm-instance.js';

/**
 * The smallest module with our ABI export: `abiVersion() -> i32` returning `version`
 * (hand-assembled: type, function, export and code sections).
 */
function moduleReportingAbi(version: number): WebAssembly.Module {
  const name = [...Buffer.from('abiVersion')];
  const exportSection = [1, name.length, ...name, 0x00, 0];
  return new WebAssembly.Module(
    Uint8Array.from([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f], // type 0: () -> i32
      ...[0x03, 0x02, 0x01, 0x00], // function 0 has type 0
      ...[0x07, exportSection.length, ...exportSection],
      ...[0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, version, 0x0b], // i32.const version; end
    ]),
  );
}

describe('wasm build pipeline', () => {
  it.each(['debug', 'release'] as const)('%s build loads and reports the expected ABI', (target) => {
    const wasm = instantiateWasm(target);
    expect(wasm.abiVersion()).toBe(EXPECTED_ABI_VERSION);
    expect(wasm.memory).toBeInstanceOf(WebAssembly.Memory);
    expect(wasmBuildPath(target)).toMatch(new RegExp(`build/wasm/${target}\\.wasm$`));
  });

  it('instantiates the release build when no target is named', () => {
    const wasm = instantiateWasm();
    expect(wasm.abiVersion()).toBe(EXPECTED_ABI_VERSION);
    // Same exports as the release module's, from the cached release compilation.
    expect(WebAssembly.Module.exports(wasmModule('release')).map((e) => e.name)).toContain(
      'ed25519VerifyBatch',
    );
  });

  it('compiles each target once per thread', () => {
    expect(wasmModule('release')).toBe(wasmModule('release'));
    expect(wasmModule('debug')).not.toBe(wasmModule('release'));
  });

  it('says how to fix a missing build', () => {
    expect(() => compileWasmFile('/nonexistent/release.wasm')).toThrow(
      'WASM build missing at /nonexistent/release.wasm: run `npm run build`',
    );
  });

  it('refuses a module built for another ABI (a stale build) and accepts its own', () => {
    expect(instantiateModule(moduleReportingAbi(EXPECTED_ABI_VERSION)).abiVersion()).toBe(
      EXPECTED_ABI_VERSION,
    );
    expect(() => instantiateModule(moduleReportingAbi(EXPECTED_ABI_VERSION + 1))).toThrow(
      `WASM ABI ${EXPECTED_ABI_VERSION + 1} != expected ${EXPECTED_ABI_VERSION}: stale build, run \`npm run build\``,
    );
  });

  it('turns an abort inside WASM (an allocation too large) into an Error naming its place', () => {
    const wasm = instantiateWasm('release');
    expect(() => wasm.ioReserve(0x7fff_ffff)).toThrow(/^WASM abort at [1-9]\d*:[1-9]\d*$/);
  });
});
