// The WASM ABI: the only file with exports. Each area re-exports its functions here; JS reads the
// list of exports in src/crypto/wasm-instance.ts. No GC objects cross the boundary: functions take
// and return numbers and offsets into linear memory.

/** Bumped whenever an export's meaning changes, so a stale build/ is caught at load time. */
export const ABI_VERSION: u32 = 1;

export function abiVersion(): u32 {
  return ABI_VERSION;
}
