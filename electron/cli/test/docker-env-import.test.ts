// `npm run cluster -- env import` of `jupyter docker-spec` kernelspecs into a Docker cluster (issue 13): the
// kernel.json Gateway Provisioners writes becomes an environment with its image, the output says what was used
// and ignored, the cluster lists it as a kernelspec that runs that image; specs of other provisioners or
// languages are refused with nothing saved. The swarm kind's editor is the same with its provisioner name.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runClusterCli } from '../cluster-cli';
import { ClusterStore } from '../../clusters/store';
import type { DockerClusterConfig } from '../../clusters/kinds/docker/config';
import { dockerEnvironments } from '../../clusters/kinds/docker/environments';
import { dockerKernelSpecs } from '../../clusters/docker/docker-environments';
import { SWARM_PROVISIONER_NAME } from '../../../provisioners/docker/swarm-provisioner';
import { tempDir } from '../../clusters/test/helpers';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runClusterCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: {} });
  return { code, out, err };
}

/** A kernel.json as `jupyter docker-spec install [--swarm]` writes it (reference §3.3). */
function gpDockerSpec(provisioner: string, language = 'python', image = 'elyra/kernel-py:3.2.3') {
  return {
    argv: [
      'python',
      '/usr/local/share/jupyter/kernels/docker_python/scripts/launch_docker.py',
      '--kernel-id',
      '{kernel_id}',
      '--port-range',
      '{port_range}',
      '--response-address',
      '{response_address}',
      '--public-key',
      '{public_key}',
      '--kernel-class-name',
      'ipykernel.ipkernel.IPythonKernel',
    ],
    env: {},
    display_name: 'Docker Python',
    language,
    interrupt_mode: 'signal',
    metadata: {
      debugger: true,
      kernel_provisioner: {
        provisioner_name: provisioner,
        config: { image_name: image, launch_timeout: 30 },
      },
    },
  };
}

