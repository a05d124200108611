import { CodedError } from '../util/coded-error.js';

/** A task name no handler map defines (a coordinator/worker version mismatch or a typo). */
export class UnknownTaskError extends CodedError<'UNKNOWN_TASK'> {
  constructor(name: string) {
    super('UNKNOWN_TASK', `no worker handler for task ${JSON.stringify(name)}`, { name });
  }
}

/** The compiled worker module is missing: the pool runs dist/ JavaScript, so build first. */
export class WorkerBuildMissingError extends CodedError<'WORKER_BUILD_MISSING'> {
  constructor(path: string) {
    super('WORKER_BUILD_MISSING', `compiled worker not found at ${path}: run \`npm run build\``, { path });
  }
}
