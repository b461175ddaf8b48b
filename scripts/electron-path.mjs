// Where the Electron binary is, without triggering electron's lazy download (requiring the `electron`
// package downloads on first use since Electron 42). Honors ELECTRON_OVERRIDE_DIST_PATH like electron does.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ELECTRON_PKG = join(root, 'node_modules', 'electron');

function platformPath() {
  if (process.platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  if (process.platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** { path, exists, source } of the Electron executable this project would run. */
export function locateElectron(env = process.env) {
  let rel = null;
  try {
    rel = readFileSync(join(ELECTRON_PKG, 'path.txt'), 'utf8').trim() || null;
  } catch {
    rel = null;
  }
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(env.ELECTRON_OVERRIDE_DIST_PATH, rel ?? platformPath());
    return { path: p, exists: existsSync(p), source: 'ELECTRON_OVERRIDE_DIST_PATH' };
  }
  const p = join(ELECTRON_PKG, 'dist', rel ?? platformPath());
  return { path: p, exists: existsSync(p), source: 'node_modules/electron' };
}
