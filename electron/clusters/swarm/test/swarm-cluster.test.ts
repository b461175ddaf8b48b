// Swarm clusters against a real single-node Swarm (a private dockerd, `docker swarm init`) and real ipykernel
// kernels, each one a Swarm service whose task runs our launcher: what a team with a small Swarm sees.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startDockerd, type TestDockerd } from '../../../../scripts/testing/dockerd';
import type { LaunchProgress } from '../../../../provisioners/types';
import { KernelManager } from '../../../../provisioners/kernel-manager';
import { interruptSleep, run } from '../../ssh/test/ssh-test-kit';
import { SwarmCluster } from '../swarm-cluster';
import { SwarmTestBed, skipWithoutDockerd, swarmConfig, swarmObjectsOf, waitNothingLeft } from './swarm-kit';

interface ServiceSpecSeen {
  Spec: {
    Labels: Record<string, string>;
    TaskTemplate: {
      ContainerSpec: { Labels: Record<string, string>; Env?: string[]; Secrets?: unknown[] };
      RestartPolicy: { Condition: string };
      Resources: {
        Limits: { NanoCPUs?: number; MemoryBytes?: number };
        Reservations: { NanoCPUs?: number; MemoryBytes?: number };
      };
    };
    Mode: { Replicated: { Replicas: number } };
  };
}

