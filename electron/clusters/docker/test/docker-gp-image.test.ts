// A Gateway-Provisioners-style image on a Docker cluster, against a real Docker Engine: the image's own CMD is a
// reduced bootstrap-kernel.sh (scripts/testing/gp-bootstrap-kernel.sh) that turns GP's env contract (KERNEL_ID,
// KERNEL_LANGUAGE, RESPONSE_ADDRESS, PUBLIC_KEY, PORT_RANGE) into the arguments of a GP-style launcher
// (scripts/testing/gp_launch_ipykernel.py), both bind-mounted. The launcher sends payload v1 to the cluster's
// response listener; the app dials the ports it names with the key it names, and signals and shutdown go to its
// comm port. The container is removed afterwards, and only the public key is ever in the container's config.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KernelManager } from '../../../../provisioners/kernel-manager';
import type { KernelBackend } from '../../../../provisioners/types';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  startDockerd,
  type TestDockerd,
} from '../../../../scripts/testing/dockerd';
import { GP_BOOTSTRAP, GP_STYLE_LAUNCHER } from '../../../../scripts/testing/gp-kernelspec';
import { PYTHON, tempDir } from '../../test/helpers';
import { interruptSleep, run } from '../../ssh/test/ssh-test-kit';
import type { DockerClusterConfig } from '../../kinds/docker/config';
import { DockerCluster } from '../docker-cluster';

const hasCrypto = spawnSync(PYTHON, ['-c', 'import Cryptodome'], { stdio: 'ignore' }).status === 0;
const skip =
  dockerdUnavailable() ??
  (hasCrypto ? false : `${PYTHON} lacks Cryptodome (apt-get install python3-pycryptodome)`);
const GP_IMAGE = 'gp-style-kernel:1';
const GP_CMD = ['/usr/bin/sh', '/gp/gp-bootstrap-kernel.sh'];

