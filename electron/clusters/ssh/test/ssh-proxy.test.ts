// An SSH cluster as JupyterLab sees it: app-core with the store-backed clusters (an ssh cluster in clusters.json,
// active), the real proxy, and two real clients: @jupyterlab/services in Node, and a Jupyter Server started with
// --gateway-url at the proxy (the GatewayClient JupyterLab uses). The kernel runs on the "remote host" (a
// private sshd on 127.0.0.1), reached only through the SSH connection; nothing is left there afterwards.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { KernelManager, KernelSpecAPI, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { startJupyterServer } from '../../../../scripts/testing/jupyter-server';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import { createAppCore, type AppCore } from '../../../app-core';
import { RawClient, labSettings as settings } from '../../../gateway/test/helpers';
import { ClusterStore } from '../../store';
import { tempDir, waitFor } from '../../test/helpers';
import { kernelPids, skipWithoutSshd, sshClusterConfig } from './ssh-test-kit';

async function run(kernel: Kernel.IKernelConnection, code: string): Promise<string> {
  let out = '';
  const future = kernel.requestExecute({ code, store_history: false });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += (msg.content as { text: string }).text;
  };
  let timer: NodeJS.Timeout | undefined;
  const reply = (await Promise.race([
    future.done,
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`no reply to ${code} within 60 s`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer))) as KernelMessage.IExecuteReplyMsg;
  assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
  return out;
}

describe('SSH cluster through the proxy', { skip: skipWithoutSshd, timeout: 300_000 }, () => {
  let sshd: TestSshd;
  let core: AppCore;
  let dataDir: string;
  const managers: KernelManager[] = [];
  const started: string[] = [];

  before(async () => {
    sshd = await startSshd();
    dataDir = tempDir('gwd-ssh-proxy-');
    // What `npm run cluster -- add ssh "Lab server" --host 127.0.0.1 --port P --identity K …` and `use` leave.
    const store = ClusterStore.open(dataDir);
    store.add({ ...sshClusterConfig(sshd), enabled: true });
    store.setActive('Lab server');
    store.close();
    core = await createAppCore({
      dataDir,
      token: 'proxy-token-for-tests',
      clusterStore: true,
      proxyOptions: { log: () => undefined },
    });
  });

  after(async () => {
    for (const m of managers) {
      await m.shutdownAll().catch(() => undefined);
      m.dispose();
    }
    await core?.close();
    await sshd?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    for (const id of started) assert.deepEqual(kernelPids(id), [], `kernel ${id} left on the host`);
  });

  test('@jupyterlab/services: start, execute, interrupt, restart, shut down; nothing left on the host', async () => {
    assert.equal(core.directory.activeId, 'lab');
    const specs = await KernelSpecAPI.getSpecs(settings(core));
    assert.match(specs.kernelspecs.python3!.display_name, /on Lab server/);
    const m = new KernelManager({ serverSettings: settings(core) });
    managers.push(m);
    await m.ready;
    const k = await m.startNew({ name: 'python3' });
    started.push(k.id);
    await waitFor('connected', () => k.connectionStatus === 'connected', 60_000, 50);
    assert.equal((await run(k, 'import os; print(os.environ["KERNEL_ID"], 6*7)')).trim(), `${k.id} 42`);
    assert.equal(kernelPids(k.id).length, 1, 'one kernel process on the host');

    const sleeping = k.requestExecute({ code: "import time; print('go', flush=True); time.sleep(60)" });
    await new Promise<void>((resolve) => {
      sleeping.onIOPub = (msg) => {
        if (msg.header.msg_type === 'stream') resolve();
      };
    });
    await k.interrupt();
    const reply = (await sleeping.done) as KernelMessage.IExecuteReplyMsg;
    assert.equal((reply.content as { ename?: string }).ename, 'KeyboardInterrupt');

    await run(k, 'marker = 1');
    const [before] = kernelPids(k.id);
    await k.restart();
    await waitFor(
      'idle after restart',
      () => k.connectionStatus === 'connected' && k.status === 'idle',
      60_000,
      50,
    );
    assert.equal((await run(k, "print('marker' in globals())")).trim(), 'False');
    await waitFor('the old kernel process to go', () => !kernelPids(k.id).includes(before!), 15_000);

    await k.shutdown();
    assert.equal(core.registry.has(k.id), false);
    await waitFor('no kernel process left on the host', () => kernelPids(k.id).length === 0, 15_000);
  });

  test('a Jupyter Server started with --gateway-url at the proxy runs code on the SSH host', async () => {
    const js = await startJupyterServer({ gatewayUrl: core.proxyUrl, gatewayToken: core.token });
    const base = `${js.url}/`;
    const auth = { Authorization: `token ${js.token}` };
    try {
      const created = (await (
        await fetch(`${base}api/kernels`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'python3' }),
        })
      ).json()) as { id: string };
      started.push(created.id);
      assert.equal(core.registry.get(created.id)?.clusterId, 'lab');
      // RawClient resends kernel_info until answered: Jupyter Server 1.23's gateway relay can drop the first
      // message after its socket opens.
      const client = new RawClient({ proxyUrl: base, token: js.token }, created.id, 's1');
      await client.opened;
      await client.ready('s1', 60_000);
      const { stdout } = await client.execute('print(sum(range(10)))', 's1', 60_000);
      assert.equal(stdout, '45\n');
      client.close();
      const del = await fetch(`${base}api/kernels/${created.id}`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 204);
      await waitFor('no kernel process left on the host', () => kernelPids(created.id).length === 0, 15_000);
    } finally {
      await js.stop();
    }
  });
});
