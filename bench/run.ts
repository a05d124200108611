/**
 * `npm run bench -- <suite> [<suite>…]` runs bench/suites/<suite>.bench.ts and writes
 * bench/results/<suite>.json. With no argument it lists the suites.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeProcess } from '../src/devnet/node-process.js';

const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const available = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.bench.js'))
  .map((f) => f.slice(0, -'.bench.js'.length))
  .sort();

const wanted = process.argv.slice(2);
if (wanted.length === 0) {
  console.log(`usage: npm run bench -- <suite>…   suites: ${available.join(', ')}`);
  process.exit(0);
}
for (const name of wanted) {
  if (!available.includes(name)) {
    console.error(`unknown bench suite ${JSON.stringify(name)}; suites: ${available.join(', ')}`);
    process.exit(2);
  }
}
try {
  for (const name of wanted) {
    console.log(`# ${name}`);
    const mod = (await import(join(suitesDir, `${name}.bench.js`))) as { run(): Promise<void> };
    await mod.run();
  }
} catch (err) {
  // A suite that dies must not leave its node processes running (they would load the machine for
  // every later run): kill what it started, then fail.
  console.error(err);
  await NodeProcess.killAll();
  process.exit(1);
}
// Every suite has written its results: exit even if one left a handle open (a hung bench would hold
// the machine-wide e2e lock that the multi-process tests and other benches wait on).
process.exit(0);
