// A Swarm cluster's leftovers and its "Test connection", against real engines: services labelled as this
// install's kernels that the app does not know are offered for removal (with their secrets and configs), and
// nothing without our labels is ever listed or removed; a diagnosis tells a Swarm manager from a plain engine.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { startDockerd, type TestDockerd } from '../../../../scripts/testing/dockerd';
import { kernelLabels } from '../../../../provisioners/docker/labels';
import { diagnoseSwarm } from '../diagnose-swarm';
import { SwarmTestBed, skipWithoutDockerd, swarmConfig, swarmObjectsOf } from './swarm-kit';

/** A service that runs nothing (0 replicas), labelled as given, with a secret labelled the same. */
async function labelledService(
  d: TestDockerd,
  name: string,
  labels: Record<string, string>,
): Promise<string> {
  await d.docker.createSecret({
    Name: `${name}-secret`,
    Labels: labels,
    Data: Buffer.from('x').toString('base64'),
  });
  const spec: Docker.CreateServiceOptions = {
    Name: name,
    Labels: labels,
    TaskTemplate: { ContainerSpec: { Image: d.image, Command: ['/bin/true'] } },
    Mode: { Replicated: { Replicas: 0 } },
  };
  return (await d.docker.createService(spec)).id;
}

describe('Swarm cluster: orphan services and the diagnosis', { skip: skipWithoutDockerd }, () => {
  let d: TestDockerd;
  let plain: TestDockerd;
  let bed: SwarmTestBed;

  before(async () => {
    [d, plain] = await Promise.all([startDockerd({ swarm: true }), startDockerd()]);
    bed = new SwarmTestBed(d);
  });

  after(async () => {
    await bed?.cleanup();
    await Promise.allSettled([d?.stop(), plain?.stop()]);
  });

  test("a labelled service of an unknown kernel is listed and removed with its secret; others' never", async () => {
    const c = bed.cluster();
    const known = randomUUID();
    const lost = randomUUID();
    await labelledService(d, 'gd-known', kernelLabels(known, bed.installId));
    const lostId = await labelledService(d, 'gd-lost', kernelLabels(lost, bed.installId));
    const otherInstall = await labelledService(
      d,
      'gd-other-install',
      kernelLabels(randomUUID(), randomUUID()),
    );
    const unlabelled = await labelledService(d, 'someones-web', { app: 'web' });
    const lookalike = await labelledService(d, 'lookalike', { kernel_id: randomUUID(), component: 'kernel' });

    const orphans = await c.listOrphans([known]);
    assert.deepEqual(
      orphans.map((o) => [o.id, o.name, o.kernelId]),
      [[lostId, 'gd-lost', lost]],
    );
    for (const id of [unlabelled, lookalike, otherInstall])
      await assert.rejects(c.removeOrphan(id), /not a kernel service of this app|left alone/);

    await c.removeOrphan(lostId);
    assert.deepEqual(await swarmObjectsOf(d, lost), { services: 0, secrets: 0, configs: 0, containers: 0 });
    const left = (await d.docker.listServices()).map((s) => s.Spec?.Name).sort();
    assert.deepEqual(left, ['gd-known', 'gd-other-install', 'lookalike', 'someones-web']);
    assert.equal((await d.docker.listSecrets()).length, 4, "the others' secrets are untouched");
    await c.removeOrphan(lostId); // already gone: fine
  });

  test('diagnosis: a Swarm manager is OK; a plain engine is not a Swarm manager; no engine at the socket', async () => {
    const ok = await diagnoseSwarm(swarmConfig(d));
    assert.equal(ok.ok, true, `${ok.title}\n${ok.detail}`);
    assert.match(ok.title, /Connected to the Swarm/);
    assert.match(ok.detail, /1 node \(1 ready and active, 1 manager\)/);

    const notSwarm = await diagnoseSwarm(swarmConfig(plain));
    assert.equal(notSwarm.ok, false);
    assert.equal(notSwarm.code, 'not-swarm');
    assert.match(notSwarm.title, /is not a Swarm manager/);
    assert.match(notSwarm.hint, /docker swarm init/);

    const none = await diagnoseSwarm(swarmConfig(d, { host: `unix://${d.socketPath}.missing` }));
    assert.equal(none.ok, false);
    assert.equal(none.code, 'refused');
    assert.match(none.title, /docker\.sock\.missing/);

    const gpus = await diagnoseSwarm(swarmConfig(d, { gpus: '1' }));
    assert.equal(gpus.severity, 'warning');
    assert.match(gpus.title, /no ready node advertises NVIDIA-GPU GPUs/);
  });
});
