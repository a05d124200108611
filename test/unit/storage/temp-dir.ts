import { tmpdir } from 'node:os';
import { tempDirIn } from '../../../src/storage/testing/temp-dir.js';

/** A fresh directory under the OS temp dir, and a cleanup that removes it. */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  return tempDirIn(tmpdir(), prefix);
}
