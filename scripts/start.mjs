#!/usr/bin/env node
// `npm start`: builds what is missing or stale, then launches the desktop app in Electron. Where no
// Electron binary can be had (no network, blocked download), says so in one paragraph and points to
// the browser mode instead of printing a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELECTRON_PKG, locateElectron } from './electron-path.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-needed'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

let electron = locateElectron();
if (
  !electron.exists &&
  !process.env.ELECTRON_OVERRIDE_DIST_PATH &&
  existsSync(join(ELECTRON_PKG, 'install.js'))
) {
  // One attempt to fetch it now (Electron downloads lazily; postinstall may have been skipped).
  console.log('Fetching the Electron binary (first start)…');
  spawnSync(process.execPath, [join(ELECTRON_PKG, 'install.js')], {
    cwd: ELECTRON_PKG,
    stdio: ['ignore', 'ignore', 'ignore'],
    timeout: Number(process.env.GATEWAY_DESKTOP_ELECTRON_FETCH_TIMEOUT_MS || 120_000),
  });
  electron = locateElectron();
}

if (!electron.exists) {
  const where =
    electron.source === 'ELECTRON_OVERRIDE_DIST_PATH'
      ? ` (ELECTRON_OVERRIDE_DIST_PATH points at ${electron.path})`
      : '';
  console.error(
    [
      '',
      `Gateway Desktop cannot open its window: the Electron binary is not installed on this machine${where},`,
      'and it could not be downloaded (no network, or the download from GitHub is blocked). Everything else',
      'works without it: run `npm run serve` and open the address it prints (http://127.0.0.1:PORT/?token=…)',
      'in your browser to use the same app. To get the desktop window later, connect to the internet and run',
      '`node node_modules/electron/install.js`, or point ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const child = spawn(electron.path, [root, ...extra], { cwd: root, stdio: 'inherit', env: process.env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
