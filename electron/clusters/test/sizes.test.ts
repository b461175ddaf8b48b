// Saved sizes end to end on "This computer" (ipykernel from Debian): a size saved with the CLI while the app
// runs shows up on /api/kernelspecs as its own kernelspec; a kernel started by its name (through the proxy,
// and through a jupyter_server --gateway-url client) has the size's KERNEL_* values in its environment, a
// client's own value winning; the kernel keeps the size's name and shows what it got. CLI add/list/remove,
// and a bad value refused with the launch form's words.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import { runClusterCli } from '../../cli/cluster-cli';
import { RawClient, SYSTEM_KERNELS } from '../../gateway/test/helpers';
import { hostApiExtension } from '../../host-api/mount';
import type { HostService } from '../../host-api/service';
import type { HostError } from '../../host-api/contract';
import { startJupyterServer } from '../../../scripts/testing/jupyter-server';
import { tempDir, waitFor } from './helpers';

async function cli(dir: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runClusterCli([...args, '--data-dir', dir], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: {},
  });
  return { code, out, err };
}

const SIZE = 'python3--gpu-16-gb';
const PRINT_ENV =
  'import os; print(os.environ.get("KERNEL_MEMORY"), os.environ.get("KERNEL_GPUS"), os.environ.get("KERNEL_CPUS"))';

