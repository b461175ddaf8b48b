// REST API and request checks of the proxy, with real kernelspecs and kernels: status codes, model fields,
// error bodies, token/Host/Origin checks, resource path traversal, a spec whose program is missing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AppCore } from '../../app-core';
import {
  SYSTEM_KERNELS,
  api,
  processesMatching,
  rmrf,
  startTestCore,
  upgradeStatus,
  waitFor,
} from './helpers';

/** A raw HTTP GET with full control of the Host header and the raw path. */
function rawGet(
  core: AppCore,
  rawPath: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: core.port, path: rawPath, method: 'GET', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const MICRO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('gateway REST', { timeout: 180_000 }, () => {
  let core: AppCore;
  let cleanup: () => Promise<void>;
  let specDir: string;
  const started: string[] = [];

  before(async () => {
    specDir = mkdtempSync(path.join(tmpdir(), 'gd-specs-'));
    cpSync(path.join(SYSTEM_KERNELS, 'python3'), path.join(specDir, 'python3'), { recursive: true });
    mkdirSync(path.join(specDir, 'broken-program'));
    writeFileSync(
      path.join(specDir, 'broken-program', 'kernel.json'),
      JSON.stringify({
        argv: ['/nonexistent/bin/gd-no-such-kernel', '-f', '{connection_file}'],
        display_name: 'Broken',
        language: 'python',
      }),
    );
    ({ core, cleanup } = await startTestCore({ kernelSpecDirs: [specDir] }));
  });

  after(async () => {
    await cleanup();
    rmrf(specDir);
    for (const id of started) assert.deepEqual(processesMatching(id), [], `kernel ${id} left running`);
  });

  test('GET /api gives version and gateway_version', async () => {
    const res = await api(core, '/api');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { version: string; gateway_version: string };
    assert.equal(typeof body.version, 'string');
    assert.equal(typeof body.gateway_version, 'string');
  });

  test('kernelspecs: list, single, ?user= quirk, cache-busting key, 404', async () => {
    const res = await api(core, '/api/kernelspecs?1700000000000');
    assert.equal(res.status, 200);
    const list = (await res.json()) as {
      default: string;
      kernelspecs: Record<
        string,
        { name: string; spec: { argv: string[] }; resources: Record<string, string> }
      >;
    };
    assert.equal(list.default, 'python3');
    assert.deepEqual(Object.keys(list.kernelspecs).sort(), ['broken-program', 'python3']);
    assert.ok(Array.isArray(list.kernelspecs.python3.spec.argv));
    for (const url of Object.values(list.kernelspecs.python3.resources))
      assert.match(url, /^\/kernelspecs\/python3\/[\w.-]+$/);

    const one = await api(core, '/api/kernelspecs/python3');
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as { name: string }).name, 'python3');

    const user = await api(core, '/api/kernelspecs?user=alice');
    assert.ok('kernelspecs' in ((await user.json()) as object));
    const quirk = await api(core, '/api/kernelspecs?user=alice/python3');
    assert.equal(quirk.status, 200);
    assert.equal(((await quirk.json()) as { name: string }).name, 'python3');

    const missing = await api(core, '/api/kernelspecs/nope');
    assert.equal(missing.status, 404);
    const err = (await missing.json()) as { reason: string; message: string };
    assert.equal(typeof err.reason, 'string');
    assert.match(err.message, /nope/);
  });

  test('resources: raw bytes with content types; traversal is 404', async () => {
    const svg = await api(core, '/kernelspecs/python3/logo-svg.svg');
    assert.equal(svg.status, 200);
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    const auth = { Authorization: `token ${core.token}`, Host: `127.0.0.1:${core.port}` };
    for (const p of [
      '/kernelspecs/python3/../../../../etc/passwd',
      '/kernelspecs/python3/%2e%2e/%2e%2e/etc/passwd',
      '/kernelspecs/python3/..%2F..%2Fetc%2Fpasswd',
      '/kernelspecs/python3/%2Fetc%2Fpasswd',
      '/kernelspecs/python3//etc/passwd',
      '/kernelspecs/..%2Fpython3/kernel.json',
      '/kernelspecs/python3/nope.png',
    ]) {
      const r = await rawGet(core, p, auth);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body, /root:/);
    }
  });

  test('token: missing, wrong, empty → 401; header, Bearer, query → ok', async () => {
    const url = new URL('/api/kernels', core.proxyUrl);
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { Authorization: 'token wrong' } })).status, 401);
    assert.equal((await fetch(url, { headers: { Authorization: 'token ' } })).status, 401);
    assert.equal((await fetch(url, { headers: { Authorization: 'token    ' } })).status, 401);
    const r401 = await fetch(`${url}?token=`);
    assert.equal(r401.status, 401);
    const body = (await r401.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Unauthorized');
    assert.equal((await fetch(url, { headers: { Authorization: `token ${core.token}` } })).status, 200);
    assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${core.token}` } })).status, 200);
    assert.equal((await fetch(`${url}?token=${core.token}`)).status, 200);
  });

  test('Host must be the proxy itself; foreign Origin is refused', async () => {
    const auth = { Authorization: `token ${core.token}` };
    assert.equal(
      (await rawGet(core, '/api/kernels', { ...auth, Host: `evil.example:${core.port}` })).status,
      403,
    );
    assert.equal((await rawGet(core, '/api/kernels', { ...auth, Host: '127.0.0.1:1' })).status, 403);
    for (const h of [`127.0.0.1:${core.port}`, `localhost:${core.port}`, `[::1]:${core.port}`]) {
      assert.equal((await rawGet(core, '/api/kernels', { ...auth, Host: h })).status, 200, h);
    }
    const bad = await rawGet(core, '/api/kernels', {
      ...auth,
      Host: `127.0.0.1:${core.port}`,
      Origin: 'http://evil.example',
    });
    assert.equal(bad.status, 403);
    const own = await rawGet(core, '/api/kernels', {
      ...auth,
      Host: `127.0.0.1:${core.port}`,
      Origin: `http://127.0.0.1:${core.port}`,
    });
    assert.equal(own.status, 200);
  });

  test('kernels: 404s and 400s with {reason, message}', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, p] of [
      ['GET', `/api/kernels/${unknown}`],
      ['DELETE', `/api/kernels/${unknown}`],
      ['POST', `/api/kernels/${unknown}/interrupt`],
      ['POST', `/api/kernels/${unknown}/restart`],
    ] as const) {
      const r = await api(core, p, { method });
      assert.equal(r.status, 404, `${method} ${p}`);
      const b = (await r.json()) as { reason: string; message: string };
      assert.equal(typeof b.reason, 'string');
      assert.equal(typeof b.message, 'string');
    }
    const noSpec = await api(core, '/api/kernels', {
      method: 'POST',
      body: JSON.stringify({ name: 'no-such-spec' }),
    });
    assert.equal(noSpec.status, 404);
    assert.match(((await noSpec.json()) as { message: string }).message, /no-such-spec/);

    const bad = await api(core, '/api/kernels', {
      method: 'POST',
      body: '{"name": "python3",',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(bad.status, 400);
    const b = (await bad.json()) as { reason: string; message: string };
    assert.equal(b.reason, 'Bad Request');
    assert.match(b.message, /JSON/);

    const badEnv = await api(core, '/api/kernels', {
      method: 'POST',
      body: JSON.stringify({ name: 'python3', env: { A: 1 } }),
    });
    assert.equal(badEnv.status, 400);
    assert.match(((await badEnv.json()) as { message: string }).message, /env\.A/);

    const upg = await upgradeStatus(
      `${core.proxyUrl.replace('http', 'ws')}api/kernels/${unknown}/channels?session_id=x`,
      { Authorization: `token ${core.token}` },
    );
    assert.equal(upg, 404);
    assert.equal(core.registry.ids().length, 0);
  });

  test('kernel lifecycle: 201 + Location + model, list, interrupt 204, restart 200, delete 204', async () => {
    const t0 = Date.now();
    const res = await api(core, '/api/kernels?1700000000001', {
      method: 'POST',
      body: JSON.stringify({
        name: 'python3',
        env: { KERNEL_USERNAME: 'alice', KERNEL_LAUNCH_TIMEOUT: '40' },
      }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(res.status, 201);
    const model = (await res.json()) as {
      id: string;
      name: string;
      last_activity: string;
      execution_state: string;
      connections: number;
    };
    started.push(model.id);
    console.log(`kernel start through the proxy: ${Date.now() - t0} ms`);
    assert.match(model.id, UUID4);
    assert.equal(res.headers.get('location'), `/api/kernels/${model.id}`);
    assert.equal(model.name, 'python3');
    assert.match(model.last_activity, MICRO_Z);
    assert.ok(['idle', 'busy', 'starting'].includes(model.execution_state));
    assert.ok(Number.isInteger(model.connections));

    const list = (await (await api(core, '/api/kernels')).json()) as Array<{ id: string }>;
    assert.ok(list.some((k) => k.id === model.id));
    const one = await api(core, `/api/kernels/${model.id}`);
    assert.equal(one.status, 200);

    const intr = await api(core, `/api/kernels/${model.id}/interrupt`, { method: 'POST', body: '{}' });
    assert.equal(intr.status, 204);
    const rst = await api(core, `/api/kernels/${model.id}/restart`, { method: 'POST', body: '{}' });
    assert.equal(rst.status, 200);
    const after = (await rst.json()) as { id: string; execution_state: string };
    assert.equal(after.id, model.id);
    assert.equal(after.execution_state, 'idle');

    const status = (await (await api(core, '/api/status')).json()) as { kernels: number };
    assert.equal(status.kernels, 1);

    const del = await api(core, `/api/kernels/${model.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await api(core, `/api/kernels/${model.id}`)).status, 404);
    await waitFor(() => processesMatching(model.id).length === 0, 15_000, 'kernel process gone');
  });

  test('a spec whose program is missing fails fast with 500 naming the program', async () => {
    const t0 = Date.now();
    const res = await api(core, '/api/kernels', {
      method: 'POST',
      body: JSON.stringify({ name: 'broken-program' }),
    });
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 500);
    const body = (await res.json()) as { reason: string; message: string };
    assert.match(body.message, /gd-no-such-kernel/);
    assert.ok(elapsed < 15_000, `took ${elapsed} ms`);
    assert.equal(core.registry.ids().length, 0);
    assert.deepEqual(processesMatching('gd-no-such-kernel'), []);
    const failed = core.registry.launches().find((l) => l.specName === 'broken-program');
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /gd-no-such-kernel/);
  });

  test('a client that gives up during the launch leaves no kernel behind', async () => {
    const before = core.registry.launches().length;
    const ac = new AbortController();
    const pending = api(core, '/api/kernels', {
      method: 'POST',
      body: JSON.stringify({ name: 'python3' }),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    const launch = await waitFor(
      () =>
        core.registry
          .launches()
          .slice(before)
          .find((l) => l.status === 'launching'),
      10_000,
      'launch to begin',
    );
    ac.abort();
    await pending;
    const done = await waitFor(
      () => core.registry.launches().find((l) => l.kernelId === launch.kernelId && l.status !== 'launching'),
      20_000,
      'launch to end',
    );
    assert.equal(done.status, 'failed');
    assert.match(done.error ?? '', /cancelled/);
    assert.equal(core.registry.has(launch.kernelId), false);
    await waitFor(() => processesMatching(launch.kernelId).length === 0, 15_000, 'no kernel process');
  });

  test('sessions (direct Lab): create, list, reuse by path, delete shuts the kernel down', async () => {
    const res = await api(core, '/api/sessions', {
      method: 'POST',
      body: JSON.stringify({
        path: 'a.ipynb',
        type: 'notebook',
        name: 'a.ipynb',
        kernel: { name: 'python3' },
      }),
    });
    assert.equal(res.status, 201);
    const s = (await res.json()) as { id: string; kernel: { id: string } };
    started.push(s.kernel.id);
    const again = (await (
      await api(core, '/api/sessions', {
        method: 'POST',
        body: JSON.stringify({ path: 'a.ipynb', type: 'notebook', kernel: { name: 'python3' } }),
      })
    ).json()) as { id: string };
    assert.equal(again.id, s.id);
    const list = (await (await api(core, '/api/sessions')).json()) as unknown[];
    assert.equal(list.length, 1);
    assert.equal((await api(core, `/api/sessions/${s.id}`, { method: 'DELETE' })).status, 204);
    assert.equal(core.registry.has(s.kernel.id), false);
    assert.equal((await api(core, `/api/sessions/${s.id}`)).status, 404);
  });
});
