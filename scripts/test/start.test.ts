// `npm start` and the postinstall where no Electron binary can be had (as on this machine): one clear
// paragraph pointing at the browser mode, no stack trace; the postinstall never fails npm install.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start without an Electron binary', () => {
  test('explains in one paragraph, offers npm run serve, exits non-zero, no stack trace', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'start.mjs')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(root, 'no-such-electron-dist') },
    });
    assert.notEqual(r.status, 0);
    const err = r.stderr;
    assert.match(err, /Electron binary is not installed/);
    assert.match(err, /npm run serve/);
    assert.doesNotMatch(err, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
    const paragraphs = err.trim().split(/\n\s*\n/);
    assert.equal(paragraphs.length, 1, `one paragraph:\n${err}`);
  });

  test('postinstall: skipped with ELECTRON_SKIP_BINARY_DOWNLOAD, exit 0', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'fetch-electron.mjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    });
    assert.equal(r.status, 0);
    assert.equal(r.stdout + r.stderr, '');
  });

  test('postinstall: a failed download prints one friendly line and exits 0', () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GATEWAY_DESKTOP_ELECTRON_FETCH_TIMEOUT_MS: '60000',
      // Make sure nothing can be fetched even on a machine with network: an unroutable mirror.
      ELECTRON_MIRROR: 'http://127.0.0.1:9/',
      electron_config_cache: join(root, 'node_modules', '.cache', 'no-electron-cache'),
    };
    delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
    delete env.ELECTRON_OVERRIDE_DIST_PATH;
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'fetch-electron.mjs')], {
      cwd: root,
      encoding: 'utf8',
      env,
      timeout: 120_000,
    });
    assert.equal(r.status, 0);
    const out = (r.stdout + r.stderr).trim();
    // A machine that already has the binary: nothing to fetch (silent) or it was fetched from a cache.
    if (out === '' || out.includes('Electron is ready')) return;
    assert.equal(out.split('\n').length, 1, out);
    assert.match(out, /npm run serve/);
  });
});