describe('saved sizes', { timeout: 120_000 }, () => {
  const dir = tempDir('gwd-sizes-');
  let core: AppCore;
  let service: HostService | undefined;
  const auth = (): Record<string, string> => ({ Authorization: `token ${core.token}` });

  before(async () => {
    core = await createAppCore({
      dataDir: dir,
      token: 'sizes-test-token',
      clusterStore: true,
      kernelSpecDirs: [SYSTEM_KERNELS],
      proxyOptions: { log: () => undefined },
      extensions: [
        hostApiExtension({ shell: 'browser', serveUi: false, lab: null, onReady: (s) => (service = s) }),
      ],
    });
  });

  after(async () => {
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const specs = async (): Promise<Record<string, { spec: { display_name: string } }>> => {
    const r = await fetch(`${core.proxyUrl}api/kernelspecs`, { headers: auth() });
    return ((await r.json()) as { kernelspecs: Record<string, { spec: { display_name: string } }> })
      .kernelspecs;
  };

  test('CLI: a bad value is refused in the launch form words, nothing saved', async () => {
    assert.ok(service, 'host service up');
    const form = await service.checkLaunch({
      clusterId: 'local',
      specName: 'python3',
      env: { KERNEL_MEMORY: 'lots' },
    });
    assert.ok(form.KERNEL_MEMORY, 'the form refuses it');
    const r = await cli(dir, [
      'size',
      'add',
      'This computer',
      'python3',
      'Big',
      '--set',
      'KERNEL_MEMORY=lots',
    ]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(form.KERNEL_MEMORY), `${r.err} includes "${form.KERNEL_MEMORY}"`);
    assert.ok(r.err.includes('nothing was saved'));
    const none = await cli(dir, ['size', 'list']);
    assert.equal(none.out, 'No saved sizes.\n');
    const usage = await cli(dir, ['size', 'add', 'This computer', 'python3', 'Big']);
    assert.equal(usage.code, 2, 'no --set: usage');
  });

  test('CLI add: the size is listed on /api/kernelspecs while the app runs', async () => {
    const r = await cli(dir, [
      'size',
      'add',
      'This computer',
      'python3',
      'GPU, 16 GB',
      '--set',
      'KERNEL_MEMORY=16G',
      '--set',
      'KERNEL_GPUS=1',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /kernel python3--gpu-16-gb \(or local--python3--gpu-16-gb\)/);
    const listed = await waitFor('size listed', async () => (await specs())[SIZE], 15_000);
    const base = (await specs()).python3;
    assert.equal(listed.spec.display_name, `${base.spec.display_name} · GPU, 16 GB`);
    // The pinned name resolves too (a notebook saved while another cluster was active).
    const pinned = await fetch(`${core.proxyUrl}api/kernelspecs/local--${SIZE}`, { headers: auth() });
    assert.equal(pinned.status, 200);
    const list = await cli(dir, ['size', 'list', 'This computer', '--json']);
    assert.deepEqual(JSON.parse(list.out), [
      {
        cluster: 'This computer',
        environment: 'python3',
        name: 'GPU, 16 GB',
        values: { KERNEL_MEMORY: '16G', KERNEL_GPUS: '1' },
        kernelName: SIZE,
      },
    ]);
    const dup = await cli(dir, ['size', 'add', 'local', 'python3', 'gpu, 16 gb', '--set', 'KERNEL_GPUS=2']);
    assert.equal(dup.code, 1, 'the same name twice is refused');
  });

  test('a kernel started by the size name gets its values; the client’s own value wins', async () => {
    const res = await fetch(`${core.proxyUrl}api/kernels`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ name: SIZE, env: { KERNEL_CPUS: '2', KERNEL_GPUS: '0' } }),
    });
    assert.equal(res.status, 201);
    const k = (await res.json()) as { id: string; name: string };
    assert.equal(k.name, SIZE, 'the kernel keeps the size name');
    const client = new RawClient({ proxyUrl: core.proxyUrl, token: core.token }, k.id, 's1');
    try {
      await client.opened;
      await client.ready('s1', 60_000);
      const { stdout } = await client.execute(PRINT_ENV, 's1', 60_000);
      assert.equal(stdout, '16G 0 2\n');
    } finally {
      client.close();
    }
    // What it got: the registry and the host API's kernel summary carry the parameters.
    assert.deepEqual(core.registry.getInfo(k.id)?.params, {
      KERNEL_MEMORY: '16G',
      KERNEL_GPUS: '0',
      KERNEL_CPUS: '2',
    });
    const summary = (await service!.listKernels()).find((x) => x.id === k.id);
    assert.deepEqual(summary?.params, { KERNEL_MEMORY: '16G', KERNEL_GPUS: '0', KERNEL_CPUS: '2' });
    const del = await fetch(`${core.proxyUrl}api/kernels/${k.id}`, { method: 'DELETE', headers: auth() });
    assert.equal(del.status, 204);
  });

  test('a jupyter_server --gateway-url client starting the size gets its values', async () => {
    const js = await startJupyterServer({ gatewayUrl: core.proxyUrl, gatewayToken: core.token });
    const base = `${js.url}/`;
    const jsAuth = { Authorization: `token ${js.token}` };
    try {
      const ks = (await (await fetch(`${base}api/kernelspecs`, { headers: jsAuth })).json()) as {
        kernelspecs: Record<string, unknown>;
      };
      assert.ok(ks.kernelspecs[SIZE], Object.keys(ks.kernelspecs).join(','));
      const created = (await (
        await fetch(`${base}api/kernels`, {
          method: 'POST',
          headers: jsAuth,
          body: JSON.stringify({ name: SIZE }),
        })
      ).json()) as { id: string };
      const client = new RawClient({ proxyUrl: base, token: js.token }, created.id, 's1');
      try {
        await client.opened;
        await client.ready('s1', 60_000);
        const { stdout } = await client.execute(PRINT_ENV, 's1', 60_000);
        assert.equal(stdout, '16G 1 None\n');
      } finally {
        client.close();
      }
      const del = await fetch(`${base}api/kernels/${created.id}`, { method: 'DELETE', headers: jsAuth });
      assert.equal(del.status, 204);
    } finally {
      await js.stop();
    }
  });

  test('host API: Save as size refuses at the field, saves, lists under the environment, removes', async () => {
    const host = service!;
    const bad = await host
      .saveSize({
        clusterId: 'local',
        environment: 'python3',
        name: 'Huge',
        values: { KERNEL_MEMORY: 'lots' },
      })
      .then(
        () => null,
        (e: unknown) => e as HostError,
      );
    const form = await host.checkLaunch({
      clusterId: 'local',
      specName: 'python3',
      env: { KERNEL_MEMORY: 'lots' },
    });
    assert.equal(bad?.fieldErrors?.KERNEL_MEMORY, form.KERNEL_MEMORY, 'the form’s words at the field');
    await host.saveSize({
      clusterId: 'local',
      environment: 'python3',
      name: 'Small',
      values: { KERNEL_MEMORY: '1G', KERNEL_CPUS: '' },
    });
    const listed = await waitFor(
      'size in the environments',
      async () =>
        (await host.listEnvironments('local')).environments.find((e) => e.name === 'python3--small'),
      15_000,
    );
    assert.deepEqual(listed.size, { environment: 'python3', name: 'Small' });
    const form2 = await host.getLaunchForm({ clusterId: 'local', specName: 'python3--small' });
    assert.ok(form2.parameters.length > 0, 'a size has its environment’s form');
    await host.removeSize({ clusterId: 'local', environment: 'python3', name: 'Small' });
    await waitFor(
      'size gone from the environments',
      async () =>
        !(await host.listEnvironments('local')).environments.some((e) => e.name === 'python3--small'),
      15_000,
    );
  });

  test('CLI remove: the size is no longer listed', async () => {
    const r = await cli(dir, ['size', 'remove', 'This computer', 'python3', 'GPU, 16 GB']);
    assert.equal(r.code, 0, r.err);
    await waitFor('size gone', async () => !(await specs())[SIZE], 15_000);
    const again = await cli(dir, ['size', 'remove', 'This computer', 'python3', 'GPU, 16 GB']);
    assert.equal(again.code, 1);
  });
});
