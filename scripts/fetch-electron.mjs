#!/usr/bin/env node
// postinstall: fetch the Electron binary now (Electron >= 42 would otherwise download it lazily on the
// first `npm start`). Never fails `npm install`: without network (or with the download blocked) it prints
// one line and exits 0; `npm run serve` (browser mode) works without Electron.
// Skipped when ELECTRON_SKIP_BINARY_DOWNLOAD is set (CI, packaging machines with their own Electron).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ELECTRON_PKG, locateElectron } from './electron-path.mjs';

const skip = process.env.ELECTRON_SKIP_BINARY_DOWNLOAD;
if (skip && skip !== '0' && skip !== 'false') process.exit(0);

const installer = join(ELECTRON_PKG, 'install.js');
if (!existsSync(installer) || locateElectron().exists) process.exit(0);

const TIMEOUT_MS = Number(process.env.GATEWAY_DESKTOP_ELECTRON_FETCH_TIMEOUT_MS || 120_000);
const child = spawn(process.execPath, [installer], { cwd: ELECTRON_PKG, stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
child.on('error', () => finish(1));
child.on('exit', (code) => finish(code ?? 1));

function finish(code) {
  clearTimeout(timer);
  if (code === 0 && locateElectron().exists) {
    console.log('gateway-desktop: Electron is ready (`npm start` opens the app).');
  } else {
    const why = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|getaddrinfo|fetch failed/.test(out)
      ? 'no network'
      : 'the download did not complete';
    console.log(
      `gateway-desktop: could not download the Electron binary (${why}); the browser mode works without it: npm run serve`,
    );
  }
  process.exit(0);
}
