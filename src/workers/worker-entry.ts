/**
 * The piscina worker module. Its default export is a Promise of the task handler (piscina's
 * "async load" pattern): the WASM module is instantiated once per thread before the first task,
 * then every task is dispatched by name to the handler maps of each area.
 */
import { instantiateWasm } from '../crypto/wasm-instance.js';
import { cryptoHandlers } from './handlers/crypto-handlers.js';
import { vdfHandlers } from './handlers/vdf-handlers.js';
import { UnknownTaskError } from './pool-errors.js';
import type { TaskHandler, WorkerTask } from './task.js';

function mergeHandlers(): ReadonlyMap<string, TaskHandler> {
  const all = new Map<string, TaskHandler>();
  for (const set of [cryptoHandlers, vdfHandlers]) {
    for (const [name, handler] of Object.entries(set)) {
      if (all.has(name)) throw new Error(`duplicate worker task name ${name}`);
      all.set(name, handler);
    }
  }
  return all;
}

async function load(): Promise<(task: WorkerTask) => unknown> {
  const wasm = instantiateWasm('release');
  const handlers = mergeHandlers();
  return (task: WorkerTask) => {
    const handler = handlers.get(task.name);
    if (!handler) throw new UnknownTaskError(task.name);
    return handler(task.payload, wasm);
  };
}

export default load();
