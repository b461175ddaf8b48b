#!/usr/bin/env node
// The project's test command: runs every *.test.ts (unit + integration against real kernels and servers)
// and then the browser end-to-end suite, with Node's own test runner and tsx for TypeScript.
//   node scripts/test.mjs            all suites
//   node scripts/test.mjs --unit     everything but e2e/
//   node scripts/test.mjs --e2e      only e2e/
//   node scripts/test.mjs FILE...    just those files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const explicit = args.filter((a) => !a.startsWith('--'));

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(relative(root, full));
  }
  return out;
}

let files = explicit;
if (files.length === 0) {
  const unit = ['provisioners', 'electron', 'renderer', 'scripts'].flatMap((d) => findTests(join(root, d)));
  const e2e = findTests(join(root, 'e2e'));
  files = flags.has('--unit') ? unit : flags.has('--e2e') ? e2e : [...unit, ...e2e];
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', cwd: root, env },
);
process.exit(res.status ?? 1);
