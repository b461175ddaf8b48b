// The built Electron main process (dist/electron/main.cjs), run in plain Node with a recording stand-in for
// the 'electron' module (no Electron binary can be had here): it boots the real app-core and host service,
// opens one secure window on app://gateway/, registers exactly the contract's IPC handlers, refuses foreign
// senders, guards navigation and permissions, serves the UI with a CSP, and shuts kernels down on quit.
// The quit dialog's three choices: Cancel keeps the app, "Leave running" keeps the kernel alive after the
// app exits, and the next launch re-attaches it under the same id (then a shutdown quit leaves nothing).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
  kernelsAtStart?: string[];
  logAtStart?: string[];
  dialogs?: { buttons: string[]; defaultId: number; cancelId: number; detail: string }[];
  windowAfterCancel?: boolean;
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
  const run = (extra: Record<string, string | undefined> = {}): Report => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: base,
      TMPDIR: base,
      STUB_USER_DATA: join(base, 'user-data'),
      GATEWAY_DESKTOP_DATA_DIR: join(base, 'data'),
      GATEWAY_DESKTOP_QUIT: 'shutdown',
      PYDEVD_DISABLE_FILE_VALIDATION: '1',
    };
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'test', 'fixtures', 'electron-stub-harness.cjs')],
      { cwd: root, encoding: 'utf8', timeout: 180_000, env },
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
    // Second launch: the quit dialog (setting "ask") — Cancel first, then "Leave running".
    const second = run({ GATEWAY_DESKTOP_QUIT: undefined, STUB_DIALOG_RESPONSES: '2,1' });
    assert.deepEqual(second.errors, []);
    assert.deepEqual(second.proxy, report.proxy, 'stable port and token per install');
    assert.equal(second.dialogs?.length, 2, 'asked twice: cancelled, then left running');
    const d = second.dialogs?.[0];
    assert.deepEqual(d?.buttons, ['Shut down kernels', 'Leave running', 'Cancel']);
    assert.equal(d?.defaultId, 0);
    assert.equal(d?.cancelId, 2);
    assert.match(d?.detail ?? '', /re-attaches/);
    assert.equal(second.windowAfterCancel, true, 'Cancel keeps the app and brings a window back');
    assert.deepEqual(second.quit, { code: 0 });
    const kept = second.kernelBeforeQuit ?? '';
    assert.ok(kept);
    assert.equal(kernelsUnder(base).length, 1, 'the kernel left running outlives the app');
    const stateFile = join(base, 'data', 'kernels-left-running.json');
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    const left = JSON.parse(readFileSync(stateFile, 'utf8')) as { status: string; kernels: { id: string }[] };
    assert.equal(left.status, 'left-running');
    assert.deepEqual(
      left.kernels.map((k) => k.id),
      [kept],
    );
    // Third launch re-attaches it under the same id and says so in the app log; quitting with "shutdown"
    // then leaves nothing behind.
    const third = run({ STUB_NO_START: '1' });
    assert.deepEqual(third.errors, []);
    assert.deepEqual(third.kernelsAtStart, [kept]);
    assert.ok(third.logAtStart?.some((m) => /Re-attached 1 kernel left running at last quit/.test(m)));
    assert.equal(third.kernelBeforeQuit, kept);
    assert.deepEqual(third.quit, { code: 0 });
    assert.deepEqual(kernelsUnder(base), [], 'no kernel process is left after quit');
    assert.equal(existsSync(stateFile), false);
  } finally {
    // A failed run must not leave its kernel behind.
    for (const l of kernelsUnder(base)) {
      try {
        process.kill(Number(l.trim().split(/\s+/)[0]), 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(base, { recursive: true, force: true });
  }
});
