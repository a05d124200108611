import type { WasmExports } from '../crypto/wasm-instance.js';

/** What the coordinator sends a worker: a handler name and its payload (structured-clonable). */
export interface WorkerTask {
  readonly name: string;
  readonly payload: unknown;
}

/**
 * A task handler runs inside a worker thread with that thread's own WASM instance (instantiated
 * once when the worker loads, so no task pays for compilation or instantiation). Return a value,
 * or `Piscina.move(buffer)` to transfer a result buffer instead of copying it.
 */
export type TaskHandler = (payload: unknown, wasm: WasmExports) => unknown;

/** A named set of handlers; each area (crypto, VDF) exports one and worker-entry merges them. */
export type TaskHandlers = Readonly<Record<string, TaskHandler>>;
