#!/usr/bin/env node
// `npm run mutate -- <module> [--count] [--force] [--concurrency N]`
//
// Mutation testing of one module (issue 15) with StrykerJS: runs `stryker run stryker.config.mjs`
// for the module (MUTATE_MODULE), then folds the JSON report into one summary line of
// bench/results/mutation.json. `--count` only instruments and runs the initial test run
// (Stryker's --dryRunOnly) and records the mutant count and test time, to estimate a full run.
// `--force` ignores the committed incremental file and tests every mutant again.
//
// A plain .mjs script rather than a bench/ TypeScript file: Stryker works on the sources, so the
// tool must run without `npm run build`; the bench harness measures timings of compiled code.
//
// Equivalent mutants (no test can kill them because no behaviour changes) are recorded by hand in
// the module's `equivalent` list in bench/results/mutation.json, one reason each; this script keeps
// that list, matches it against the survivors of every run (by file, mutator, original code and
// replacement, so moved code still matches) and reports the score with and without them.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutationPaths, resolveModule } from './mutation-modules.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUMMARY = join(root, 'bench', 'results', 'mutation.json');
const STRYKER = join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');

function parseArgs(argv) {
  const args = { module: undefined, count: false, force: false, concurrency: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--count') args.count = true;
    else if (a === '--force') args.force = true;
    else if (a === '--concurrency') args.concurrency = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (args.module === undefined) args.module = a;
    else throw new Error(`one module per run; got ${args.module} and ${a}`);
  }
  if (args.module === undefined) throw new Error('usage: npm run mutate -- <module> [--count] [--force]');
  return args;
}

/** Runs Stryker, echoing its output, and resolves with the output text and the wall time. */
function runStryker(module, args) {
  const cli = [STRYKER, 'run', 'stryker.config.mjs'];
  if (args.count) cli.push('--dryRunOnly');
  if (args.force) cli.push('--force');
  const env = { ...process.env, MUTATE_MODULE: module.name };
  if (args.concurrency !== undefined) env.MUTATE_CONCURRENCY = String(args.concurrency);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cli, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`stryker exited with ${signal ?? `code ${code}`}`));
      else resolve({ output, seconds });
    });
  });
}

/** The exact source text a mutant replaces, from its 1-based line / column location. */
function originalText(source, { start, end }) {
  const lines = source.split('\n');
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  const parts = [lines[start.line - 1].slice(start.column - 1)];
  for (let l = start.line + 1; l < end.line; l++) parts.push(lines[l - 1]);
  parts.push(lines[end.line - 1].slice(0, end.column - 1));
  return parts.join('\n');
}

/** Short enough to read in a summary, exact enough to match the same mutant after code moves. */
const clip = (text) => (text.length > 160 ? `${text.slice(0, 157)}...` : text);
const mutantKey = (m) => `${m.file}\u0000${m.mutator}\u0000${m.original}\u0000${m.replacement}`;

function summarize(report) {
  const counts = {
    killed: 0,
    timeout: 0,
    survived: 0,
    noCoverage: 0,
    runtimeError: 0,
    compileError: 0,
    ignored: 0,
  };
  const key = {
    Killed: 'killed',
    Timeout: 'timeout',
    Survived: 'survived',
    NoCoverage: 'noCoverage',
    RuntimeError: 'runtimeError',
    CompileError: 'compileError',
    Ignored: 'ignored',
  };
  const undetected = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      const k = key[m.status];
      if (k) counts[k]++;
      if (m.status === 'Survived' || m.status === 'NoCoverage') {
        undetected.push({
          file,
          line: m.location.start.line,
          status: m.status,
          mutator: m.mutatorName,
          original: clip(originalText(source, m.location)),
          replacement: clip(m.replacement ?? ''),
        });
      }
    }
  }
  undetected.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { counts, undetected };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
