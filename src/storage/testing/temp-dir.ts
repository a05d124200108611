import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** FOR TESTS AND BENCHMARKS: a fresh directory under `parent`, and a cleanup that removes it. */
export function tempDirIn(parent: string, prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(parent, `timecoin-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
