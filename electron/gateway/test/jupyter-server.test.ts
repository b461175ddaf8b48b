// The real gateway client: Debian's Jupyter Server 1.23 started with --gateway-url pointed at the proxy.
// Kernels are created through Jupyter Server's own REST API, code runs over its WebSocket, and deleting the
// kernel leaves nothing running.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AppCore } from '../../app-core';
import { startJupyterServer, type JupyterServer } from '../../../scripts/testing/jupyter-server';
import { RawClient, processesMatching, startTestCore, waitFor } from './helpers';

const JS_TOKEN = 'jupyter-server-token';

describe('Jupyter Server 1.23 with --gateway-url → proxy', { timeout: 180_000 }, () => {
  let core: AppCore;
  let cleanup: () => Promise<void>;
  let server: JupyterServer | null = null;
  let serverUrl = '';
  const log = (): string => server?.log() ?? '';
  const started: string[] = [];

  const js = (p: string, init: RequestInit = {}) =>
    fetch(new URL(p, serverUrl), {
      ...init,
      headers: {
        Authorization: `token ${JS_TOKEN}`,
        'Content-Type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  before(async () => {
    ({ core, cleanup } = await startTestCore());
    server = await startJupyterServer({
      token: JS_TOKEN,
      gatewayUrl: core.proxyUrl,
      gatewayToken: core.token,
    });
    serverUrl = `${server.url}/`;
  });

  after(async () => {
    await server?.stop();
    await cleanup();
    for (const id of started) assert.deepEqual(processesMatching(id), [], `kernel ${id} left running`);
  });

  test('kernelspecs come from the proxy, resources reachable through jupyter_server', async () => {
    const res = await js('/api/kernelspecs');
    assert.equal(res.status, 200, log());
    const body = (await res.json()) as {
      default: string;
      kernelspecs: Record<string, { resources: Record<string, string> }>;
    };
    assert.equal(body.default, 'python3');
    const logo = body.kernelspecs.python3.resources['logo-64x64'];
    assert.match(logo, /\/kernelspecs\/python3\/logo-64x64\.png$/);
    const img = await js(logo);
    assert.equal(img.status, 200);
    // (jupyter_server 1.23 labels it application/json itself; the bytes are what matter)
    const bytes = Buffer.from(await img.arrayBuffer());
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  });

  test('create through jupyter_server, execute over its WebSocket, delete: nothing left', async () => {
    const res = await js('/api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
    assert.equal(res.status, 201, log());
    const model = (await res.json()) as { id: string };
    started.push(model.id);
    assert.ok(core.registry.has(model.id), 'the kernel runs in the proxy registry');
    assert.ok(processesMatching(model.id).length > 0);

    const session = randomUUID();
    const c = new RawClient({ proxyUrl: serverUrl, token: JS_TOKEN }, model.id, session);
    await c.opened;
    await c.ready(session);
    const { stdout, reply } = await c.execute('print(6*7)', session, 30_000);
    assert.equal(reply.content.status, 'ok');
    assert.equal(stdout, '42\n');
    await waitFor(() => core.registry.get(model.id)?.connections === 1, 10_000, 'one proxy connection');

    // jupyter_server's list is refreshed from the gateway (last_activity must parse strictly there)
    const list = (await (await js('/api/kernels')).json()) as Array<{ id: string; execution_state: string }>;
    assert.ok(list.some((k) => k.id === model.id));

    // interrupt and restart through jupyter_server; the same WebSocket keeps working after the restart
    const before = core.registry.model(model.id)?.last_activity ?? '';
    const intr = await js(`/api/kernels/${model.id}/interrupt`, { method: 'POST', body: '{}' });
    assert.equal(intr.status, 204);
    await c.execute('gd_y = 1', session, 30_000);
    assert.ok(
      (core.registry.model(model.id)?.last_activity ?? '') > before,
      'last_activity moves on execute',
    );
    const rst = await js(`/api/kernels/${model.id}/restart`, { method: 'POST', body: '{}' });
    assert.equal(rst.status, 200, log());
    const again = await c.execute("print('gd_y' in globals(), 6*7)", session, 30_000);
    assert.equal(again.stdout, 'False 42\n');
    assert.ok(
      !c.messages.some((m) => m.msg_type === 'status' && m.content.execution_state === 'restarting'),
      'a requested restart is not announced as an automatic one',
    );

    c.close();
    await c.closed;
    const del = await js(`/api/kernels/${model.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    await waitFor(() => !core.registry.has(model.id), 10_000, 'kernel gone from the registry');
    await waitFor(() => processesMatching(model.id).length === 0, 15_000, 'kernel process gone');
    assert.doesNotMatch(log(), /Traceback/);
  });

  test('sessions through jupyter_server start kernels on the proxy too', async () => {
    const res = await js('/api/sessions', {
      method: 'POST',
      body: JSON.stringify({
        path: 'nb.ipynb',
        type: 'notebook',
        name: 'nb.ipynb',
        kernel: { name: 'python3' },
      }),
    });
    assert.equal(res.status, 201, log());
    const s = (await res.json()) as { id: string; kernel: { id: string } };
    started.push(s.kernel.id);
    assert.ok(core.registry.has(s.kernel.id));
    assert.equal((await js(`/api/sessions/${s.id}`, { method: 'DELETE' })).status, 204);
    await waitFor(() => !core.registry.has(s.kernel.id), 10_000, 'kernel gone');
  });
});
