// `npm start` and the postinstall where no Electron binary can be had (as on this machine): one line, then
// the same app in browser mode at the printed address, no stack trace; the postinstall never fails npm install.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start without an Electron binary', () => {
  test('says so in one line and starts the app in browser mode itself, printing its address', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gd-start-'));
    const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs'), '--data-dir', dataDir], {
      cwd: root,
      env: {
        ...process.env,
        ELECTRON_OVERRIDE_DIST_PATH: join(root, 'no-such-electron-dist'),
        GATEWAY_DESKTOP_NO_BROWSER: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 200_000;
      while (!/http:\/\/127\.0\.0\.1:\d+\/\?token=/.test(out)) {
        assert.equal(child.exitCode, null, `start exited early:\n${out}`);
        assert.ok(Date.now() < deadline, `no address printed:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(out, /No Electron binary on this machine.*browser mode/);
      assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)\?token=(\S+)/.exec(out);
      const res = await fetch(`${url?.[1]}api/kernelspecs`, {
        headers: { Authorization: `token ${url?.[2]}` },
      });
      assert.equal(res.status, 200, 'the app answers at the printed address');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    }
    assert.equal(child.exitCode, 0, `serve exits 0 on SIGTERM:\n${out}`);
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
