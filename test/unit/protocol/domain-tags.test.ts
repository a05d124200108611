import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TAG } from '../../../src/protocol/domain-tags.js';
import { packageRoot } from '../../../src/util/package-root.js';

/** name → tag text, from the "Domain tags" table of docs/protocol.md (rows like `| a / b | `x` / `y` | …`). */
function documentedTags(): Map<string, string> {
  const doc = readFileSync(join(packageRoot(), 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(
    doc.indexOf('## Domain tags'),
    doc.indexOf('```vector', doc.indexOf('## Domain tags')),
  );
  const out = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[2]!.startsWith('`')) continue;
    const names = cells[1]!.split(/[,/]/).map((n) => n.trim());
    const tags = [...cells[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    expect(tags.length, line).toBe(names.length);
    for (const [i, n] of names.entries()) out.set(n, tags[i]!);
  }
  return out;
}

describe('domain tags', () => {
  it('every tag is its documented ASCII text plus one NUL, and the doc lists every tag', () => {
    const documented = documentedTags();
    expect([...documented.keys()].sort()).toEqual(Object.keys(TAG).sort());
    for (const [name, text] of documented) {
      const tag = TAG[name as keyof typeof TAG];
      expect(Buffer.from(tag).toString('latin1'), name).toBe(`${text}\0`);
      expect(text, name).toMatch(/^TIME:[a-z]+:\d+$/);
    }
  });

  it('are pairwise distinct and none is a prefix of another (no preimage of one kind reads as another)', () => {
    const tags = Object.values(TAG).map((t) => Buffer.from(t));
    for (const [i, a] of tags.entries())
      for (const [j, b] of tags.entries()) {
        if (i === j) continue;
        expect(a.equals(b)).toBe(false);
        expect(b.subarray(0, a.length).equals(a)).toBe(false);
      }
  });
});
