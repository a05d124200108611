import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../util/package-root.js';
import { WorkerBuildMissingError } from './pool-errors.js';

/**
 * The one place that knows where the compiled worker lives. Worker threads need JavaScript, so
 * even when the coordinator runs from TypeScript sources (vitest) the worker is dist/'s build.
 */
export function workerEntryUrl(): string {
  const path = join(packageRoot(), 'dist', 'src', 'workers', 'worker-entry.js');
  if (!existsSync(path)) throw new WorkerBuildMissingError(path);
  return pathToFileURL(path).href;
}
