// "Leave running" for a gateway cluster (Debian's Jupyter Server 1.23 as the upstream): the kernel is not
// deleted upstream when the app quits with "Leave running", and the next start re-adopts it under the SAME
// proxy id (Jupyter Server picks its own upstream id), with its variables, through the proxy's WebSocket.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import { makeGatewayConfig, secretKeys } from '../../clusters/config';
import { ClusterStore } from '../../clusters/store';
import { startJupyterServer, tempDir, type JupyterServer } from '../../clusters/test/helpers';
import { RawClient, SYSTEM_KERNELS, waitFor } from '../../gateway/test/helpers';
import { createSecretStore } from '../../secrets/secret-store';
import { LEFT_RUNNING_FILE, type LeftRunningState } from '../left-running';
import type { LogLine } from '../restore';

describe('gateway kernels left running at quit', { timeout: 240_000 }, () => {
  let upstream: JupyterServer;
  let dataDir: string;
  const cores: AppCore[] = [];

  const upstreamIds = async (): Promise<string[]> => {
    const r = await fetch(`${upstream.url}/api/kernels`, {
      headers: { Authorization: `token ${upstream.token}` },
    });
    return ((await r.json()) as { id: string }[]).map((k) => k.id);
  };
  const core = async (lines: LogLine[] = []): Promise<AppCore> => {
    const c = await createAppCore({
      dataDir,
      token: 'test-token-123',
      clusterStore: true,
      kernelSpecDirs: [SYSTEM_KERNELS],
      kernelsOutliveApp: true,
      log: (l) => lines.push(l),
      proxyOptions: { log: () => undefined },
    });
    cores.push(c);
    return c;
  };
  const connect = async (c: AppCore, id: string): Promise<{ client: RawClient; session: string }> => {
    const session = randomUUID();
    const client = new RawClient(c, id, session);
    await client.opened;
    await client.ready(session, 30_000);
    return { client, session };
  };

  before(
    async () => {
      dataDir = tempDir('gd-left-gw-');
      upstream = await startJupyterServer();
      const store = ClusterStore.open(dataDir);
      createSecretStore({ dataDir }).set(secretKeys.token('university'), upstream.token);
      store.add(
        makeGatewayConfig({
          id: 'university',
          name: 'University',
          url: upstream.url,
          tokenSecret: secretKeys.token('university'),
          pollIntervalMs: 500,
        }),
      );
      store.close();
    },
    { timeout: 90_000 },
  );

  after(async () => {
    for (const c of cores) await c.close().catch(() => undefined);
    if (upstream) {
      const left = await upstreamIds().catch(() => []);
      await upstream.stop();
      assert.deepEqual(left, [], 'no kernels left on the gateway');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('kept upstream at close, re-adopted under the same proxy id with its state', async () => {
    const c1 = await core();
    const info = await c1.registry.start('university--python3');
    assert.equal(info.clusterId, 'university');
    const a = await connect(c1, info.id);
    await a.client.execute('x = 41', a.session);
    a.client.close();
    await c1.close({ leaveRunning: true });

    const state = JSON.parse(readFileSync(path.join(dataDir, LEFT_RUNNING_FILE), 'utf8')) as LeftRunningState;
    assert.equal(state.status, 'left-running');
    assert.equal(state.kernels.length, 1);
    const rec = state.kernels[0];
    assert.equal(rec.id, info.id);
    assert.equal(rec.clusterId, 'university');
    assert.equal(rec.details.kind, 'gateway');
    if (rec.details.kind !== 'gateway') return;
    const upstreamId = rec.details.upstreamId;
    assert.deepEqual(await upstreamIds(), [upstreamId], 'not deleted on the gateway');

    const lines: LogLine[] = [];
    const c2 = await core(lines);
    assert.deepEqual(c2.restored.reattached, [info.id]);
    assert.ok(lines.some((l) => /Re-attached 1 kernel left running/.test(l.message)));
    const listed = c2.registry.list();
    assert.deepEqual(
      listed.map((k) => [k.id, k.clusterId, k.specName]),
      [[info.id, 'university', 'university--python3']],
    );
    const b = await connect(c2, info.id);
    assert.equal((await b.client.execute('print(x + 1)', b.session)).stdout, '42\n');
    b.client.close();

    await c2.registry.shutdown(info.id);
    await waitFor(async () => (await upstreamIds()).length === 0, 20_000, 'the upstream kernel to go');
    await c2.close();
  });
});
