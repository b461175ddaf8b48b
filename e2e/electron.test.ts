// The desktop shell in a real Electron (playwright-core's _electron): the window opens, the preload exposes
// exactly the host API contract (and no Node), the proxy answers, and quitting leaves no kernel behind.
// Skips with the reason where no Electron binary exists (as on machines without network access to GitHub);
// set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron to run it. On Linux it needs a display:
// `xvfb-run -a node scripts/test.mjs e2e/electron.test.ts`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { _electron, type ElectronApplication } from 'playwright-core';
import { PRELOAD_GLOBAL, PRELOAD_KEYS } from '../electron/host-api/contract';
import { ROOT, screenshot, sleep, waitFor } from './helpers';

/** The Electron executable this project would run, found without triggering electron's lazy download. */
function electronBinary(): { path: string; exists: boolean } {
  const pkg = join(ROOT, 'node_modules', 'electron');
  let rel: string | null = null;
  try {
    rel = readFileSync(join(pkg, 'path.txt'), 'utf8').trim() || null;
  } catch {
    rel = null;
  }
  const name =
    rel ??
    (process.platform === 'darwin'
      ? 'Electron.app/Contents/MacOS/Electron'
      : process.platform === 'win32'
        ? 'electron.exe'
        : 'electron');
  const dir = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  const p = join(dir, name);
  return { path: p, exists: existsSync(p) };
}

function skipReason(): string | null {
  const bin = electronBinary();
  if (!bin.exists)
    return (
      `no Electron binary at ${bin.path}: it is downloaded from GitHub on first use, which is not possible ` +
      'here; set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron to run this suite'
    );
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return 'no display: run this suite under `xvfb-run -a`';
  return null;
}

/** Kernel processes whose connection file lives under `dir` (our private TMPDIR). */
function kernelsUnder(dir: string): string[] {
  try {
    return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(dir) && /ipykernel/.test(l));
  } catch {
    return [];
  }
}

test('Electron shell: window, preload contract, proxy, clean quit', { timeout: 300_000 }, async (t) => {
  const reason = skipReason();
  if (reason) {
    t.skip(reason);
    return;
  }
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-needed', '--quiet'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(built.status, 0, built.stderr);

  const base = mkdtempSync(join(tmpdir(), 'gd-electron-'));
  const userData = join(base, 'user-data');
  const dataDir = join(base, 'data');
  const tmp = join(base, 'tmp');
  let app: ElectronApplication | null = null;
  try {
    app = await _electron.launch({
      executablePath: electronBinary().path,
      args: [ROOT, '--no-sandbox', `--user-data-dir=${userData}`, `--data-dir=${dataDir}`],
      cwd: ROOT,
      env: {
        ...process.env,
        HOME: base,
        TMPDIR: tmp,
        JUPYTER_DATA_DIR: join(base, 'jupyter'),
        JUPYTER_RUNTIME_DIR: join(base, 'runtime'),
        GATEWAY_DESKTOP_QUIT: 'shutdown',
        PYDEVD_DISABLE_FILE_VALIDATION: '1',
      },
      timeout: 90_000,
    });
    const window = await app.firstWindow();
    await window.getByText('This computer').first().waitFor({ timeout: 60_000 });
    assert.equal(await window.title(), 'Gateway Desktop');

    await t.test('the preload exposes exactly the contract, and the page has no Node', async () => {
      const keys = (await window.evaluate(`Object.keys(window.${PRELOAD_GLOBAL}).sort()`)) as string[];
      assert.deepEqual(keys, [...PRELOAD_KEYS].sort());
      assert.equal(await window.evaluate('typeof require'), 'undefined');
      assert.equal(await window.evaluate('typeof process'), 'undefined');
      // The main frame cannot reach Node or ipcRenderer; only the contract's functions cross the bridge.
      assert.equal(await window.evaluate(`typeof window.${PRELOAD_GLOBAL}.listClusters`), 'function');
      assert.equal(await window.evaluate('typeof (globalThis).ipcRenderer'), 'undefined');
    });

    const info = (await window.evaluate(`window.${PRELOAD_GLOBAL}.getProxyInfo()`)) as {
      url: string;
      token: string;
    };

    await t.test('the proxy answers with the token, and refuses without it', async () => {
      const ok = await fetch(`${info.url}/api/kernelspecs`, {
        headers: { Authorization: `token ${info.token}` },
      });
      assert.equal(ok.status, 200);
      const body = (await ok.json()) as { kernelspecs: Record<string, unknown> };
      assert.ok(body.kernelspecs.python3);
      const no = await fetch(`${info.url}/api/kernels`);
      assert.equal(no.status, 401);
    });

    await t.test('a kernel started from the window runs; quitting shuts it down', async () => {
      await window
        .locator('li.env[data-env="python3"]')
        .getByRole('button', { name: /Start a .* kernel/ })
        .click();
      await waitFor(
        'an idle kernel',
        async () => {
          const r = await fetch(`${info.url}/api/kernels`, {
            headers: { Authorization: `token ${info.token}` },
          });
          const list = (await r.json()) as { execution_state: string }[];
          return list.some((k) => k.execution_state === 'idle');
        },
        60_000,
      );
      assert.ok(kernelsUnder(tmp).length > 0, 'the kernel process runs with our TMPDIR');
      await screenshot(window, 'electron-window');
      await app!.close();
      app = null;
      await waitFor('no kernel process left', () => kernelsUnder(tmp).length === 0, 30_000);
      await assert.rejects(fetch(`${info.url}/api`), 'the proxy is gone');
    });
  } finally {
    if (app) await app.close().catch(() => undefined);
    await sleep(100);
    rmSync(base, { recursive: true, force: true });
  }
});