describe('npm run cluster -- env import of docker-spec kernelspecs', () => {
  const dir = tempDir('gwd-dockerenv-');
  const specs = tempDir('gwd-dockerspecs-');
  const dd = ['--data-dir', dir];
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(specs, { recursive: true, force: true });
  });
  const write = (name: string, json: unknown): string => {
    mkdirSync(path.join(specs, name), { recursive: true });
    writeFileSync(path.join(specs, name, 'kernel.json'), JSON.stringify(json));
    return path.join(specs, name);
  };
  const saved = (): DockerClusterConfig => {
    const st = ClusterStore.open(dir);
    try {
      return st.require('Dock') as DockerClusterConfig;
    } finally {
      st.close();
    }
  };

  test('a docker-provisioner spec becomes an environment with its image; the output says what was ignored', async () => {
    const add = await cli([
      'add',
      'docker',
      'Dock',
      '--image',
      'base:1',
      '--python',
      '/usr/bin/python3',
      ...dd,
    ]);
    assert.equal(add.code, 0, add.err);
    const r = await cli([
      'env',
      'import',
      'Dock',
      write('docker_python', gpDockerSpec('docker-provisioner')),
      ...dd,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Imported .*docker_python\/kernel\.json as environment "docker_python" of "Dock"/);
    assert.match(r.out, /Used:\n(.*\n)*\s+image elyra\/kernel-py:3\.2\.3\n/);
    assert.match(r.out, /launch timeout 30 s/);
    assert.match(r.out, /Ignored:\n(.*\n)*\s+argv python .*launch_docker\.py .*the app makes it/);
    assert.match(r.out, /metadata\.debugger: not used/);
    assert.deepEqual(saved().environments, [
      {
        name: 'docker_python',
        displayName: 'Docker Python',
        language: 'python',
        image: 'elyra/kernel-py:3.2.3',
        launchTimeoutSec: 30,
      },
    ]);
    // The cluster lists it as a kernelspec that runs its image with the cluster's Python.
    const listed = dockerKernelSpecs(saved()).find((s) => s.name === 'docker_python');
    assert.equal(listed?.spec.metadata?.kernel_provisioner?.config?.image, 'elyra/kernel-py:3.2.3');
    assert.equal(listed?.spec.argv[0], '/usr/bin/python3');
    const list = await cli(['env', 'list', 'Dock', ...dd]);
    assert.equal(list.code, 0, list.err);
    assert.match(
      list.out,
      /python3 +Python 3 on Dock \(python\); image base:1 \(the cluster's\).*\[built in\]/,
    );
    assert.match(list.out, /docker_python +Docker Python \(python\); image elyra\/kernel-py:3\.2\.3; python/);
  });

  test('a Swarm spec imports into a Docker cluster under another name, and says so', async () => {
    const r = await cli([
      'env',
      'import',
      'Dock',
      write('swarm_python', gpDockerSpec(SWARM_PROVISIONER_NAME, 'python', 'lab/py:2')),
      'py2',
      ...dd,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /written for docker-swarm-provisioner; here it runs as one container per kernel/);
    assert.deepEqual(
      saved().environments?.map((e) => [e.name, e.image]),
      [
        ['docker_python', 'elyra/kernel-py:3.2.3'],
        ['py2', 'lab/py:2'],
      ],
    );
  });

  test('other provisioners, other languages and a taken name are refused and nothing is saved', async () => {
    const before = JSON.stringify(saved());
    const k8s = await cli([
      'env',
      'import',
      'Dock',
      write('k8s_python', gpDockerSpec('kubernetes-provisioner')),
      ...dd,
    ]);
    assert.equal(k8s.code, 1);
    assert.match(k8s.err, /names the provisioner "kubernetes-provisioner": only container kernelspecs/);
    const r = await cli([
      'env',
      'import',
      'Dock',
      write('docker_r', gpDockerSpec('docker-provisioner', 'R')),
      ...dd,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /its language is R: the app starts Python/);
    const again = await cli(['env', 'import', 'Dock', path.join(specs, 'docker_python'), ...dd]);
    assert.equal(again.code, 1);
    assert.match(again.err, /has an environment "docker_python" already/);
    assert.equal(JSON.stringify(saved()), before);
  });

  test('config.launcher "gateway-provisioners": the image runs its own bootstrap, any language; a Swarm ignores it', async () => {
    const spec = gpDockerSpec('docker-provisioner', 'R', 'elyra/kernel-r:3.2.3');
    Object.assign(spec.metadata.kernel_provisioner.config, { launcher: 'gateway-provisioners' });
    const r = await cli(['env', 'import', 'Dock', write('docker_r_gp', spec), ...dd]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /launcher gateway-provisioners: the image's own command/);
    assert.match(r.out, /argv python .*launch_docker\.py .*runs the image's own command/);
    const env = saved().environments?.find((e) => e.name === 'docker_r_gp');
    assert.deepEqual(env && { language: env.language, launcher: env.launcher }, {
      language: 'R',
      launcher: 'gateway-provisioners',
    });
    const listed = dockerKernelSpecs(saved()).find((s) => s.name === 'docker_r_gp');
    assert.deepEqual(listed?.spec.argv, [], 'no argv of ours');
    assert.equal(listed?.spec.metadata?.kernel_provisioner?.config?.launcher, 'gateway-provisioners');
    const swarm = dockerEnvironments<DockerClusterConfig>(SWARM_PROVISIONER_NAME);
    const py = gpDockerSpec(SWARM_PROVISIONER_NAME);
    Object.assign(py.metadata.kernel_provisioner.config, { launcher: 'gateway-provisioners' });
    const onSwarm = swarm.fromKernelSpec(py, { dirName: 'swarm_gp', cfg: saved() });
    assert.equal(onSwarm.item.launcher, undefined);
    assert.ok(onSwarm.ignored.some((s) => s.startsWith('config.launcher: a Swarm runs our launcher')));
  });

  test("the swarm kind's editor takes docker-swarm-provisioner specs as its own", () => {
    const swarm = dockerEnvironments<DockerClusterConfig>(SWARM_PROVISIONER_NAME);
    const cfg = saved();
    const own = swarm.fromKernelSpec(gpDockerSpec(SWARM_PROVISIONER_NAME), { dirName: 'docker_python', cfg });
    assert.ok(!own.imported.some((s) => s.startsWith('written for')), own.imported.join('\n'));
    assert.equal(own.item.image, 'elyra/kernel-py:3.2.3');
    const plain = swarm.fromKernelSpec(gpDockerSpec('docker-provisioner'), { dirName: 'docker_python', cfg });
    assert.ok(
      plain.imported.includes('written for docker-provisioner; here it runs as one Swarm service per kernel'),
    );
  });
});
