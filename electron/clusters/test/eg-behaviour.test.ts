// Enterprise Gateway behaviours Debian's Jupyter Server cannot show, through the real proxy with an
// in-test stand-in upstream (eg-stand-in.ts): a restart answered before the kernel is back; kernelspecs
// filtered per user and an unauthorized user (root).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createAppCore, type AppCore } from '../../app-core';
import { makeGatewayConfig } from '../config';
import { GatewayClusterRuntime } from '../gateway/runtime';
import { EnterpriseGatewayStandIn, type StandInKernel } from './eg-stand-in';
import { tempDir } from './helpers';

describe('Enterprise Gateway behaviours through the proxy', { timeout: 60_000 }, () => {
  let standIn: EnterpriseGatewayStandIn;
  let core: AppCore;
  let dataDir: string;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(new URL(path, core.proxyUrl), {
      ...init,
      headers: { Authorization: `token ${core.token}`, 'Content-Type': 'application/json' },
    });
  const startKernel = async (name: string, env: Record<string, string> = {}): Promise<Response> =>
    api('/api/kernels', { method: 'POST', body: JSON.stringify({ name, env }) });
  const started = async (name: string, env: Record<string, string> = {}): Promise<string> => {
    const r = await startKernel(name, env);
    assert.equal(r.status, 201, await r.clone().text());
    return ((await r.json()) as { id: string }).id;
  };

  before(async () => {
    dataDir = tempDir();
    standIn = await new EnterpriseGatewayStandIn({
      specs: ['python3'],
      specsByUser: { root: [] },
    }).start();
    // The same gateway twice: without a username (the client's passes through, the OS user is the last
    // fallback; these tests run as root) and with the student's university account.
    const runtime = (id: string, kernelUsername?: string): GatewayClusterRuntime =>
      new GatewayClusterRuntime(
        makeGatewayConfig({
          id,
          name: id,
          url: standIn.url,
          ...(kernelUsername ? { kernelUsername } : {}),
          pollIntervalMs: 0,
          timeouts: { connectMs: 2000, launchMs: 10_000 },
        }),
        { get: () => undefined },
        { specsCacheMs: 0 },
      );
    core = await createAppCore({
      dataDir,
      token: 'eg-tests',
      clusters: [runtime('eg'), runtime('eg-alice', 'alice')],
      proxyOptions: { log: () => undefined },
    });
  });

  after(async () => {
    await core?.close();
    await standIn?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('restart: the proxy answers only after the restarted kernel answered kernel_info', async () => {
    const id = await started('eg-alice--python3');
    const k = standIn.kernels.get(id);
    assert.ok(k, 'the stand-in created the kernel under the proxy id (KERNEL_ID)');
    const probed = new Promise<'probed'>((resolve) =>
      standIn.once('held-kernel-info', (held: StandInKernel) => {
        if (held.id === id) resolve('probed');
      }),
    );
    let answered = false;
    const restart = api(`/api/kernels/${id}/restart`, { method: 'POST', body: '{}' }).then((r) => {
      answered = true;
      return r;
    });
    const first = await Promise.race([restart.then(() => 'answered' as const), probed]);
    assert.equal(first, 'probed', 'the proxy answered the restart before the kernel was back');
    assert.equal(answered, false);
    standIn.finishRestart(id);
    const res = await restart;
    assert.equal(res.status, 200);
    const model = (await res.json()) as { execution_state: string };
    assert.equal(model.execution_state, 'idle');
    await api(`/api/kernels/${id}`, { method: 'DELETE' });
  });
});
