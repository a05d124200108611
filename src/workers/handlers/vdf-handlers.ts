import type { TaskHandlers } from '../task.js';

/**
 * VDF tasks (issue 4: vdfEvaluate / vdfProve / vdfVerify). Filled in by the VDF area; names must
 * not collide with the crypto handlers (prefix them with `vdf.`).
 */
export const vdfHandlers: TaskHandlers = {};
