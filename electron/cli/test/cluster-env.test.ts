// `npm run cluster -- env ...` in process: --help documents it, add / edit / list / remove change the saved
// environments, bad input exits 1 (nothing saved) or 2 (usage), kinds without such settings (this computer's) say so.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { runClusterCli } from '../cluster-cli';
import { splitArgv } from '../cluster-env';
import { clusterUsage } from '../cluster-usage';
import { ClusterStore } from '../../clusters/store';
import { LOCAL_CLUSTER_ID } from '../../clusters/config-base';
import type { SshClusterConfig } from '../../clusters/kinds/ssh/config';
import { tempDir } from '../../clusters/test/helpers';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runClusterCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: {} });
  return { code, out, err };
}

describe('npm run cluster -- env', () => {
  const dir = tempDir('gwd-envcli-');
  const dd = ['--data-dir', dir];
  after(() => rmSync(dir, { recursive: true, force: true }));
  const s = ClusterStore.open(dir);
  // Saved directly: `add ssh` would ask about host keys, which is not what this suite is about.
  s.add({ id: 'lab', name: 'Lab', kind: 'ssh', hosts: ['h1', 'h2'], python: 'python3' } as SshClusterConfig);
  s.close();
  const saved = (): SshClusterConfig => {
    const st = ClusterStore.open(dir);
    try {
      return st.require('Lab') as SshClusterConfig;
    } finally {
      st.close();
    }
  };

  test('--help documents the env commands and their options', () => {
    const help = clusterUsage();
    for (const s of [
      'env list CLUSTER',
      'env add CLUSTER NAME [--display-name D] [--language L] [--python P | --argv',
      '[--host H]... [--launch-timeout S] [--port-range LO..HI] [--env K=V]...',
      'env edit CLUSTER NAME',
      'env remove CLUSTER NAME',
      'env import CLUSTER PATH [NAME]',
    ])
      assert.ok(help.includes(s), `--help mentions ${s}`);
  });

  test('add, edit, list, remove', async () => {
    const add = await cli([
      'env',
      'add',
      'Lab',
      'torch',
      '--display-name',
      'PyTorch',
      '--python',
      '/opt/torch/bin/python',
      '--host',
      'h2',
      '--launch-timeout',
      '120',
      '--port-range',
      '40000..40100',
      '--env',
      'OMP_NUM_THREADS=4',
      ...dd,
    ]);
    assert.equal(add.code, 0, add.err);
    assert.deepEqual(saved().environments, [
      {
        name: 'torch',
        displayName: 'PyTorch',
        language: 'python',
        python: '/opt/torch/bin/python',
        hosts: ['h2'],
        launchTimeoutSec: 120,
        portRange: '40000..40100',
        env: { OMP_NUM_THREADS: '4' },
      },
    ]);
    const edit = await cli([
      'env',
      'edit',
      'Lab',
      'torch',
      '--argv',
      `/opt/r/bin/R --slave -e 'IRkernel::main()' --args {connection_file}`,
      '--language',
      'R',
      ...dd,
    ]);
    assert.equal(edit.code, 0, edit.err);
    const e = saved().environments![0]!;
    assert.deepEqual(e.argv, [
      '/opt/r/bin/R',
      '--slave',
      '-e',
      'IRkernel::main()',
      '--args',
      '{connection_file}',
    ]);
    assert.equal(e.python, undefined, 'an argv replaces the remote Python');
    assert.equal(e.language, 'R');
    assert.equal(e.launchTimeoutSec, 120, 'what was not given is kept');
    const list = await cli(['env', 'list', 'Lab', ...dd]);
    assert.equal(list.code, 0);
    assert.match(list.out, /python3 +Python 3 on Lab \(python\); python python3; hosts: all.*\[built in\]/);
    assert.match(
      list.out,
      /torch +PyTorch \(R\); argv \/opt\/r\/bin\/R .*hosts: h2; launch timeout 120 s; ports 40000\.\.40100/,
    );
    const json = JSON.parse((await cli(['env', 'list', 'Lab', '--json', ...dd])).out) as {
      environments: { name: string }[];
    };
    assert.deepEqual(
      json.environments.map((x) => x.name),
      ['torch'],
    );
    const builtIn = await cli(['env', 'remove', 'Lab', 'python3', ...dd]);
    assert.equal(builtIn.code, 1);
    assert.match(builtIn.err, /built into "Lab"/);
    const rm = await cli(['env', 'remove', 'Lab', 'torch', ...dd]);
    assert.equal(rm.code, 0, rm.err);
    assert.equal(saved().environments, undefined);
  });

  test('bad input: nothing saved, or usage', async () => {
    const dup = await cli(['env', 'add', 'Lab', 'python3', ...dd]);
    assert.equal(dup.code, 1);
    assert.match(
      dup.err,
      /nothing was saved:\n {2}cluster "Lab": environment "python3": "python3" is the cluster's own/,
    );
    const host = await cli(['env', 'add', 'Lab', 'x', '--host', 'h9', ...dd]);
    assert.match(host.err, /"h9" is not a host of this cluster \(its hosts: h1, h2\)/);
    assert.equal(saved().environments, undefined);
    const quote = await cli(['env', 'add', 'Lab', 'x', '--argv', '"R --slave', ...dd]);
    assert.equal(quote.code, 2);
    assert.match(quote.err, /--argv: a " quote is not closed/);
    const noName = await cli(['env', 'add', 'Lab', ...dd]);
    assert.equal(noName.code, 2);
    assert.match(noName.err, /usage: npm run cluster -- env add CLUSTER NAME/);
    const local = await cli(['env', 'list', LOCAL_CLUSTER_ID, ...dd]);
    assert.equal(local.code, 1);
    assert.match(local.err, /its kernel environments are not settings here/);
  });

  test('--argv splits like a shell', () => {
    assert.deepEqual(splitArgv(`a "b c" 'd "e"' f\\ g {connection_file}`), [
      'a',
      'b c',
      'd "e"',
      'f g',
      '{connection_file}',
    ]);
  });
});
