// A gateway kernel after its clients have gone, and after the active cluster changed, against Debian's
// Jupyter Server 1.23 as the upstream, through the real proxy:
//  - the upstream WebSocket closes when the last client leaves (after a short grace period), so the
//    upstream's connection count, which its idle culler reads, matches the proxy's (the clients');
//    a client coming back with the same session gets what the kernel printed meanwhile;
//  - a kernel left running on the gateway after switching to "This computer" is listed under the gateway's
//    pinned name, since `python3` now means this computer's spec.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createAppCore, type AppCore } from '../../app-core';
import { makeGatewayConfig } from '../config';
import { GatewayClusterRuntime } from '../gateway/runtime';
import { GatewayKernel } from '../gateway/kernel';
import { LocalCluster } from '../local-cluster';
import { startJupyterServer, tempDir, waitFor, type JupyterServer } from './helpers';

interface Msg {
  channel: string;
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

describe('gateway kernels without clients, and after switching', { timeout: 180_000 }, () => {
  let upstream: JupyterServer;
  let core: AppCore;
  let dataDir: string;
  const headers = (): Record<string, string> => ({
    Authorization: `token ${core.token}`,
    'Content-Type': 'application/json',
  });
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(new URL(path, core.proxyUrl), { ...init, headers: headers() });
  const model = async (id: string): Promise<{ name: string; connections: number }> =>
    (await (await api(`/api/kernels/${id}`)).json()) as { name: string; connections: number };
  const upstreamConnections = async (upstreamId: string): Promise<number> => {
    const r = await fetch(`${upstream.url}/api/kernels/${upstreamId}`, {
      headers: { Authorization: `token ${upstream.token}` },
    });
    return ((await r.json()) as { connections: number }).connections;
  };
  const connect = (id: string, session: string, inbox: Msg[]): Promise<WebSocket> => {
    const url = new URL(`/api/kernels/${id}/channels?session_id=${session}`, core.proxyUrl);
    const ws = new WebSocket(url.href.replace(/^http/, 'ws'), { headers: headers() });
    ws.on('message', (d) => inbox.push(JSON.parse(String(d)) as Msg));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  };
  const send = (
    ws: WebSocket,
    session: string,
    msgType: string,
    content: Record<string, unknown>,
  ): string => {
    const msgId = randomUUID();
    const header = { msg_id: msgId, msg_type: msgType, session, username: 't', date: '', version: '5.3' };
    ws.send(JSON.stringify({ channel: 'shell', header, parent_header: {}, metadata: {}, content }));
    return msgId;
  };
  const closed = (ws: WebSocket): Promise<void> =>
    new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
    });

  before(
    async () => {
      dataDir = tempDir();
      upstream = await startJupyterServer();
      const uni = new GatewayClusterRuntime(
        makeGatewayConfig({
          id: 'university',
          name: 'University',
          url: upstream.url,
          tokenSecret: 'tok',
          pollIntervalMs: 500,
        }),
        { get: (k) => (k === 'tok' ? upstream.token : undefined) },
        { idleCloseMs: 300 },
      );
      const local = new LocalCluster({
        id: 'local',
        name: 'This computer',
        kernelSpecDirs: ['/usr/share/jupyter/kernels'],
      });
      core = await createAppCore({
        dataDir,
        token: 'idle-tests',
        clusters: [uni, local],
        activeClusterId: 'university',
        proxyOptions: { log: () => undefined },
      });
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      await core?.close();
      await upstream?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    { timeout: 60_000 },
  );

  test('the upstream socket closes when the last client leaves, and reopens for a client coming back', async () => {
    const r = await api('/api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
    assert.equal(r.status, 201, await r.clone().text());
    const { id } = (await r.json()) as { id: string };
    const backend = core.registry.get(id)?.backend;
    assert.ok(backend instanceof GatewayKernel);
    const session = randomUUID();
    const inbox: Msg[] = [];
    let ws = await connect(id, session, inbox);
    const info = send(ws, session, 'kernel_info_request', {});
    await waitFor('kernel_info_reply', () => inbox.some((m) => m.parent_header.msg_id === info), 60_000, 20);
    assert.equal((await model(id)).connections, 1);
    assert.equal(await upstreamConnections(backend.upstreamId), 1);

    // Output that comes while no client is connected must still reach the client when it is back.
    const late = send(ws, session, 'execute_request', {
      code: "import time; time.sleep(1.5); print('printed while away')",
      silent: false,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
    });
    await closed(ws);
    await waitFor(
      'the upstream to see no connection',
      async () => (await upstreamConnections(backend.upstreamId)) === 0,
      15_000,
      50,
    );
    assert.equal((await model(id)).connections, 0, 'the proxy reports the clients');

    ws = await connect(id, session, inbox);
    await waitFor(
      'the upstream socket back',
      async () => (await upstreamConnections(backend.upstreamId)) === 1,
      15_000,
      50,
    );
    await waitFor(
      'the output printed while away, and the reply',
      () =>
        inbox.some((m) => m.parent_header.msg_id === late && m.header.msg_type === 'stream') &&
        inbox.some((m) => m.parent_header.msg_id === late && m.header.msg_type === 'execute_reply'),
      30_000,
      20,
    );
    const text = inbox
      .filter((m) => m.parent_header.msg_id === late && m.header.msg_type === 'stream')
      .map((m) => String(m.content.text))
      .join('');
    assert.equal(text, 'printed while away\n');
    const again = send(ws, session, 'kernel_info_request', {});
    await waitFor(
      'a reply after coming back',
      () => inbox.some((m) => m.parent_header.msg_id === again),
      30_000,
      20,
    );

    await closed(ws);
    assert.equal((await api(`/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
  });

  test('a gateway kernel goes by its pinned name while another cluster is active', async () => {
    const r = await api('/api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
    assert.equal(r.status, 201, await r.clone().text());
    const { id } = (await r.json()) as { id: string };
    try {
      assert.equal((await model(id)).name, 'python3');
      core.directory.setActive('local');
      assert.equal((await model(id)).name, 'university--python3');
      const listed = (await (await api('/api/kernels')).json()) as { id: string; name: string }[];
      assert.equal(listed.find((k) => k.id === id)?.name, 'university--python3');
      const specs = (await (await api('/api/kernelspecs')).json()) as {
        kernelspecs: Record<string, unknown>;
      };
      assert.ok(specs.kernelspecs['university--python3'], 'the name is a listed kernelspec');
    } finally {
      core.directory.setActive('university');
    }
    assert.equal((await model(id)).name, 'python3');
    assert.equal((await api(`/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
  });
});
