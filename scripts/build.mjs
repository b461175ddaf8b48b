#!/usr/bin/env node
// Builds what the app runs:
//   dist/renderer/            the React UI (vite build of renderer/)
//   dist/electron/main.cjs    the Electron main process (esbuild bundle; native addons stay external)
//   dist/electron/preload.cjs the preload, one CommonJS file that a sandboxed renderer can load
//   dist/launchers/           the kernel-side launchers (provisioners/launchers/*.py), found by main.cjs as
//                             ../launchers/ (unpacked from the asar: Python runs them)
//
//   node scripts/build.mjs                 build everything
//   node scripts/build.mjs --renderer      only the renderer
//   node scripts/build.mjs --electron      only main + preload
//   node scripts/build.mjs --if-needed     skip targets whose outputs are newer than their sources
//
// Builds take a lock (dist/.build.lock) so parallel test processes never write the same files at once.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  renameSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const args = new Set(process.argv.slice(2));
const onlyRenderer = args.has('--renderer');
const onlyElectron = args.has('--electron');
const ifNeeded = args.has('--if-needed');
const quiet = args.has('--quiet');

const log = (...a) => {
  if (!quiet) console.log('[build]', ...a);
};

function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) {
        if (name === 'node_modules' || name === 'dist' || name === 'test' || name.startsWith('.')) continue;
        visit(join(p, name));
      }
    } else if (!/\.test\.tsx?$/.test(p)) newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

function outputTime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

export const RENDERER_SOURCES = [
  'renderer',
  'electron/host-api/contract.ts',
  'electron/host-api/models.ts',
  'scripts/build.mjs',
].map((p) => join(root, p));
const ELECTRON_SOURCES = ['electron', 'provisioners', 'package.json', 'scripts/build.mjs'].map((p) =>
  join(root, p),
);
const RENDERER_STAMP = join(dist, 'renderer', 'index.html');
const MAIN_OUT = join(dist, 'electron', 'main.cjs');
const PRELOAD_OUT = join(dist, 'electron', 'preload.cjs');

export function rendererIsStale() {
  return newestMtime(RENDERER_SOURCES) > outputTime(RENDERER_STAMP);
}

function electronIsStale() {
  return newestMtime(ELECTRON_SOURCES) > Math.min(outputTime(MAIN_OUT), outputTime(PRELOAD_OUT));
}

async function withLock(fn) {
  mkdirSync(dist, { recursive: true });
  const lock = join(dist, '.build.lock');
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let stale = false;
      try {
        const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
        process.kill(pid, 0);
      } catch (err) {
        stale = err?.code === 'ESRCH' || statSync(lock).mtimeMs < Date.now() - 300_000;
      }
      if (stale) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another build holds ${lock}; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function buildRenderer() {
  const { build } = await import('vite');
  const out = join(dist, 'renderer');
  const tmp = join(dist, `.renderer-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  await build({
    configFile: join(root, 'renderer', 'vite.config.mjs'),
    logLevel: quiet ? 'warn' : 'info',
    build: { outDir: tmp, emptyOutDir: true },
  });
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  log('renderer ->', relative(root, out));
}

async function buildElectron() {
  const esbuild = await import('esbuild');
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: quiet ? 'warning' : 'info',
    // Native addons stay in node_modules (electron-builder unpacks *.node from the asar): zeromq's N-API
    // addon, and ssh2 with its optional crypto binding and cpu-features (ssh2 falls back to JS where they do not
    // load). electron is provided by the runtime; bufferutil/utf-8-validate are ws' optional speedups.
    external: ['electron', 'zeromq', 'ssh2', 'cpu-features', 'bufferutil', 'utf-8-validate'],
    define: { 'import.meta.url': '__gd_import_meta_url' },
    banner: { js: "const __gd_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  };
  mkdirSync(join(dist, 'electron'), { recursive: true });
  await esbuild.build({ ...common, entryPoints: [join(root, 'electron', 'main.ts')], outfile: MAIN_OUT });
  // The sandboxed preload may only require('electron') (and a few built-ins): everything else is bundled.
  const { define: _define, banner: _banner, ...preloadOpts } = common;
  await esbuild.build({
    ...preloadOpts,
    entryPoints: [join(root, 'electron', 'preload.ts')],
    outfile: PRELOAD_OUT,
    target: 'chrome130',
  });
  const launchers = join(dist, 'launchers');
  mkdirSync(launchers, { recursive: true });
  for (const name of readdirSync(join(root, 'provisioners', 'launchers'))) {
    if (name.endsWith('.py'))
      copyFileSync(join(root, 'provisioners', 'launchers', name), join(launchers, name));
  }
  log('electron ->', relative(root, MAIN_OUT), relative(root, PRELOAD_OUT), relative(root, launchers));
}

export async function main() {
  const doRenderer = !onlyElectron || onlyRenderer;
  const doElectron = !onlyRenderer || onlyElectron;
  await withLock(async () => {
    if (doRenderer) {
      if (ifNeeded && !rendererIsStale()) log('renderer is up to date');
      else await buildRenderer();
    }
    if (doElectron) {
      if (ifNeeded && !electronIsStale()) log('main + preload are up to date');
      else await buildElectron();
    }
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error('[build] failed:', err?.message ?? err);
    process.exit(1);
  });
}
