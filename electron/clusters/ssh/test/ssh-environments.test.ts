// An SSH cluster's kernel environments: the store, the CLI and the host API's validator give one verdict on
// them; a Gateway Provisioners SSH kernel.json imports into one; each is listed as a kernelspec carrying its
// own launch timeout and port range, which a start uses.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runClusterCli } from '../../../cli/cluster-cli';
import { ClusterStore } from '../../store';
import { clusterKinds } from '../../kinds';
import { checkClusterInput } from '../../kinds/input';
import type { SshClusterConfig, SshEnvironment } from '../../kinds/ssh/config';
import { fromGpKernelSpec } from '../../kinds/ssh/environments-editor';
import type { SettingItem } from '../../../host-api/models';
import type { SshHostAccess } from '../../../../provisioners/ssh/ssh-provisioner';
import { SshCluster } from '../ssh-cluster';
import { accessFor, launchTimeoutMs, sshKernelSpecs } from '../ssh-environments';
import { tempDir } from '../../test/helpers';
import { gpLauncherArgv } from '../../../../scripts/testing/gp-kernelspec';

const LAB: SshClusterConfig = {
  id: 'lab',
  name: 'Lab',
  kind: 'ssh',
  hosts: ['gpu1.lab.example.edu', 'gpu2.lab.example.edu'],
  python: '/usr/bin/python3',
  launchTimeoutSec: 45,
};

/** What `jupyter ssh-spec install --remote-hosts ... --port-range ...` writes (GP 0.4, ssh_python). */
const GP_SSH_PYTHON = {
  argv: gpLauncherArgv('python', '/usr/local/share/jupyter/kernels/ssh_python/scripts/launch_ipykernel.py'),
  env: { GP_KERNEL_LOG_DIR: '/var/tmp' },
  display_name: 'Python SSH',
  language: 'python',
  interrupt_mode: 'signal',
  metadata: {
    debugger: true,
    kernel_provisioner: {
      provisioner_name: 'distributed-provisioner',
      config: {
        launch_timeout: 30,
        port_range: '40000..41000',
        remote_hosts: ['GPU1.lab.example.edu', 'login.lab.example.edu'],
        authorized_users: ['ada'],
      },
    },
  },
};

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runClusterCli(args, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: {},
  });
  return { code, out, err };
}

