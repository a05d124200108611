import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

/**
 * The `name: value` lines of docs/protocol.md's ```vector blocks, so tests check the documented
 * vectors themselves and the doc cannot drift from the code. `vector(name)` throws if the doc
 * lacks one.
 */
export function docVectors(): { all: ReadonlyMap<string, string>; vector(name: string): string } {
  const doc = readFileSync(join(packageRoot(), 'docs', 'protocol.md'), 'utf8');
  const all = new Map<string, string>();
  for (const block of doc.matchAll(/```vector\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.trim().split('\n')) {
      const m = /^([\w.]+):\s*(\S+)$/.exec(line.trim());
      if (!m) throw new Error(`docs/protocol.md: bad vector line: ${line}`);
      all.set(m[1]!, m[2]!);
    }
  }
  return {
    all,
    vector(name: string): string {
      const value = all.get(name);
      if (value === undefined) throw new Error(`docs/protocol.md has no vector ${name}`);
      return value;
    },
  };
}