const stripAnsi = (text) => text.replace(/\u001b\[[0-9;]*m/g, '');

const percent = (num, den) => (den === 0 ? null : Math.round((10_000 * num) / den) / 100);

function readSummary() {
  if (!existsSync(SUMMARY)) return { modules: {} };
  return JSON.parse(readFileSync(SUMMARY, 'utf8'));
}

/**
 * One line per module, so runs of different modules (and the hand-kept equivalent lists) merge
 * without conflicts and a diff shows exactly which module changed.
 */
function writeSummary(summary) {
  const names = Object.keys(summary.modules).sort();
  const lines = names.map((n) => `    ${JSON.stringify(n)}: ${JSON.stringify(summary.modules[n])}`);
  const head = Object.entries(summary)
    .filter(([k]) => k !== 'modules')
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  mkdirSync(dirname(SUMMARY), { recursive: true });
  writeFileSync(SUMMARY, `{\n${head.join('\n')}\n  "modules": {\n${lines.join(',\n')}\n  }\n}\n`);
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Tests read the shared vectors as `../shared/vectors/…` (CI checks out `shared` beside the repo).
 * Stryker runs them in a sandbox directory under `.stryker-tmp`, whose `..` is `.stryker-tmp`: a
 * link there to the real `../shared` keeps those paths working.
 */
function linkSharedBesideSandbox() {
  const shared = join(root, '..', 'shared');
  const link = join(root, '.stryker-tmp', 'shared');
  if (!existsSync(shared)) return;
  mkdirSync(join(root, '.stryker-tmp'), { recursive: true });
  try {
    lstatSync(link);
    return; // already there
  } catch {
    symlinkSync(shared, link, 'dir');
  }
}

const strykerVersion = () => createRequire(import.meta.url)('@stryker-mutator/core/package.json').version;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const module = resolveModule(args.module);
  const paths = mutationPaths(module.slug);
  mkdirSync(join(root, dirname(paths.incrementalFile)), { recursive: true });
  linkSharedBesideSandbox();
  const run = await runStryker(module, args);
  const minutes = Math.round(run.seconds / 6) / 10;
  const summary = readSummary();
  summary.about ??=
    'npm run mutate -- <module> (scripts/mutate.mjs); one line per module; score = (killed + timeout) / ' +
    '(killed + timeout + survived + noCoverage); scoreWithoutEquivalent leaves out the hand-checked ' +
    '`equivalent` mutants; `estimate` lines come from --count';
  const previous = summary.modules[module.name] ?? {};
  const context = {
    date: new Date().toISOString().slice(0, 10),
    commit: gitCommit(),
    node: process.version,
    stryker: strykerVersion(),
    concurrency: Number(args.concurrency ?? process.env.MUTATE_CONCURRENCY ?? 1),
  };

  if (args.count) {
    const output = stripAnsi(run.output);
    const mutants = /Instrumented \d+ source file\(s\) with (\d+) mutant\(s\)/.exec(output);
    const tests = /Initial test run succeeded\. Ran (\d+) tests in ([^(]+)\(net ([\d.]+) ms/.exec(output);
    if (!mutants || !tests) throw new Error('could not read the mutant count or the initial test run');
    summary.modules[module.name] = {
      ...previous,
      estimate: {
        mutants: Number(mutants[1]),
        tests: Number(tests[1]),
        initialTestRunNetMs: Math.round(Number(tests[3])),
        countRunMinutes: minutes,
        ...context,
      },
    };
    writeSummary(summary);
    console.log(
      `\n${module.name}: ${mutants[1]} mutants, ${tests[1]} tests (net ${Math.round(Number(tests[3]))} ms)`,
    );
    return;
  }

  const report = JSON.parse(readFileSync(join(root, paths.jsonReport), 'utf8'));
  const { counts, undetected } = summarize(report);
  // Keep the hand-kept equivalent list; each entry must still match an undetected mutant.
  const equivalent = previous.equivalent ?? [];
  const open = new Map();
  for (const m of undetected) open.set(mutantKey(m), [...(open.get(mutantKey(m)) ?? []), m]);
  const stale = [];
  for (const e of equivalent) {
    const candidates = open.get(mutantKey(e));
    const match = candidates?.shift();
    if (match) e.line = match.line;
    else stale.push(e);
  }
  const survivors = [...open.values()].flat();
  // Incremental runs reuse earlier results; keep the duration of the last run that tested all.
  const reuse = /(\d+) of (\d+) mutant result\(s\) are reused/.exec(stripAnsi(run.output));
  const reused = reuse ? Number(reuse[1]) : 0;
  const detected = counts.killed + counts.timeout;
  const valid = detected + counts.survived + counts.noCoverage;
  const matchedEquivalent = equivalent.length - stale.length;
  const line = {
    score: percent(detected, valid),
    scoreWithoutEquivalent: percent(detected, valid - matchedEquivalent),
    target: module.target,
    mutants: valid + counts.runtimeError + counts.compileError + counts.ignored,
    ...counts,
    minutes,
    reused,
    fullRunMinutes: reused === 0 ? minutes : (previous.fullRunMinutes ?? null),
    command: `nice -n 10 npm run mutate -- ${module.name}${args.force ? ' --force' : ''}`,
    ...context,
    ...(previous.estimate ? { estimate: previous.estimate } : {}),
    equivalent,
    survivors,
  };
  summary.modules[module.name] = line;
  writeSummary(summary);

  console.log(
    `\n${module.name}: score ${line.score} % (${line.scoreWithoutEquivalent} % without ${matchedEquivalent} ` +
      `equivalent), target ${module.target ?? 'none'} %, ${survivors.length} survivor(s) to kill or ` +
      `judge equivalent, ${minutes} min`,
  );
  for (const s of survivors) {
    console.log(`  ${s.status} ${s.file}:${s.line} ${s.mutator}: ${s.original} -> ${s.replacement}`);
  }
  for (const e of stale) console.log(`  stale equivalent entry (no such survivor now): ${JSON.stringify(e)}`);
}

main().catch((err) => {
  console.error(`mutate: ${err.message}`);
  process.exitCode = 1;
});