describe(
  'Docker cluster: an image with Gateway Provisioners bootstrap runs its own command',
  { skip },
  () => {
    let d: TestDockerd;
    let c: DockerCluster;
    const kernels: KernelBackend[] = [];

    before(async () => {
      d = await startDockerd();
      // The "GP image": the fixture image with the bootstrap as its CMD (docker commit: no registry, no build).
      const gpDir = tempDir('gwd-gp-image-');
      chmodSync(gpDir, 0o755);
      copyFileSync(GP_BOOTSTRAP, join(gpDir, 'gp-bootstrap-kernel.sh'));
      copyFileSync(GP_STYLE_LAUNCHER, join(gpDir, 'gp_launch_ipykernel.py'));
      const base = await d.docker.createContainer({ Image: d.image, Cmd: ['/usr/bin/true'] });
      const [repo, tag] = GP_IMAGE.split(':');
      await base.commit({ repo, tag, changes: `CMD ${JSON.stringify(GP_CMD)}` });
      await base.remove({ force: true });
      const cfg: DockerClusterConfig = {
        id: 'gp',
        name: 'GP images',
        kind: 'docker',
        host: d.host,
        image: d.image,
        python: PYTHON,
        volumes: [...HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`), `${gpDir}:/gp:ro`],
        launchTimeoutSec: 30,
        environments: [
          {
            name: 'gp_python',
            displayName: 'Python (GP image)',
            language: 'python',
            image: GP_IMAGE,
            launcher: 'gateway-provisioners',
          },
        ],
      };
      c = new DockerCluster(cfg, { installId: 'test-install-gp', log: () => undefined });
    });

    after(async () => {
      await Promise.allSettled(kernels.map((k) => k.shutdown()));
      await c?.dispose();
      await d?.stop();
    });

    test('start, execute, interrupt a sleep, restart, shut down: the payload names the kernel; the container is gone', async () => {
      const spec = (await c.listKernelSpecs()).specs.find((s) => s.name === 'gp_python');
      assert.deepEqual(spec?.spec.argv, [], 'no argv of ours: the image runs its own command');
      const kernelId = randomUUID();
      const k = (await c.startKernel({
        kernelId,
        specName: 'gp_python',
        env: { KERNEL_USERNAME: 'student' },
      })) as KernelManager;
      kernels.push(k);

      const out = await run(
        k,
        'import os, json; from ipykernel.kernelapp import IPKernelApp\n' +
          'e = os.environ\n' +
          'print(json.dumps([e["KERNEL_ID"], e["KERNEL_LANGUAGE"], e["KERNEL_USERNAME"], e["PORT_RANGE"], ' +
          'e["RESPONSE_ADDRESS"], os.path.exists("/.dockerenv"), IPKernelApp.instance().session.key.decode()]))',
      );
      const [kid, lang, user, range, responseAddress, inContainer, kernelKey] = JSON.parse(out) as [
        string,
        string,
        string,
        string,
        string,
        boolean,
        string,
      ];
      assert.deepEqual([kid, lang, user, range, inContainer], [kernelId, 'python', 'student', '0..0', true]);
      assert.match(responseAddress, /^127\.0\.0\.1:\d+$/);
      const info = k.getProvisionerInfo();
      assert.equal(kernelKey, info.connection.key, "the payload's key is the kernel's (and signs what ran)");
      assert.equal(info.connection.ip, '127.0.0.1');

      const [listed] = await d.docker.listContainers({
        filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
      });
      assert.ok(listed, 'one labelled container');
      const inspect = await d.docker.getContainer(listed.Id).inspect();
      assert.deepEqual(inspect.Config.Cmd, GP_CMD, "the image's own CMD ran");
      const text = JSON.stringify(inspect);
      assert.ok(!text.includes(info.connection.key), 'the HMAC key is not in inspect');
      const env = new Map(
        inspect.Config.Env.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]),
      );
      assert.ok((env.get('PUBLIC_KEY') ?? '').length > 200, 'the public key is in the env');
      assert.equal(env.get('RESPONSE_ADDRESS'), responseAddress);
      assert.equal(env.get('KERNEL_ID'), kernelId);

      assert.equal(await interruptSleep(k), 'KeyboardInterrupt');
      assert.match(
        await k.outputTail(),
        /comm request \{"signum": 2\}/,
        'the interrupt went to the comm port',
      );

      await run(k, 'x = 41');
      await k.restart();
      assert.equal(
        (await run(k, 'print(globals().get("x"))')).trim(),
        'None',
        'a fresh kernel after restart',
      );
      assert.notEqual(k.getProvisionerInfo().connection.key, info.connection.key, 'a new payload, a new key');
      const now = await d.docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
      });
      assert.equal(now.length, 1, 'one container per kernel, also after a restart');
      assert.notEqual(now[0]!.Id, listed.Id);

      await k.shutdown();
      const left = await d.docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
      });
      assert.deepEqual(left, [], 'the container is removed after shutdown');
    });

    test('a GP image that exits before it reports fails the start with its output and leaves nothing', async () => {
      const kernelId = randomUUID();
      // No KERNEL_LANGUAGE the bootstrap knows: it exits at once, as GP's does for an unknown language.
      const bad = new DockerCluster(
        {
          ...c.cfg,
          id: 'gp-bad',
          environments: [
            {
              ...c.cfg.environments![0]!,
              name: 'gp_julia',
              language: 'julia',
              displayName: 'Julia (GP image)',
            },
          ],
        },
        { installId: 'test-install-gp', log: () => undefined },
      );
      try {
        await assert.rejects(
          bad.startKernel({ kernelId, specName: 'gp_julia', env: {} }),
          /exited \(exit code 1\) before the kernel started[\s\S]*unsupported KERNEL_LANGUAGE julia/,
        );
      } finally {
        await bad.dispose();
      }
      const left = await d.docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
      });
      assert.deepEqual(left, [], 'nothing left');
    });
  },
);