describe(
  'Swarm cluster: a kernel per service on a real single-node Swarm',
  { skip: skipWithoutDockerd },
  () => {
    let d: TestDockerd;
    let bed: SwarmTestBed;

    before(async () => {
      d = await startDockerd({ swarm: true });
      bed = new SwarmTestBed(d);
    });

    after(async () => {
      await bed?.cleanup();
      await d?.stop();
    });

    test('start as a service, limits and labels as asked, no key in the spec; execute, interrupt, restart, shut down, nothing left', async () => {
      const c = bed.cluster();
      const phases: LaunchProgress[] = [];
      const kernelId = randomUUID();
      const k = await bed.start(
        c,
        {
          KERNEL_CPUS: '1',
          KERNEL_MEMORY: '256m',
          KERNEL_USERNAME: 'student',
          KERNEL_NOTE: 'client-only-77',
        },
        { kernelId, onProgress: (p) => phases.push(p) },
      );
      assert.ok(
        phases.some((p) => p.phase === 'scheduling'),
        `progress came from the task: ${phases.map((p) => p.phase)}`,
      );

      // It runs in the task's container: the launcher is the container's main process (pid 1).
      const out = await run(
        k,
        'import os; print(os.environ["KERNEL_ID"], os.environ["KERNEL_NOTE"], open("/proc/1/cmdline").read().split("\\0")[1])',
      );
      assert.equal(out.trim(), `${kernelId} client-only-77 /tmp/gd_launcher.py`);

      const services = await d.docker.listServices({
        filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
      });
      assert.equal(services.length, 1, 'one service for the kernel');
      const svc = (await d.docker.getService(services[0]!.ID!).inspect()) as ServiceSpecSeen;
      const spec = svc.Spec;
      assert.equal(spec.Mode.Replicated.Replicas, 1);
      assert.equal(spec.TaskTemplate.RestartPolicy.Condition, 'none');
      assert.deepEqual(spec.TaskTemplate.Resources.Limits, { NanoCPUs: 1e9, MemoryBytes: 256 * 1024 ** 2 });
      assert.deepEqual(spec.TaskTemplate.Resources.Reservations, {
        NanoCPUs: 1e9,
        MemoryBytes: 256 * 1024 ** 2,
      });
      for (const labels of [spec.Labels, spec.TaskTemplate.ContainerSpec.Labels]) {
        assert.equal(labels.app, 'gateway-desktop');
        assert.equal(labels.component, 'kernel');
        assert.equal(labels.kernel_id, kernelId);
        assert.equal(labels['gateway-desktop.install'], bed.installId);
      }
      const key = c.keepInfo(k)?.connection.key;
      assert.ok(key, 'the kernel has a key');
      const seen = JSON.stringify(svc);
      assert.ok(!seen.includes(key), "the kernel's key is not in the service spec");
      assert.ok(!seen.includes('client-only-77'), "a client's variable is not in the service spec");
      assert.equal(spec.TaskTemplate.ContainerSpec.Secrets?.length, 1, 'the request comes as a secret');

      // The container the Swarm runs has the limits too.
      const [ctr] = await d.docker.listContainers({
        filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
      });
      const hostConfig = (await d.docker.getContainer(ctr!.Id).inspect()).HostConfig;
      assert.equal(hostConfig.NanoCpus, 1e9);
      assert.equal(hostConfig.Memory, 256 * 1024 ** 2);

      assert.equal(await interruptSleep(k), 'KeyboardInterrupt');
      await run(k, 'x = 41');
      await k.restart();
      assert.equal((await run(k, 'print(globals().get("x", "fresh"))')).trim(), 'fresh');
      assert.equal((await run(k, 'print(6 * 7)')).trim(), '42');
      assert.equal(
        (await swarmObjectsOf(d, kernelId)).secrets,
        1,
        "the first launch's secret went at restart",
      );

      await k.shutdown();
      await waitNothingLeft(d, kernelId);
    });

    test('KERNEL_UID, KERNEL_GID and KERNEL_WORKING_DIR: the kernel runs as that user there, its request its own', async () => {
      const c = bed.cluster();
      const kernelId = randomUUID();
      const k = await bed.start(
        c,
        { KERNEL_UID: '1000', KERNEL_GID: '100', KERNEL_WORKING_DIR: '/tmp' },
        { kernelId },
      );
      const out = await run(
        k,
        'import os, stat; s = os.stat("/run/secrets/gd-request"); print(os.getuid(), os.getgid(), os.getcwd(), s.st_uid, oct(stat.S_IMODE(s.st_mode)))',
      );
      assert.equal(out.trim(), '1000 100 /tmp 1000 0o400');
      await k.shutdown();
      await waitNothingLeft(d, kernelId);
    });

    test('a task the Swarm cannot place fails with its own reason within the launch timeout, leaving nothing', async () => {
      const c = bed.cluster();
      const kernelId = randomUUID();
      const t0 = Date.now();
      await assert.rejects(
        bed.start(c, { KERNEL_CPUS: '1000', KERNEL_LAUNCH_TIMEOUT: '6' }, { kernelId }),
        (err: Error) => {
          assert.match(err.message, /no suitable node \(insufficient resources on 1 node\)/);
          assert.match(err.message, /within 6 s/);
          return true;
        },
      );
      assert.ok(Date.now() - t0 < 20_000, `failed in ${Date.now() - t0} ms`);
      await waitNothingLeft(d, kernelId);
    });

    test("a container that cannot start fails at once with the Swarm's words, leaving nothing", async () => {
      const c = bed.cluster({ python: '/nonexistent/python3' });
      const kernelId = randomUUID();
      const t0 = Date.now();
      await assert.rejects(bed.start(c, {}, { kernelId }), (err: Error) => {
        assert.match(err.message, /ended before the kernel was up \((failed|rejected)/);
        assert.match(err.message, /nonexistent/);
        return true;
      });
      assert.ok(Date.now() - t0 < 30_000, `failed in ${Date.now() - t0} ms (not the 60 s timeout)`);
      await waitNothingLeft(d, kernelId);
    });

    test('a start cancelled while the task waits for a node leaves nothing', async () => {
      const c = bed.cluster();
      const kernelId = randomUUID();
      const ac = new AbortController();
      const started = bed.start(
        c,
        { KERNEL_CPUS: '1000' },
        {
          kernelId,
          signal: ac.signal,
          onProgress: (p) => {
            if (p.detail?.includes('insufficient resources')) ac.abort();
          },
        },
      );
      await assert.rejects(started, (err: Error) => err.name === 'AbortError');
      await waitNothingLeft(d, kernelId);
    });

    test('Leave running: the service stays, a new cluster runtime re-attaches it with the saved state', async () => {
      const c = bed.cluster();
      const kernelId = randomUUID();
      const k = await bed.start(c, {}, { kernelId });
      await run(k, 'kept = 7');
      const kept = c.keepInfo(k);
      assert.ok(kept);
      await c.releaseKernel(k);
      assert.equal((await swarmObjectsOf(d, kernelId)).services, 1, 'the service runs on');

      const again = new SwarmCluster(swarmConfig(d), { installId: bed.installId, log: () => undefined });
      const k2 = await again.reattachKernel(kernelId, 'python3', JSON.parse(JSON.stringify(kept)));
      bed.kernels.push(k2);
      assert.ok(k2 instanceof KernelManager);
      assert.equal((await run(k2, 'print(kept * 6)')).trim(), '42');
      await k2.shutdown();
      await waitNothingLeft(d, kernelId);
      await assert.rejects(again.reattachKernel(kernelId, 'python3', JSON.parse(JSON.stringify(kept))));
    });
  },
);