/** The messages of a verdict without the `cluster "Lab": ` the store and the CLI put in front. */
const words = (problems: string[]): string[] =>
  problems.map((p) => p.replace(/^cluster "[^"]*": /, '')).sort();

describe('SSH kernel environments', () => {
  const dir = tempDir('gwd-sshenv-');
  const dd = ['--data-dir', dir];
  after(() => rmSync(dir, { recursive: true, force: true }));
  const store = ClusterStore.open(dir);
  store.add(LAB);
  store.close();

  test('one verdict from the store, the CLI and the host API, naming the environment and what to fix', async () => {
    const bad: SshEnvironment = {
      name: 'r',
      displayName: 'R',
      language: 'R',
      argv: ['/opt/r/bin/R', '--slave'],
      hosts: ['gpu3.lab.example.edu'],
      portRange: '9000-9100',
    };
    const expected = [
      'environment "r": "gpu3.lab.example.edu" is not a host of this cluster (its hosts: gpu1.lab.example.edu, gpu2.lab.example.edu); add it to the cluster\'s hosts first',
      'environment "r": "9000-9100" is not a port range: write LO..HI, e.g. 40000..40100 (1024-65535, 6 ports or more)',
      'environment "r": the argv must contain {connection_file} (where the kernel reads its ports), e.g. /opt/r/bin/R --slave -e IRkernel::main() --args {connection_file}; or be a Gateway Provisioners launcher argv with {response_address}',
    ].sort();
    // The store's validator (clusters.json, every save).
    const cfg = { ...LAB, environments: [bad] };
    assert.deepEqual(words(clusterKinds.check(cfg).problems), expected);
    const s = ClusterStore.open(dir);
    try {
      assert.throws(() => s.update(cfg), /is not a host of this cluster/);
    } finally {
      s.close();
    }
    // The CLI.
    const r = await cli([
      'env',
      'add',
      'Lab',
      'r',
      '--display-name',
      'R',
      '--language',
      'R',
      '--argv',
      '/opt/r/bin/R --slave',
      '--host',
      'gpu3.lab.example.edu',
      '--port-range',
      '9000-9100',
      ...dd,
    ]);
    assert.equal(r.code, 1);
    const cliLines = r.err.split('\n').filter((l) => l.startsWith('  cluster "Lab": '));
    assert.deepEqual(words(cliLines.map((l) => l.trim())), expected);
    // The host API (checkCluster / editCluster build the input the same way): each message at its field.
    const kind = clusterKinds.get('ssh')!;
    const input = {
      name: 'Lab',
      kind: 'ssh',
      settings: { ...kind.values(LAB), environments: [bad as unknown as SettingItem] },
    };
    const fieldErrors = checkClusterInput(input, { id: 'lab', prev: LAB });
    assert.deepEqual(Object.values(fieldErrors).sort(), expected);
    assert.deepEqual(Object.keys(fieldErrors).sort(), [
      'environments.0.argv',
      'environments.0.hosts',
      'environments.0.portRange',
    ]);
  });

  test('names, timeouts and variables the schema refuses are told in words, at the field', () => {
    const kind = clusterKinds.get('ssh')!;
    const envs: SettingItem[] = [
      { name: 'Torch GPU', displayName: 'PyTorch', language: 'python', launchTimeoutSec: 'soon' },
      { name: 'python3', displayName: 'Another', language: 'python', python: 'py', argv: ['x'] },
      { name: 'ok', displayName: '', language: 'python', env: { '1BAD': 'x' } },
    ];
    const errors = checkClusterInput(
      { name: 'Lab', kind: 'ssh', settings: { ...kind.values(LAB), environments: envs } },
      { id: 'lab', prev: LAB },
    );
    assert.match(errors['environments.0.name']!, /lowercase letters, digits/);
    assert.match(errors['environments.0.launchTimeoutSec']!, /positive number of seconds, not "soon"/);
    assert.match(errors['environments.1.name']!, /"python3" is the cluster's own Python environment/);
    assert.match(errors['environments.1.python']!, /a remote Python or an argv, not both/);
    assert.match(errors['environments.2.displayName']!, /give it a display name/);
    assert.match(errors['environments.2.env']!, /"1BAD" is not an environment variable name/);
  });

  test('a Gateway Provisioners SSH kernel.json imports: hosts from remote_hosts, argv as it is', async () => {
    const r = fromGpKernelSpec(GP_SSH_PYTHON, { dirName: 'ssh_python', cfg: LAB });
    assert.deepEqual(r.item, {
      name: 'ssh_python',
      displayName: 'Python SSH',
      language: 'python',
      argv: GP_SSH_PYTHON.argv,
      hosts: ['gpu1.lab.example.edu'],
      launchTimeoutSec: 30,
      portRange: '40000..41000',
      env: { GP_KERNEL_LOG_DIR: '/var/tmp' },
    });
    assert.ok(
      r.ignored.some((s) => s.startsWith('remote_hosts login.lab.example.edu: not hosts of this cluster')),
    );
    assert.ok(r.ignored.some((s) => s.startsWith('config.authorized_users')));
    assert.ok(r.ignored.some((s) => s.startsWith('metadata.debugger')));
    assert.throws(
      () =>
        fromGpKernelSpec(
          {
            ...GP_SSH_PYTHON,
            metadata: { kernel_provisioner: { provisioner_name: 'kubernetes-provisioner' } },
          },
          { dirName: 'k8s_python', cfg: LAB },
        ),
      /"kubernetes-provisioner", which does not run kernels over SSH/,
    );
    assert.throws(
      () => fromGpKernelSpec({ ...GP_SSH_PYTHON, metadata: {} }, { dirName: 'python3', cfg: LAB }),
      /not a Gateway Provisioners SSH kernelspec/,
    );

    // Through the CLI, from the kernelspec's directory: saved, and listed as a kernelspec.
    const specDir = join(dir, 'kernels', 'ssh_python');
    mkdirSync(specDir, { recursive: true });
    writeFileSync(join(specDir, 'kernel.json'), JSON.stringify(GP_SSH_PYTHON, null, 2));
    const imp = await cli(['env', 'import', 'Lab', specDir, ...dd]);
    assert.equal(imp.code, 0, imp.err);
    assert.match(imp.out, /as environment "ssh_python" of "Lab"/);
    assert.match(imp.out, /Ignored:\n.*remote_hosts login\.lab\.example\.edu/);
    const again = await cli(['env', 'import', 'Lab', join(specDir, 'kernel.json'), ...dd]);
    assert.equal(again.code, 1);
    assert.match(again.err, /has an environment "ssh_python" already/);
    const s = ClusterStore.open(dir);
    const saved = s.require('Lab') as SshClusterConfig;
    s.close();
    const spec = sshKernelSpecs(saved).find((k) => k.name === 'ssh_python');
    assert.ok(spec, 'listed as a kernelspec');
    assert.deepEqual(spec.spec.argv, GP_SSH_PYTHON.argv);
    assert.deepEqual(spec.spec.metadata?.kernel_provisioner, {
      provisioner_name: 'distributed-provisioner',
      config: { remote_hosts: ['gpu1.lab.example.edu'], launch_timeout: 30, port_range: '40000..41000' },
    });
  });

  test('environments are the kernelspecs the runtime lists, with their own timeout and port range', async () => {
    const cfg: SshClusterConfig = {
      ...LAB,
      portRange: '50000..50100',
      environments: [
        {
          name: 'torch',
          displayName: 'PyTorch',
          language: 'python',
          python: '/opt/torch/bin/python',
          hosts: ['gpu2.lab.example.edu'],
          launchTimeoutSec: 300,
          portRange: '41000..41010',
          env: { OMP_NUM_THREADS: '4' },
        },
        {
          name: 'ir',
          displayName: 'R',
          language: 'R',
          argv: ['/opt/r/bin/R', '--slave', '-e', 'IRkernel::main()', '--args', '{connection_file}'],
        },
      ],
    };
    assert.deepEqual(clusterKinds.check(cfg).problems, []);
    const runtime = new SshCluster(cfg, { secrets: { get: () => undefined }, log: () => undefined });
    try {
      const listed = await runtime.listKernelSpecs();
      assert.equal(listed.default, 'python3');
      assert.deepEqual(
        listed.specs.map((s) => [s.name, s.spec.display_name, s.spec.language, s.spec.argv[0]]),
        [
          ['python3', 'Python 3 on Lab', 'python', '/usr/bin/python3'],
          ['torch', 'PyTorch', 'python', '/opt/torch/bin/python'],
          ['ir', 'R', 'R', '/opt/r/bin/R'],
        ],
      );
    } finally {
      await runtime.dispose();
    }
    const [py, torch, ir] = sshKernelSpecs(cfg);
    assert.deepEqual(torch!.spec.metadata?.kernel_provisioner, {
      provisioner_name: 'ssh-provisioner',
      config: {
        python: '/opt/torch/bin/python',
        hosts: ['gpu2.lab.example.edu'],
        launch_timeout: 300,
        port_range: '41000..41010',
      },
    });
    assert.deepEqual(torch!.spec.env, { OMP_NUM_THREADS: '4' });
    assert.equal(ir!.spec.metadata?.kernel_provisioner?.provisioner_name, 'ssh-provisioner');
    // The deadline: the client's KERNEL_LAUNCH_TIMEOUT, else the environment's, else the cluster's.
    assert.equal(launchTimeoutMs(cfg, torch!, {}), 300_000);
    assert.equal(launchTimeoutMs(cfg, py!, {}), 45_000);
    assert.equal(launchTimeoutMs(cfg, torch!, { KERNEL_LAUNCH_TIMEOUT: '20' }), 20_000);
    // The remote port range: the environment's, else the cluster's (the access's).
    const access = { portRange: { lo: 50000, hi: 50100 } } as unknown as SshHostAccess;
    assert.deepEqual(accessFor(access, torch!.spec.metadata!.kernel_provisioner!.config!).portRange, {
      lo: 41000,
      hi: 41010,
    });
    assert.equal(accessFor(access, py!.spec.metadata!.kernel_provisioner!.config!), access);
  });
});
