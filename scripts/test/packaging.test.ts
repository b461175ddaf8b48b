// Packaging cannot run here (electron-builder downloads Electron and its tools), so this checks the config
// with electron-builder's own loader and schema validator, and checks that what it would pack exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId?: string;
  productName?: string;
  files?: (string | { filter?: string[] })[];
  npmRebuild?: boolean;
  asarUnpack?: string[];
  icon?: string;
  directories?: { output?: string; buildResources?: string };
  linux?: { target?: (string | { target: string })[]; icon?: string };
  mac?: { target?: (string | { target: string })[] };
  win?: { target?: (string | { target: string })[] };
}

function targets(t: (string | { target: string })[] | undefined): string[] {
  return (t ?? []).map((x) => (typeof x === 'string' ? x : x.target));
}

/** Width/height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('electron-builder configuration', () => {
  let config: BuilderConfig;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    main: string;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  before(async () => {
    const cfgMod = require('app-builder-lib/out/util/config/config') as {
      getConfig(dir: string, path: string | null, opts: null): Promise<BuilderConfig>;
      validateConfiguration(c: BuilderConfig, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    config = await cfgMod.getConfig(root, null, null);
    await cfgMod.validateConfiguration(config, new DebugLogger(false)); // throws on schema errors
  });

  test('required fields and targets for Linux, macOS and Windows', () => {
    assert.match(config.appId ?? '', /^[a-z0-9.-]+$/);
    assert.equal(config.productName, 'Gateway Desktop');
    assert.deepEqual(targets(config.linux?.target).sort(), ['AppImage', 'deb']);
    assert.deepEqual(targets(config.mac?.target), ['dmg']);
    assert.deepEqual(targets(config.win?.target), ['nsis']);
    assert.equal(config.npmRebuild, false, 'zeromq N-API prebuilds need no rebuild');
    assert.ok(config.asarUnpack?.includes('**/*.node'), 'native addons are unpacked from the asar');
    assert.equal(pkg.scripts.dist, 'npm run build && electron-builder');
    assert.ok(pkg.devDependencies.electron, 'electron must be a devDependency for electron-builder');
    assert.ok(!pkg.dependencies.electron);
  });

  test('the files list matches the build outputs (main, preload, renderer)', () => {
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-needed', '--quiet'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(b.status, 0, b.stderr);
    // getConfig normalises `files` into [{ filter: [...] }].
    const files = (config.files ?? []).flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? [])));
    assert.equal(pkg.main, 'dist/electron/main.cjs');
    for (const f of files.filter((p) => !p.startsWith('!'))) {
      const base = f.replace(/\/\*\*$/, '');
      assert.ok(existsSync(join(root, base)), `${f} matches a built file`);
    }
    assert.ok(files.includes(pkg.main), 'package.json main is packed');
    assert.ok(files.includes('dist/electron/preload.cjs'), 'the preload main.ts loads is packed');
    assert.ok(files.includes('dist/renderer/**'));
    assert.ok(existsSync(join(root, 'dist', 'renderer', 'index.html')));
    // The kernel watchdog: main.cjs finds it as ../launchers/, outside the asar so that Python can run it.
    assert.ok(files.includes('dist/launchers/**'));
    assert.ok(config.asarUnpack?.includes('dist/launchers/**'), 'launchers are unpacked from the asar');
    assert.ok(existsSync(join(root, 'dist', 'launchers', 'local_watchdog.py')));
    const main = readFileSync(join(root, 'dist', 'electron', 'main.cjs'), 'utf8');
    assert.match(main, /preload\.cjs/, 'main loads preload.cjs next to it');
    assert.match(main, /require\("electron"\)/, 'electron stays external');
    assert.match(main, /require\("zeromq"\)/, 'the native zeromq addon stays external (node_modules)');
    const preload = readFileSync(join(root, 'dist', 'electron', 'preload.cjs'), 'utf8');
    const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(requires)], ['electron'], 'a sandboxed preload may only require electron');
  });

  test('icons exist: a 512x512 icon.png and a Linux icon set', () => {
    const icon = join(root, config.icon ?? '');
    assert.deepEqual(pngSize(icon), { width: 512, height: 512 });
    const dir = join(root, config.linux?.icon ?? '');
    assert.ok(statSync(dir).isDirectory());
    const pngs = readdirSync(dir).filter((f) => f.endsWith('.png'));
    assert.ok(pngs.length >= 5);
    for (const f of pngs) {
      const m = /^(\d+)x(\d+)\.png$/.exec(f);
      assert.ok(m, `${f} is named NxN.png`);
      assert.deepEqual(pngSize(join(dir, f)), { width: Number(m[1]), height: Number(m[2]) });
    }
  });
});
