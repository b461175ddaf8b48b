// The built Electron main process (dist/electron/main.cjs), run in plain Node with a recording stand-in for
// the 'electron' module (no Electron binary can be had here): it boots the real app-core and host service,
// opens one secure window on app://gateway/, registers exactly the contract's IPC handlers, refuses foreign
// senders, guards navigation and permissions, serves the UI with a CSP, and shuts kernels down on quit.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HOST_METHOD_NAMES, ipcMethodChannel } from '../../electron/host-api/contract';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Report {
  singleInstance?: boolean;
  windows: { webPreferences: Record<string, unknown> }[];
  loadedUrl?: string;
  handlers: string[];
  calls: Record<string, { ok: boolean; value?: unknown; error?: { code: string } }>;
  navigation: { external?: boolean; internal?: boolean; windowOpen?: { action: string } };
  permissions: Record<string, boolean>;
  protocolIndex?: { status: number; csp: string | null };
  protocolEscape?: number;
  kernelBeforeQuit?: string;
  proxy?: { url: string; token: string };
  quit: { code: number } | null;
  errors: string[];
  menu?: string[];
}

function kernelsUnder(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir) && l.includes('ipykernel'));
}

test('Electron main (built bundle) with a stand-in electron module', { timeout: 240_000 }, async () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-needed', '--quiet'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(b.status, 0, b.stderr);
  const base = mkdtempSync(join(tmpdir(), 'gd-main-'));
  const run = (): Report => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'test', 'fixtures', 'electron-stub-harness.cjs')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 180_000,
        env: {
          ...process.env,
          HOME: base,
          TMPDIR: base,
          STUB_USER_DATA: join(base, 'user-data'),
          GATEWAY_DESKTOP_DATA_DIR: join(base, 'data'),
          GATEWAY_DESKTOP_QUIT: 'shutdown',
          PYDEVD_DISABLE_FILE_VALIDATION: '1',
        },
      },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as Report;
    } catch {
      throw new Error(`no report from the harness:\n${r.stdout}\n${r.stderr}`);
    }
  };
  try {
    const report = run();
    assert.deepEqual(report.errors, []);
    assert.equal(report.singleInstance, true);
    assert.equal(report.windows.length, 1);
    const wp = report.windows[0].webPreferences;
    assert.equal(wp.contextIsolation, true);
    assert.equal(wp.sandbox, true);
    assert.equal(wp.nodeIntegration, false);
    assert.equal(wp.webviewTag, false);
    assert.match(String(wp.preload), /dist\/electron\/preload\.cjs$/);
    assert.equal(report.loadedUrl, 'app://gateway/index.html');
    assert.deepEqual(report.handlers, HOST_METHOD_NAMES.map(ipcMethodChannel).sort());
    assert.equal(report.calls.trusted.ok, true);
    assert.equal(report.calls.untrusted.ok, false);
    assert.equal(report.calls.untrusted.error?.code, 'unauthorized');
    assert.equal(
      (report.calls.clusters.value as { name: string; active: boolean }[]).find((c) => c.active)?.name,
      'This computer',
    );
    assert.deepEqual(report.navigation, { external: true, internal: false, windowOpen: { action: 'deny' } });
    assert.deepEqual(report.permissions, { camera: false, notifications: false, clipboard: true });
    assert.equal(report.protocolIndex?.status, 200);
    assert.match(report.protocolIndex?.csp ?? '', /default-src 'self'/);
    assert.equal(report.protocolEscape, 404);
    assert.ok(report.kernelBeforeQuit, 'a kernel ran before quitting');
    assert.deepEqual(report.quit, { code: 0 });
    assert.deepEqual(kernelsUnder(base), [], 'no kernel process is left after quit');
    assert.ok(report.proxy?.url.startsWith('http://127.0.0.1:'));
    await assert.rejects(fetch(`${report.proxy?.url}/api`), 'the proxy is closed after quit');
    // The window's bounds were saved, and the next launch keeps the proxy's port and token.
    const state = JSON.parse(readFileSync(join(base, 'user-data', 'window-state.json'), 'utf8')) as {
      width: number;
    };
    assert.equal(state.width, 1200);
    const second = run();
    assert.deepEqual(second.errors, []);
    assert.deepEqual(second.proxy, report.proxy, 'stable port and token per install');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
