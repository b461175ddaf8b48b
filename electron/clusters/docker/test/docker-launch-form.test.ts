// The launch form of container clusters: the KERNEL_* variables a person may set for one kernel, with the
// environment's and the cluster's settings as defaults, checked by the provisioner's own parsers, and before a
// start against a real engine (an image it does not have, when the cluster does not pull, is refused).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dockerdUnavailable, startDockerd, type TestDockerd } from '../../../../scripts/testing/dockerd';
import { checkLaunchValues } from '../../kinds/launch-parameters';
import { dockerKind } from '../../kinds/docker';
import { swarmKind } from '../../kinds/swarm';
import type { DockerClusterConfig } from '../../kinds/docker/config';

const base: DockerClusterConfig = {
  id: 'containers',
  name: 'Containers',
  kind: 'docker',
  enabled: true,
  image: 'lab/python:1',
  python: '/usr/bin/python3',
  memory: '2g',
  environments: [
    { name: 'big', displayName: 'Big', language: 'python', image: 'lab/big:2', cpus: 8, memory: '64g' },
  ],
};

describe('container launch form', () => {
  test('defaults come from the environment, then the cluster; the kernelspec env wins over both', () => {
    const params = (env: string, kenv: Record<string, string> = {}) =>
      Object.fromEntries(
        dockerKind.launchParameters!(base, { name: env, env: kenv }).map((p) => [p.name, p.default]),
      );
    assert.equal(params('python3').KERNEL_IMAGE, 'lab/python:1');
    assert.equal(params('python3').KERNEL_MEMORY, '2g');
    assert.equal(params('big').KERNEL_IMAGE, 'lab/big:2');
    assert.equal(params('big').KERNEL_CPUS, '8');
    assert.equal(params('big', { KERNEL_MEMORY: '16g' }).KERNEL_MEMORY, '16g');
    // Swarm clusters take the same variables.
    const swarm = swarmKind.launchParameters!({ ...base, kind: 'swarm' }, { name: 'python3', env: {} });
    assert.deepEqual(
      swarm.map((p) => p.name),
      dockerKind.launchParameters!(base, { name: 'python3', env: {} }).map((p) => p.name),
    );
  });

  test('values are checked by the parsers the provisioner applies, with what a valid value looks like', () => {
    const params = dockerKind.launchParameters!(base, { name: 'python3', env: {} });
    const errors = checkLaunchValues(params, {
      KERNEL_MEMORY: 'lots',
      KERNEL_CPUS: '-1',
      KERNEL_GPUS: 'two',
      KERNEL_VOLUMES: 'data',
      KERNEL_UID: 'jovyan',
      KERNEL_WORKING_DIR: 'work',
    });
    assert.match(errors.KERNEL_MEMORY!, /KERNEL_MEMORY must be a size of at least 6m, e\.g\. 512m/);
    assert.match(errors.KERNEL_CPUS!, /number of CPUs above 0/);
    assert.match(errors.KERNEL_GPUS!, /whole number of GPUs/);
    assert.match(errors.KERNEL_VOLUMES!, /SOURCE:TARGET/);
    assert.match(errors.KERNEL_UID!, /numeric id/);
    assert.match(errors.KERNEL_WORKING_DIR!, /absolute path/);
    assert.deepEqual(
      checkLaunchValues(params, {
        KERNEL_MEMORY: '512m',
        KERNEL_CPUS: '0.5',
        KERNEL_GPUS: 'all',
        KERNEL_UID: '1000',
      }),
      {},
    );
  });

  describe('against a real engine', { skip: dockerdUnavailable() ?? false }, () => {
    let d: TestDockerd;
    before(async () => {
      d = await startDockerd();
    });
    after(async () => {
      await d?.stop();
    });

    test('an image the engine lacks is refused before the start when the cluster does not pull; one it has passes', async () => {
      const cfg: DockerClusterConfig = { ...base, host: d.host, image: d.image, pull: 'never' };
      const env = { name: 'python3', env: {} };
      const secrets = { get: (): string | undefined => undefined };
      assert.deepEqual(await dockerKind.checkLaunchParameters!(cfg, env, {}, secrets), []);
      const missing = await dockerKind.checkLaunchParameters!(
        cfg,
        env,
        { KERNEL_IMAGE: 'nowhere/none:1' },
        secrets,
      );
      assert.equal(missing.length, 1);
      assert.equal(missing[0]!.field, 'KERNEL_IMAGE');
      assert.match(missing[0]!.message, /no image nowhere\/none:1 .*does not pull/);
      // A cluster that pulls leaves it to the pull (its progress and its error say what happened).
      assert.deepEqual(
        await dockerKind.checkLaunchParameters!(
          { ...cfg, pull: 'missing' },
          env,
          { KERNEL_IMAGE: 'nowhere/none:1' },
          secrets,
        ),
        [],
      );
    });
  });
});
