// Orphans through the host API over the real app-core and a private Docker Engine (issue 13: "a container
// labelled as ours whose kernel the app does not know is offered for removal; one without our labels is never
// touched"): listOrphans offers exactly that container (not a listed kernel's, not another install's, not an
// unlabelled one), removeOrphans removes it and refuses the unlabelled one, which stays.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import { installIdOf } from '../../clusters/install-id';
import type { DockerClusterConfig } from '../../clusters/kinds/docker/config';
import { ClusterStore } from '../../clusters/store';
import { PYTHON, tempDir } from '../../clusters/test/helpers';
import { kernelLabels } from '../../../provisioners/docker/labels';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  startDockerd,
  type TestDockerd,
} from '../../../scripts/testing/dockerd';
import { HostError } from '../contract';
import { hostApiExtension } from '../mount';
import type { HostService } from '../service';

describe(
  'kernel containers from an earlier session (host API, real Docker Engine)',
  {
    skip: dockerdUnavailable() ?? false,
    timeout: 180_000,
  },
  () => {
    let d: TestDockerd;
    let core: AppCore;
    let service: HostService;
    let dataDir: string;

    /** A created (never started) container with these labels: what a crashed session can leave. */
    const container = async (labels: Record<string, string>): Promise<string> =>
      (await d.docker.createContainer({ Image: d.image, Cmd: ['/bin/true'], Labels: labels })).id;
    const exists = async (id: string): Promise<boolean> =>
      (await d.docker.listContainers({ all: true })).some((c) => c.Id === id);

    before(async () => {
      d = await startDockerd();
      dataDir = tempDir('gwd-orphans-');
      const store = ClusterStore.open(dataDir);
      const cfg: DockerClusterConfig = {
        id: 'dk',
        name: 'Laptop Docker',
        kind: 'docker',
        enabled: true,
        host: d.host,
        image: d.image,
        python: PYTHON,
        volumes: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`),
        launchTimeoutSec: 30,
      };
      store.add(cfg);
      store.close();
      core = await createAppCore({
        dataDir,
        clusterStore: true,
        proxyOptions: { log: () => undefined },
        extensions: [
          hostApiExtension({ shell: 'browser', serveUi: false, lab: null, onReady: (s) => (service = s) }),
        ],
      });
    });

    after(async () => {
      await core?.close();
      if (d) {
        for (const c of await d.docker.listContainers({ all: true }).catch(() => []))
          await d.docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined);
        await d.stop();
      }
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('only a labelled container of an unknown kernel is offered; removal takes it and leaves the rest', async () => {
      const install = installIdOf(dataDir);
      // A kernel the app lists: its container carries the same labels, and is never offered.
      const listed = await core.registry.start(core.directory.pinnedName('dk', 'python3'));
      const lost = randomUUID();
      const orphan = await container(kernelLabels(lost, install));
      const unlabelled = await container({});
      const otherInstall = await container(kernelLabels(randomUUID(), 'another-laptop'));
      const lookalike = await container({ app: 'gateway-desktop', kernel_id: randomUUID() });

      const { orphans, errors } = await service.listOrphans();
      assert.deepEqual(errors, []);
      assert.deepEqual(
        orphans.map((o) => [o.clusterId, o.clusterName, o.id, o.kernelId, o.image, o.state, o.noun]),
        [['dk', 'Laptop Docker', orphan, lost, d.image, 'created', 'container']],
      );
      assert.ok(
        !orphans.some((o) => o.kernelId === listed.id),
        "the listed kernel's container is not offered",
      );

      const r = await service.removeOrphans({
        items: [
          { clusterId: 'dk', id: orphan },
          { clusterId: 'dk', id: unlabelled },
        ],
      });
      assert.equal(r.removed, 1);
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0]!, /is not a kernel container of this app: it was left alone/);
      assert.equal(await exists(orphan), false, 'the orphan is gone');
      for (const id of [unlabelled, otherInstall, lookalike])
        assert.equal(await exists(id), true, `${id} stays`);
      assert.deepEqual((await service.listOrphans()).orphans, []);

      await assert.rejects(
        service.removeOrphans({ items: [{ clusterId: 'dk' }] } as never),
        (e: unknown) => e instanceof HostError && e.code === 'invalid-input',
      );
      await core.registry.shutdown(listed.id);
    });
  },
);
