#!/usr/bin/env node
// `npm start`: builds what is missing or stale, then launches the desktop app in Electron. Where no
// Electron binary can be had (no network, blocked download), it says so in one line and starts the same app
// in browser mode itself (`serve`, with any flags given), prints its address and opens the system browser
// where there is one. GATEWAY_DESKTOP_NO_BROWSER=1 skips opening the browser.
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
  // The first command always runs the app: without the window, the same UI opens in the browser.
  console.log(
    `No Electron binary on this machine${where}: starting Gateway Desktop in browser mode instead (npm run serve).`,
  );
  const serve = spawn(process.execPath, ['--import', 'tsx', join(root, 'electron', 'serve.ts'), ...extra], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
    env: process.env,
  });
  let opened = process.env.GATEWAY_DESKTOP_NO_BROWSER === '1';
  serve.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (opened) return;
    const m = /https?:\/\/127\.0\.0\.1:\d+\/\?token=[^\s]+/.exec(chunk.toString());
    if (m) {
      opened = true;
      openBrowser(m[0]);
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => serve.kill(sig));
  serve.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  runElectron();
}

/** Opens the address in the system browser where there is one (a desktop session); silent otherwise. */
function openBrowser(url) {
  const linuxDesktop = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  const cmd =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : linuxDesktop
          ? ['xdg-open', [url]]
          : null;
  if (!cmd) {
    console.log('Open the address above in your browser.');
    return;
  }
  const p = spawn(cmd[0], cmd[1], { stdio: 'ignore', detached: true });
  p.on('error', () => console.log('Open the address above in your browser.'));
  p.unref();
}

function runElectron() {
  const child = spawn(electron.path, [root, ...extra], { cwd: root, stdio: 'inherit', env: process.env });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
