// A Docker cluster whose engine is ssh://root@127.0.0.1:<private sshd>: the engine API goes over SSH
// (`docker system dial-stdio`, reaching the private dockerd through the session's DOCKER_HOST), and the kernel's
// ports (host network, bound to the host's 127.0.0.1) are reached through forwards over the SSH link, not
// dialled by this process. /proc shows who holds the connections to the kernel's ports: sshd's session.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KernelBackend, KernelEvent } from '../../../../provisioners/types';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  startDockerd,
  type TestDockerd,
} from '../../../../scripts/testing/dockerd';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import { PYTHON, tempDir, waitFor } from '../../test/helpers';
import { descendsFrom, socketHolders } from '../../ssh/test/procfs';
import { run, skipWithoutSshd } from '../../ssh/test/ssh-test-kit';
import type { DockerClusterConfig } from '../../kinds/docker/config';
import { DockerCluster } from '../docker-cluster';

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return 'gone';
  }
};

const skip = dockerdUnavailable() ?? skipWithoutSshd;
const PORTS = ['shell_port', 'iopub_port', 'control_port', 'hb_port'] as const;

describe('Docker cluster on an ssh:// engine: kernel ports carried over SSH', { skip }, () => {
  let d: TestDockerd;
  let sshd: TestSshd;
  let home: string | undefined;
  const savedHome = process.env.HOME;
  const savedAgent = process.env.SSH_AUTH_SOCK;
  const clusters: DockerCluster[] = [];
  const kernels: KernelBackend[] = [];

  before(async () => {
    d = await startDockerd();
    sshd = await startSshd({ setEnv: { DOCKER_HOST: d.host } });
    // The docker kind has no known_hosts setting: ~/.ssh/known_hosts of a private HOME lists the sshd's key
    // (and no ~/.ssh/config or agent of the machine's interferes).
    home = tempDir('gwd-docker-ssh-home-');
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    copyFileSync(sshd.knownHostsFile, path.join(home, '.ssh', 'known_hosts'));
    process.env.HOME = home;
    delete process.env.SSH_AUTH_SOCK;
  });

  after(async () => {
    await Promise.allSettled(kernels.map((k) => k.shutdown()));
    await Promise.allSettled(clusters.map((c) => c.dispose()));
    process.env.HOME = savedHome;
    if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
    await sshd?.stop();
    await d?.stop();
  });

  const cluster = (over: Partial<DockerClusterConfig> = {}): DockerCluster => {
    const c = new DockerCluster(
      {
        id: 'dk-ssh',
        name: 'Docker over SSH',
        kind: 'docker',
        host: `ssh://root@127.0.0.1:${sshd.port}`,
        identityFile: sshd.clientKey,
        image: d.image,
        python: PYTHON,
        volumes: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`),
        launchTimeoutSec: 60,
        ...over,
      },
      { installId: 'test-install-ssh', log: () => undefined },
    );
    clusters.push(c);
    return c;
  };

  test('a kernel starts, runs code, survives a dropped link, shuts down; its ports were reached by sshd, and the container is gone', async () => {
    const c = cluster();
    const k = await c.startKernel({ kernelId: randomUUID(), specName: 'python3', env: {} });
    kernels.push(k);
    const events: KernelEvent['type'][] = [];
    k.onEvent((e) => events.push(e.type));
    assert.equal(
      (await run(k, 'import os; print(os.environ["KERNEL_ID"], os.path.exists("/.dockerenv"))')).trim(),
      `${k.id} True`,
      'the code ran in the container',
    );

    // The kernel's own ports (saved state) are on the engine host's loopback; every connection to them is
    // held by a process of the sshd (its session's forwards), none by this process.
    const kernel = c.keepInfo(k)?.connection;
    assert.ok(kernel, 'the provisioner keeps the kernel');
    assert.equal(kernel.ip, '127.0.0.1');
    for (const p of PORTS) {
      const holders = socketHolders(kernel[p], 'established-to');
      // ipykernel connects to some of its own ports (its internal threads): those are the kernel's, in the container.
      const others = holders.filter((pid) => !cmdline(pid).includes(`kernel-${k.id}.json`));
      assert.ok(others.length > 0, `something outside the kernel is connected to its ${p}`);
      for (const pid of others) {
        // (sshd is this process's child, so only this process itself is ruled out here.)
        assert.notEqual(pid, process.pid, `this process dials the kernel's ${p} itself`);
        assert.ok(
          descendsFrom(pid, sshd.pid),
          `pid ${pid} (${cmdline(pid)}) holds a connection to ${p}: not the sshd's`,
        );
      }
    }
    const containers = await d.docker.listContainers({
      filters: JSON.stringify({ label: [`kernel_id=${k.id}`] }),
    });
    assert.equal(containers.length, 1, 'one container for the kernel');

    // A dropped SSH connection: disconnected, then reconnected; the same kernel answers.
    await run(k, 'x = 41');
    await sshd.dropSessions();
    await waitFor('disconnected', () => events.includes('disconnected'), 15_000);
    await waitFor('reconnected', () => events.includes('reconnected'), 30_000);
    assert.equal((await run(k, 'print(x + 1)')).trim(), '42', 'the same kernel, its state kept');
    assert.ok(!events.includes('dead'));

    await k.shutdown();
    const left = await d.docker.listContainers({ all: true });
    assert.deepEqual(
      left.map((x) => x.Names[0]),
      [],
      'the container is gone after shutdown',
    );
  });
});
