// Idle culling (issue 14 item 4) over the real app-core with real ipykernels, the policy read from the cluster
// store as `npm run cluster -- set` writes it: an idle kernel past cull_idle_timeout is culled (REST 404
// afterwards); at that very check a busy kernel and one with a WebSocket client, idle just as long, are not;
// cull_busy and cull_connected then cull them, and the connected client sees its WebSocket closed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { makeMessage } from '../../../provisioners/zmq/wire';
import { createAppCore, type AppCore } from '../../app-core';
import type { CullingConfig } from '../../clusters/kinds/culling';

async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('idle culling of local kernels', { timeout: 120_000 }, () => {
  let core: AppCore;
  const dir = mkdtempSync(join(tmpdir(), 'gd-culling-'));
  const culled: { id: string; reason: string }[] = [];
  const removed = new Map<string, string>();
  let ws: WebSocket | null = null;

  const rest = (method: string, path: string, body?: unknown) =>
    fetch(`${core.proxyUrl}${path}`, {
      method,
      headers: { Authorization: `token ${core.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const start = async (): Promise<string> => {
    const r = await rest('POST', 'api/kernels', { name: 'python3' });
    assert.equal(r.status, 201);
    return ((await r.json()) as { id: string }).id;
  };
  const setCulling = (c: CullingConfig): void => {
    const store = core.clusterStore!.store;
    const local = store.require('local');
    store.update({ ...local, culling: c } as typeof local);
  };

  before(async () => {
    core = await createAppCore({ dataDir: dir, clusterStore: true });
    core.registry.on('kernel-culled', (c) => culled.push(c));
    core.registry.on('kernel-removed', ({ id, reason }) => removed.set(id, reason));
  });

  after(async () => {
    ws?.terminate();
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('off by default for This computer: no culling time on a kernel', async () => {
    const id = await start();
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(core.registry.getInfo(id)?.cullAfter, undefined);
    assert.equal((await rest('DELETE', `api/kernels/${id}`)).status, 204);
  });

  test('idle culled; busy and connected ones idle as long are not, until cull_busy / cull_connected', async () => {
    // Busy: a run that sleeps, sent on the kernel's own port (not a client connection).
    const busy = await start();
    const session = randomUUID();
    const port = core.registry.get(busy)!.backend.openPort(session, () => undefined);
    port.send(
      makeMessage(
        'shell',
        'execute_request',
        { code: 'import time; time.sleep(120)', silent: false },
        session,
      ),
    );
    await until('busy', () => core.registry.getInfo(busy)?.executionState === 'busy');
    // Connected: a WebSocket client that got its kernel_info reply, then stays quiet.
    const connected = await start();
    ws = new WebSocket(`${core.proxyUrl.replace('http', 'ws')}api/kernels/${connected}/channels`, {
      headers: { Authorization: `token ${core.token}` },
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws!.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve, reject) => ws!.once('open', resolve).once('error', reject));
    const req = makeMessage('shell', 'kernel_info_request', {}, randomUUID());
    const msgId = (JSON.parse(req.header.toString()) as { msg_id: string }).msg_id;
    const replied = new Promise<void>((resolve) =>
      ws!.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { msg_type: string; parent_header: { msg_id?: string } };
        if (m.msg_type === 'kernel_info_reply' && m.parent_header.msg_id === msgId) resolve();
      }),
    );
    ws.send(
      JSON.stringify({
        channel: 'shell',
        header: JSON.parse(req.header.toString()) as unknown,
        parent_header: {},
        metadata: {},
        content: {},
      }),
    );
    await replied;
    await until('one connection', () => core.registry.getInfo(connected)?.connections === 1);
    // Idle last: its last activity is later than the other two's, so the check that culls it sees them
    // inactive for longer than the timeout too.
    const idle = await start();
    setCulling({ cull_idle_timeout: 2, cull_interval: 0.5 });
    const shown = await until(
      'cull time shown for the idle kernel',
      () => core.registry.getInfo(idle)?.cullAfter,
    );
    assert.ok(Date.parse(shown) > Date.now() - 1000);
    assert.equal(core.registry.getInfo(busy)?.cullAfter, undefined, 'busy: not culled now');
    assert.equal(core.registry.getInfo(connected)?.cullAfter, undefined, 'connected: not culled now');

    const cullOfIdle = await until('idle kernel culled', () => culled.find((c) => c.id === idle));
    await new Promise<void>((r) => setImmediate(r)); // the rest of that check has run
    assert.match(
      cullOfIdle.reason,
      /^culled after \d+ s of inactivity \(cull_idle_timeout 2 s, 0 connections\)/,
    );
    assert.deepEqual(
      culled.map((c) => c.id),
      [idle],
      'the busy and the connected kernel, idle longer, were not culled',
    );
    await until('removed', () => removed.get(idle));
    assert.equal((await rest('GET', `api/kernels/${idle}`)).status, 404);

    setCulling({ cull_idle_timeout: 2, cull_interval: 0.5, cull_busy: true });
    await until('busy kernel culled with cull_busy', () => culled.find((c) => c.id === busy));
    port.close();
    assert.ok(!culled.some((c) => c.id === connected), 'still not the connected one');

    setCulling({ cull_idle_timeout: 2, cull_interval: 0.5, cull_connected: true });
    await until('connected kernel culled with cull_connected', () => culled.find((c) => c.id === connected));
    const close = await closed;
    assert.match(close.reason, /^culled after/, `the client is told why (${close.code} ${close.reason})`);
    await until('removed', () => removed.get(connected));
    assert.equal((await rest('GET', `api/kernels/${connected}`)).status, 404);
    // The busy kernel's shutdown waits out its run's grace before it is forced.
    await until('every culled kernel gone', () => core.registry.list().length === 0);
    assert.match(removed.get(busy) ?? '', /^culled after/);
  });
});
