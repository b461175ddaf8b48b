// The ssh kind as a user meets it before any connection: `cluster add ssh` with its flags, the errors that say
// what to fix, the saved config, secrets kept out of clusters.json, and the kernel environments it lists.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runClusterCli } from '../../../cli/cluster-cli';
import { clusterUsage } from '../../../cli/cluster-usage';
import { ClusterStore } from '../../store';
import { clusterKinds } from '../../kinds';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import { sshKernelSpecs } from '../ssh-cluster';
import { tempDir } from '../../test/helpers';

async function cli(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await runClusterCli(args, { out: (s) => (out += s), err: (s) => (err += s), env });
  return { code, out, err };
}

describe('the ssh cluster kind', () => {
  const dir = tempDir('gwd-sshkind-');
  const dd = ['--data-dir', dir];
  const keyFile = join(dir, 'lab_ed25519');
  writeFileSync(keyFile, 'not read until a connection is made\n', { mode: 0o600 });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--help lists `add ssh` and its flags', () => {
    const help = clusterUsage();
    assert.match(help, /add ssh NAME --host H/);
    for (const flag of [
      '--user U',
      '--identity FILE',
      '--python PATH',
      '--jump USER@HOST',
      '--port-range LO..HI',
    ])
      assert.ok(help.includes(flag), `--help mentions ${flag}`);
  });

  test('add ssh saves the hosts and settings; the passphrase goes to the secret store, not clusters.json', async () => {
    const r = await cli(
      [
        'add',
        'ssh',
        'Lab',
        '--host',
        'gpu1.lab.example.edu',
        '--host',
        'gpu2.lab.example.edu',
        '--user',
        'ada',
        '--port',
        '2222',
        '--identity',
        keyFile,
        '--python',
        '/opt/py/bin/python3',
        '--passphrase-env',
        'LAB_PASS',
        '--balancing',
        'least-connections',
        ...dd,
      ],
      { LAB_PASS: 'correct horse' },
    );
    assert.equal(r.code, 0, r.err);
    const store = ClusterStore.open(dir);
    const c = store.require('Lab') as SshClusterConfig;
    store.close();
    assert.deepEqual(c.hosts, ['gpu1.lab.example.edu', 'gpu2.lab.example.edu']);
    assert.equal(c.user, 'ada');
    assert.equal(c.port, 2222);
    assert.equal(c.identityFile, keyFile);
    assert.equal(c.python, '/opt/py/bin/python3');
    assert.equal(c.balancing, 'least-connections');
    assert.ok(c.passphraseSecret, 'a secret key is recorded');
    assert.ok(!readFileSync(join(dir, 'clusters.json'), 'utf8').includes('correct horse'));
    const list = await cli(['list', ...dd]);
    assert.match(list.out, /Lab\s+ssh\s+ssh ada@gpu1\.lab\.example\.edu, gpu2\.lab\.example\.edu/);
  });

  test('bad input is refused with what to fix', async () => {
    const noHost = await cli(['add', 'ssh', 'A', ...dd]);
    assert.equal(noHost.code, 2);
    assert.match(noHost.err, /--host H/);
    const badPort = await cli(['add', 'ssh', 'B', '--host', 'h', '--port', 'twenty-two', ...dd]);
    assert.notEqual(badPort.code, 0);
    assert.match(badPort.err, /not a port: give a number from 1 to 65535/);
    const badRange = await cli(['add', 'ssh', 'C', '--host', 'h', '--port-range', '9000-9100', ...dd]);
    assert.notEqual(badRange.code, 0);
    assert.match(badRange.err, /write LO\.\.HI/);
    const twice = await cli(['add', 'ssh', 'D', '--host', 'h', '--host', 'H', ...dd]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.err, /listed twice/);
    // --host is repeatable for ssh and single for docker (its engine URL): each kind reads it its own way.
    const twoEngines = await cli([
      'add',
      'docker',
      'E',
      '--host',
      'unix:///a.sock',
      '--host',
      'unix:///b.sock',
      '--image',
      'i',
      ...dd,
    ]);
    assert.notEqual(twoEngines.code, 0);
    assert.match(twoEngines.err, /--host is given 2 times; docker takes one/);
  });

  test('its kernel environments: the cluster Python first, then its own, all run by the ssh provisioner', () => {
    const kind = clusterKinds.get('ssh');
    assert.ok(kind, 'ssh is registered');
    const specs = sshKernelSpecs({
      id: 'lab',
      name: 'Lab',
      kind: 'ssh',
      hosts: ['h'],
      python: '/opt/py/bin/python3',
      environments: [
        { name: 'torch', displayName: 'PyTorch', language: 'python', python: '/opt/torch/bin/python' },
      ],
    });
    assert.deepEqual(
      specs.map((s) => [s.name, s.spec.argv[0], s.spec.metadata?.kernel_provisioner?.provisioner_name]),
      [
        ['python3', '/opt/py/bin/python3', 'ssh-provisioner'],
        ['torch', '/opt/torch/bin/python', 'ssh-provisioner'],
      ],
    );
    assert.equal(specs[0]!.spec.display_name, 'Python 3 on Lab');
  });
});
