import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';

/** Every src/ file with the module specifiers it imports (static and dynamic). */
function sourceImports(): { file: string; imports: string[] }[] {
  const root = join(packageRoot(), 'src');
  const out: { file: string; imports: string[] }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const imports = [...text.matchAll(/(?:from\s+|\bimport\s*\(?\s*)'([^']+)'/g)].map((m) => m[1]!);
        out.push({ file: relative(root, path), imports });
      }
    }
  };
  walk(root);
  return out;
}

const files = sourceImports();
const importersOf = (test: (spec: string) => boolean) =>
  files.filter((f) => f.imports.some(test)).map((f) => f.file);

describe('module boundaries (docs/architecture.md)', () => {
  it('reads a real source tree', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.find((f) => f.file === 'ledger/ledger-service.ts')?.imports).toContain('./mempool.js');
  });

  it('only src/storage imports lmdb', () => {
    expect(importersOf((s) => s === 'lmdb').every((f) => f.startsWith('storage/'))).toBe(true);
  });

  it('only src/workers imports piscina', () => {
    expect(importersOf((s) => s === 'piscina').every((f) => f.startsWith('workers/'))).toBe(true);
  });

  it('only src/p2p imports uWebSockets.js', () => {
    expect(
      importersOf((s) => s.includes('@based/uws') || s.includes('uwebsockets')).every((f) =>
        f.startsWith('p2p/'),
      ),
    ).toBe(true);
  });

  it('the Snowball engine imports nothing with a clock, I/O or native code', () => {
    const engine = files.filter((f) => f.file.startsWith('consensus/snowball/'));
    expect(engine.length).toBeGreaterThan(3);
    for (const f of engine) {
      for (const spec of f.imports) {
        // Relative imports only: no package, no node: module (clock, fs, net, crypto).
        expect(spec.startsWith('.'), `${f.file} imports ${spec}`).toBe(true);
        expect(/\/(storage|p2p|workers|wire|cli)\//.test(spec), `${f.file} imports ${spec}`).toBe(false);
      }
    }
  });

  it('protocol and params depend on nothing above them', () => {
    for (const f of files.filter((x) => x.file.startsWith('protocol/') || x.file.startsWith('params/'))) {
      for (const spec of f.imports) {
        expect(
          /\/(ledger|chain|storage|p2p|workers|wire|cli|consensus|sim|vdf|beacon)\//.test(spec),
          `${f.file} imports ${spec}`,
        ).toBe(false);
      }
    }
  });
});
