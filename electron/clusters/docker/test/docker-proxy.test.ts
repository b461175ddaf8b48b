// A Docker cluster as JupyterLab sees it: app-core with the store-backed clusters (a docker cluster in
// clusters.json, active), the real proxy, and @jupyterlab/services in Node. The kernel runs in a container on a
// private real dockerd; its container carries this data dir's install id and is gone after shutdown.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KernelManager, KernelSpecAPI, type Kernel, type KernelMessage } from '@jupyterlab/services';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  startDockerd,
  type TestDockerd,
} from '../../../../scripts/testing/dockerd';
import { createAppCore, type AppCore } from '../../../app-core';
import { labSettings as settings } from '../../../gateway/test/helpers';
import { ClusterStore } from '../../store';
import { PYTHON, tempDir, waitFor } from '../../test/helpers';
import type { DockerClusterConfig } from '../../kinds/docker/config';

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
      timer = setTimeout(() => rej(new Error(`no reply to ${code} within 30 s`)), 30_000);
    }),
  ]).finally(() => clearTimeout(timer))) as KernelMessage.IExecuteReplyMsg;
  assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
  return out;
}

describe(
  'Docker cluster through the proxy (@jupyterlab/services)',
  { skip: dockerdUnavailable() ?? false, timeout: 240_000 },
  () => {
    let d: TestDockerd;
    let core: AppCore;
    let dataDir: string;
    const managers: KernelManager[] = [];

    before(async () => {
      d = await startDockerd();
      dataDir = tempDir('gwd-docker-');
      // What `npm run cluster -- add docker Containers --host … --image … --python …` and `use` leave behind.
      const store = ClusterStore.open(dataDir);
      const cfg: DockerClusterConfig = {
        id: 'containers',
        name: 'Containers',
        kind: 'docker',
        enabled: true,
        host: d.host,
        image: d.image,
        python: PYTHON,
        volumes: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`),
        launchTimeoutSec: 30,
      };
      store.add(cfg);
      store.setActive('Containers');
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
      const left = d ? await d.docker.listContainers({ all: true }).catch(() => []) : [];
      await d?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      assert.deepEqual(
        left.map((c) => c.Names),
        [],
        'no container left',
      );
    });

    test('kernelspecs, start, execute, interrupt, restart and shutdown of a container kernel', async () => {
      assert.equal(core.directory.activeId, 'containers');
      const specs = await KernelSpecAPI.getSpecs(settings(core));
      assert.equal(specs.default, 'python3');
      assert.match(specs.kernelspecs.python3!.display_name, /on Containers/);
      const m = new KernelManager({ serverSettings: settings(core) });
      managers.push(m);
      await m.ready;
      const k = await m.startNew({ name: 'python3' });
      await waitFor('connected', () => k.connectionStatus === 'connected', 60_000, 50);
      assert.equal((await run(k, 'import os; print(os.path.exists("/.dockerenv"), 6*7)')).trim(), 'True 42');
      const installId = readFileSync(path.join(dataDir, 'install-id'), 'utf8').trim();
      const [c] = await d.docker.listContainers({
        filters: JSON.stringify({ label: [`kernel_id=${k.id}`] }),
      });
      assert.equal(
        c?.Labels['gateway-desktop.install'],
        installId,
        "the container carries this install's id",
      );
      const sleeping = k.requestExecute({ code: 'import time\ntime.sleep(60)' });
      await waitFor('busy', () => k.status === 'busy', 10_000, 20);
      await k.interrupt();
      const reply = (await sleeping.done) as KernelMessage.IExecuteReplyMsg;
      assert.equal(reply.content.status, 'error');
      await k.restart();
      assert.equal((await run(k, 'print("after restart")')).trim(), 'after restart');
      await k.shutdown();
      await waitFor(
        'the container to go',
        async () => (await d.docker.listContainers({ all: true })).length === 0,
        15_000,
        100,
      );
    });
  },
);
