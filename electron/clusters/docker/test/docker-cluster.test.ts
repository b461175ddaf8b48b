// Docker clusters against a real Docker Engine (scripts/testing/dockerd.ts: a private dockerd, an almost empty
// image that runs the host's Python through read-only bind mounts): one container per kernel, its limits and
// KERNEL_* settings as asked, the key never in `inspect`, failures that say what went wrong and leave nothing,
// and orphans found by our labels only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { KernelBackend, LaunchProgress } from '../../../../provisioners/types';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  startDockerd,
  type TestDockerd,
} from '../../../../scripts/testing/dockerd';
import { kernelLabels } from '../../../../provisioners/docker/labels';
import { PYTHON } from '../../test/helpers';
import { interruptSleep, run } from '../../ssh/test/ssh-test-kit';
import type { DockerClusterConfig } from '../../kinds/docker/config';
import { DockerCluster } from '../docker-cluster';
import { diagnoseDocker } from '../diagnose-docker';

const skip = dockerdUnavailable() ?? false;
const INSTALL = 'test-install-1';

describe('Docker cluster: one container per kernel on a real Docker Engine', { skip }, () => {
  let d: TestDockerd;
  const clusters: DockerCluster[] = [];
  const kernels: KernelBackend[] = [];

  const config = (over: Partial<DockerClusterConfig> = {}): DockerClusterConfig => ({
    id: 'dk',
    name: 'Test Docker',
    kind: 'docker',
    host: d.host,
    image: d.image,
    python: PYTHON,
    volumes: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`),
    launchTimeoutSec: 30,
    ...over,
  });
  const cluster = (over: Partial<DockerClusterConfig> = {}): DockerCluster => {
    const c = new DockerCluster(config(over), { installId: INSTALL, log: () => undefined });
    clusters.push(c);
    return c;
  };
  const start = async (
    c: DockerCluster,
    o: { env?: Record<string, string>; specName?: string; onProgress?: (p: LaunchProgress) => void } = {},
  ): Promise<KernelBackend> => {
    const k = await c.startKernel({
      kernelId: randomUUID(),
      specName: o.specName ?? 'python3',
      env: o.env ?? {},
      onProgress: o.onProgress,
    });
    kernels.push(k);
    return k;
  };
  const containers = async (): Promise<string[]> =>
    (await d.docker.listContainers({ all: true })).map((c) => `${c.Names[0]} ${c.State}`);

  before(async () => {
    d = await startDockerd();
  });

  after(async () => {
    await Promise.allSettled(kernels.map((k) => k.shutdown()));
    await Promise.allSettled(clusters.map((c) => c.dispose()));
    await d?.stop();
  });

  test('a kernel starts in a container, runs code, is interrupted, restarts, and its container is gone after shutdown', async () => {
    const c = cluster();
    const phases: string[] = [];
    const k = await start(c, { onProgress: (p) => phases.push(p.phase) });
    for (const p of ['image', 'created', 'started', 'ready'])
      assert.ok(phases.includes(p), `phases: ${phases.join(', ')}`);
    const out = await run(k, 'import os; print(os.environ["KERNEL_ID"], os.path.exists("/.dockerenv"))');
    assert.equal(out.trim(), `${k.id} True`, 'the code ran in the container');
    const listed = await d.docker.listContainers({
      filters: JSON.stringify({ label: [`kernel_id=${k.id}`] }),
    });
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0]!.Labels, kernelLabels(k.id, INSTALL));
    assert.equal(await interruptSleep(k), 'KeyboardInterrupt');
    await run(k, 'x = 41');
    const before = listed[0]!.Id;
    await k.restart();
    assert.equal((await run(k, 'print(globals().get("x"))')).trim(), 'None', 'a fresh kernel after restart');
    const now = await d.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`kernel_id=${k.id}`] }),
    });
    assert.equal(now.length, 1, 'one container per kernel, also after a restart');
    assert.notEqual(now[0]!.Id, before);
    await k.shutdown();
    assert.deepEqual(await containers(), [], 'nothing left after shutdown');
  });

  test('CPU and memory limits, KERNEL_* launch variables, and the key kept out of inspect', async () => {
    // The test image's /tmp is root's (a real image's is 1777): Python's temp dir is the launcher's state dir,
    // which the app makes the kernel user's own.
    const env = { TMPDIR: '/tmp/gateway-desktop' };
    const c = cluster({
      cpus: 2,
      memory: '1g',
      environments: [{ name: 'user', displayName: 'As a user', language: 'python', env }],
    });
    const k = await start(c, {
      specName: 'user',
      env: {
        KERNEL_CPUS: '1.5',
        KERNEL_MEMORY: '512m',
        KERNEL_WORKING_DIR: '/tmp',
        KERNEL_UID: '4321',
        KERNEL_GID: '100',
      },
    });
    const [info] = await d.docker.listContainers({
      filters: JSON.stringify({ label: [`kernel_id=${k.id}`] }),
    });
    const inspect = await d.docker.getContainer(info!.Id).inspect();
    assert.equal(inspect.HostConfig.NanoCpus, 1.5e9);
    assert.equal(inspect.HostConfig.Memory, 512 * 1024 * 1024);
    assert.equal(inspect.Config.User, '4321:100');
    assert.equal(inspect.Config.WorkingDir, '/tmp');
    const out = await run(
      k,
      'import os; print(os.getcwd(), os.getuid(), os.getgid(), os.environ["KERNEL_CPUS"], os.environ["KERNEL_MEMORY"])',
    );
    assert.equal(out.trim(), '/tmp 4321 100 1.5 512m');
    // The cgroup the engine made holds the limits (cgroup v2; v1 names the files differently).
    const cg = await run(
      k,
      'import pathlib; p = pathlib.Path("/sys/fs/cgroup/memory.max"); print(p.read_text().strip() if p.exists() else "n/a")',
    );
    assert.ok(['536870912', 'n/a'].includes(cg.trim()), `memory.max: ${cg}`);
    const key = c.keepInfo(k)?.connection.key;
    assert.ok(key, 'the provisioner holds the key');
    assert.ok(!JSON.stringify(inspect).includes(key), 'the HMAC key is not in inspect output');
    await k.shutdown();
  });

  test('a missing image, a bad engine address and a container that exits at start fail clearly and leave nothing', async () => {
    const t0 = Date.now();
    await assert.rejects(start(cluster({ image: 'nowhere/none:1' })), (err: Error) => {
      assert.match(err.message, /Image "nowhere\/none:1" is not on the Docker Engine at .*pulling it failed/);
      return true;
    });
    await assert.rejects(
      start(cluster({ image: 'nowhere/none:1', pull: 'never' })),
      /no registry pull was attempted/,
    );
    await assert.rejects(start(cluster({ host: 'unix:///tmp/gd-no-such-docker.sock' })), (err: Error) => {
      assert.match(err.message, /gd-no-such-docker\.sock/);
      return true;
    });
    const broken = cluster({
      environments: [
        {
          name: 'broken',
          displayName: 'Broken',
          language: 'python',
          argv: [
            PYTHON,
            '-c',
            'import sys; print("no CUDA device found", file=sys.stderr); sys.exit(3)',
            '{connection_file}',
          ],
        },
      ],
    });
    await assert.rejects(start(broken, { specName: 'broken' }), /no CUDA device found/);
    await assert.rejects(start(cluster({ python: '/opt/nowhere/python3' })), /nowhere/);
    assert.ok(Date.now() - t0 < 30_000, 'each failed within the launch timeout');
    assert.deepEqual(await containers(), [], 'no container left behind');
  });

  test('a bad KERNEL_* value is refused before anything is created, saying what is valid', async () => {
    await assert.rejects(start(cluster(), { env: { KERNEL_MEMORY: 'lots' } }), /KERNEL_MEMORY="lots".*512m/);
    assert.deepEqual(await containers(), []);
  });

  test('orphans: a labelled container of an unknown kernel is listed and removed; others are never touched', async () => {
    const c = cluster();
    const k = await start(c);
    const mk = async (labels: Record<string, string>): Promise<string> => {
      const x = await d.docker.createContainer({ Image: d.image, Cmd: ['/bin/true'], Labels: labels });
      return x.id;
    };
    const orphan = await mk(kernelLabels('gone-kernel', INSTALL));
    const otherInstall = await mk(kernelLabels('their-kernel', 'another-install'));
    const gp = await mk({ app: 'gateway-provisioners', component: 'kernel', kernel_id: 'gp-kernel' });
    const plain = await mk({});
    const orphans = await c.listOrphans([k.id]);
    assert.deepEqual(
      orphans.map((o) => [o.id, o.kernelId]),
      [[orphan, 'gone-kernel']],
    );
    for (const id of [otherInstall, gp, plain])
      await assert.rejects(c.removeOrphan(id), /not a kernel container of this app/);
    await c.removeOrphan(orphan);
    const left = (await d.docker.listContainers({ all: true })).map((x) => x.Id);
    assert.ok(!left.includes(orphan));
    for (const id of [otherInstall, gp, plain])
      assert.ok(left.includes(id), 'a container not ours is left alone');
    for (const id of [otherInstall, gp, plain]) await d.docker.getContainer(id).remove({ force: true });
    await k.shutdown();
  });

  test('Leave running: the container outlives the release and a new runtime re-attaches to the same kernel', async () => {
    const c = cluster();
    const k = await start(c);
    await run(k, 'x = 41');
    const kept = c.keepInfo(k);
    assert.ok(kept);
    await c.releaseKernel(k);
    const c2 = cluster();
    const again = await c2.reattachKernel(k.id, 'python3', kept);
    kernels.push(again);
    assert.equal((await run(again, 'print(x + 1)')).trim(), '42');
    await again.shutdown();
    assert.deepEqual(await containers(), []);
  });

  test('Test connection: the engine answers, the image is there or not; a bad address says what to do', async () => {
    const ok = await diagnoseDocker(config());
    assert.equal(ok.severity, 'ok', ok.title);
    assert.match(ok.detail, /API \d+\.\d+/);
    const noImage = await diagnoseDocker(config({ image: 'nowhere/none:1' }));
    assert.equal(noImage.severity, 'warning');
    assert.match(noImage.title, /lacks the image nowhere\/none:1/);
    const gone = await diagnoseDocker(config({ host: 'unix:///tmp/gd-no-such-docker.sock' }));
    assert.equal(gone.ok, false);
    assert.match(gone.hint, /Start Docker/);
    const refused = await diagnoseDocker(config({ host: 'tcp://127.0.0.1:1' }));
    assert.equal(refused.code, 'refused');
  });
});
