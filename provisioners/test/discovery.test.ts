import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { discoverKernelSpecs, jupyterDataPaths } from '../kernelspec/discovery';

let root: string;
let dirA: string;
let dirB: string;

async function spec(
  dir: string,
  name: string,
  body: unknown | string,
  extraFiles: string[] = [],
): Promise<string> {
  const d = path.join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(path.join(d, 'kernel.json'), typeof body === 'string' ? body : JSON.stringify(body));
  for (const f of extraFiles) await writeFile(path.join(d, f), 'x');
  return path.join(d, 'kernel.json');
}

const valid = (display: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  argv: ['/usr/bin/python3', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
  display_name: display,
  language: 'python',
  ...extra,
});

describe('kernelspec discovery', { timeout: 30_000 }, () => {
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gd-discovery-'));
    dirA = path.join(root, 'a', 'kernels');
    dirB = path.join(root, 'b', 'kernels');
    await spec(
      dirA,
      'good',
      valid('Good A', { env: { HOME_COPY: '${GD_TEST_HOME}/x', KEEP: '${GD_UNSET_VAR}' } }),
      [
        'logo-32x32.png',
        'logo-64x64.png',
        'logo-svg.svg',
        'kernel.js',
        'kernel.css',
        'logo-128x128.png',
        'README.md',
      ],
    );
    await spec(dirA, 'broken-json', '{"argv": ["python3", "-m"');
    await spec(dirA, 'no-argv', { display_name: 'No argv', language: 'python' });
    await spec(dirA, 'empty-argv', { argv: [], display_name: 'Empty', language: 'python' });
    await spec(dirA, 'wrong-types', { argv: ['x', 3], display_name: 42, language: 'python', env: { A: 1 } });
    await spec(dirA, 'bad-interrupt', valid('Bad interrupt', { interrupt_mode: 'sigint' }));
    await spec(
      dirA,
      'bad-provisioner',
      valid('Bad prov', { metadata: { kernel_provisioner: { config: {} } } }),
    );
    await spec(dirA, 'bad name', valid('Space in name'));
    await spec(dirA, 'MixedCase', valid('Mixed', { interrupt_mode: 'message' }));
    // dir B: a clash with dir A (A must win) and one only here
    await spec(dirB, 'good', valid('Good B'));
    await spec(
      dirB,
      'only-b',
      valid('Only B', { metadata: { kernel_provisioner: { provisioner_name: 'x-prov' } } }),
    );
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('lists valid specs and reports each broken one with its path and the problem', async () => {
    const { specs, problems } = await discoverKernelSpecs({
      dirs: [dirA, dirB],
      env: { GD_TEST_HOME: '/home/me' },
    });
    const names = specs.map((s) => s.name);
    assert.deepEqual(names, ['good', 'mixedcase', 'only-b']);

    const byName = new Map(problems.map((p) => [p.name, p]));
    const p = (n: string): { path: string; message: string } => {
      const x = byName.get(n);
      assert.ok(x, `expected a problem for ${n}, got ${JSON.stringify(problems)}`);
      return x;
    };
    assert.equal(p('broken-json').path, path.join(dirA, 'broken-json', 'kernel.json'));
    assert.match(p('broken-json').message, /not valid JSON/);
    assert.match(p('no-argv').message, /'argv' is missing/);
    assert.match(p('empty-argv').message, /'argv' must be a non-empty list of strings/);
    const wt = p('wrong-types').message;
    assert.match(wt, /'argv' must be a non-empty list of strings/);
    assert.match(wt, /'display_name' must be a string/);
    assert.match(wt, /'env' values must be strings \('A' is not\)/);
    assert.match(p('bad-interrupt').message, /'interrupt_mode' must be "signal" or "message"/);
    assert.match(p('bad-provisioner').message, /provisioner_name/);
    assert.match(p('bad name').message, /invalid kernel name "bad name"/);
    assert.equal(p('bad name').path, path.join(dirA, 'bad name'));
    assert.equal(problems.length, 7);
  });

  test('earlier directories win on name clashes; names are lower-cased', async () => {
    const { specs } = await discoverKernelSpecs({ dirs: [dirA, dirB], env: {} });
    const good = specs.find((s) => s.name === 'good');
    assert.equal(good?.spec.display_name, 'Good A');
    assert.equal(good?.resourceDir, path.join(dirA, 'good'));
    const reversed = await discoverKernelSpecs({ dirs: [dirB, dirA], env: {} });
    assert.equal(reversed.specs.find((s) => s.name === 'good')?.spec.display_name, 'Good B');
    const mixed = specs.find((s) => s.name === 'mixedcase');
    assert.equal(mixed?.resourceDir, path.join(dirA, 'MixedCase'));
    assert.equal(mixed?.spec.interrupt_mode, 'message');
    assert.equal(
      specs.find((s) => s.name === 'only-b')?.spec.metadata?.kernel_provisioner?.provisioner_name,
      'x-prov',
    );
  });

  test('substitutes ${VAR} in env values from the environment, leaves unknown ones', async () => {
    const { specs } = await discoverKernelSpecs({ dirs: [dirA], env: { GD_TEST_HOME: '/home/me' } });
    const env = specs.find((s) => s.name === 'good')?.spec.env;
    assert.deepEqual(env, { HOME_COPY: '/home/me/x', KEEP: '${GD_UNSET_VAR}' });
  });

  test('finds logos, kernel.js and kernel.css as resources, not other files', async () => {
    const { specs } = await discoverKernelSpecs({ dirs: [dirA], env: {} });
    assert.deepEqual(specs.find((s) => s.name === 'good')?.resources, {
      'kernel.css': 'kernel.css',
      'kernel.js': 'kernel.js',
      'logo-128x128': 'logo-128x128.png',
      'logo-32x32': 'logo-32x32.png',
      'logo-64x64': 'logo-64x64.png',
      'logo-svg': 'logo-svg.svg',
    });
  });

  test('a missing search directory is not an error', async () => {
    const res = await discoverKernelSpecs({ dirs: [path.join(root, 'nope'), dirB], env: {} });
    assert.deepEqual(
      res.specs.map((s) => s.name),
      ['good', 'only-b'],
    );
    assert.deepEqual(res.problems, []);
  });

  test('jupyterDataPaths follows Jupyter order', () => {
    if (process.platform !== 'linux') return;
    const dirs = jupyterDataPaths({ JUPYTER_PATH: ['/p1', '/p2'].join(path.delimiter), HOME: '/home/u' });
    assert.deepEqual(dirs, [
      '/p1/kernels',
      '/p2/kernels',
      '/home/u/.local/share/jupyter/kernels',
      '/usr/local/share/jupyter/kernels',
      '/usr/share/jupyter/kernels',
    ]);
    const withData = jupyterDataPaths({ JUPYTER_DATA_DIR: '/data', HOME: '/home/u' });
    assert.deepEqual(withData, [
      '/data/kernels',
      '/usr/local/share/jupyter/kernels',
      '/usr/share/jupyter/kernels',
    ]);
  });

  test('finds the system python3 kernelspec in the default paths', async () => {
    const { specs } = await discoverKernelSpecs({
      env: { ...process.env, JUPYTER_PATH: path.dirname(dirB) },
    });
    const py = specs.find((s) => s.name === 'python3');
    assert.ok(py, 'python3 kernelspec from /usr/share/jupyter expected');
    assert.equal(py.spec.argv[0], '/usr/bin/python3');
    assert.ok(
      specs.find((s) => s.name === 'only-b'),
      'JUPYTER_PATH entries are searched',
    );
  });
});
