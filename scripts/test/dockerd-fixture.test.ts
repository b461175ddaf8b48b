// The private Docker Engine fixture (scripts/testing/dockerd.ts) works here: the Docker suites rely on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOST_RUNTIME_MOUNTS, dockerdUnavailable, startDockerd } from '../testing/dockerd';

test(
  'dockerd fixture: a real engine runs the host python3 with ipykernel in a container, and becomes a Swarm',
  { skip: dockerdUnavailable() ?? false },
  async () => {
    const d = await startDockerd({ swarm: true });
    try {
      const c = await d.docker.createContainer({
        Image: d.image,
        Cmd: ['/usr/bin/python3', '-c', 'import ipykernel; print(ipykernel.__version__)'],
        HostConfig: { NetworkMode: 'host', Binds: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`) },
      });
      await c.start();
      const r = (await c.wait()) as { StatusCode: number };
      assert.equal(r.StatusCode, 0);
      const logs = (await c.logs({ stdout: true })).toString('utf8');
      assert.match(logs, /6\.\d+/);
      await c.remove();
      const info = (await d.docker.info()) as { Swarm?: { LocalNodeState?: string } };
      assert.equal(info.Swarm?.LocalNodeState, 'active');
    } finally {
      await d.stop();
    }
  },
);
