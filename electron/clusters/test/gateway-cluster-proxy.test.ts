// The student's story end to end, through the real proxy (app-core with the store-backed clusters):
// "This computer" + a "University" gateway (Debian's Jupyter Server 1.23 with a token, reached through a TCP
// pass-through the test can cut). Clients: @jupyterlab/services in Node (v1 and legacy) and a second
// Jupyter Server started with --gateway-url at the proxy. Covers kernelspecs under own/pinned names,
// start/execute/interrupt/restart/shutdown on the gateway, binary buffers both ways, switching the active
// cluster (by another process, through clusters.json) with kernels on both clusters answering throughout,
// and an upstream outage (disconnected, not dead; output resumes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  KernelAPI,
  KernelManager,
  KernelSpecAPI,
  type Kernel,
  type KernelMessage,
} from '@jupyterlab/services';
import { createAppCore, type AppCore } from '../../app-core';
import { ClusterStore } from '../store';
import { makeGatewayConfig, secretKeys } from '../config';
import { createSecretStore } from '../../secrets/secret-store';
import { CuttableProxy, startJupyterServer, tempDir, waitFor, type JupyterServer } from './helpers';
import { RawClient, labSettings as settings } from '../../gateway/test/helpers';

const SYSTEM_KERNELS = '/usr/share/jupyter/kernels';

async function run(kernel: Kernel.IKernelConnection, code: string, timeoutMs = 60_000): Promise<string> {
  let out = '';
  const future = kernel.requestExecute({ code, store_history: false });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += (msg.content as { text: string }).text;
  };
  let timer: NodeJS.Timeout | undefined;
  const reply = (await Promise.race([
    future.done,
    new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new Error(`no reply to ${JSON.stringify(code)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer))) as KernelMessage.IExecuteReplyMsg;
  assert.equal(reply.content.status, 'ok', `${code}: ${JSON.stringify(reply.content)}`);
  return out;
}

const ECHO_TARGET = `
def _echo_target(comm, open_msg):
    @comm.on_msg
    def _recv(msg):
        comm.send(data={'n': len(msg['buffers'])}, buffers=[bytes(b)[::-1] for b in msg['buffers']])
get_ipython().kernel.comm_manager.register_target('echo_rev', _echo_target)
`;

describe('gateway cluster through the proxy', { timeout: 420_000 }, () => {
  let upstream: JupyterServer;
  let cut: CuttableProxy;
  let core: AppCore;
  let dataDir: string;
  let cli: ClusterStore; // stands in for `npm run cluster` in another process
  const managers: KernelManager[] = [];

  const upstreamKernelIds = async (): Promise<string[]> => {
    const r = await fetch(`${upstream.url}/api/kernels`, {
      headers: { Authorization: `token ${upstream.token}` },
    });
    return ((await r.json()) as { id: string }[]).map((k) => k.id);
  };
  const clusterOf = (id: string): string | undefined => core.registry.get(id)?.clusterId;
  const use = async (name: string, id: string): Promise<void> => {
    cli.setActive(name);
    await waitFor('the app to follow clusters.json', () => core.directory.activeId === id, 10_000, 20);
  };
  const start = async (name: string, legacy = false): Promise<Kernel.IKernelConnection> => {
    const m = new KernelManager({ serverSettings: settings(core, legacy) });
    managers.push(m);
    await m.ready;
    const k = await m.startNew({ name });
    await waitFor('connected', () => k.connectionStatus === 'connected', 60_000, 50);
    return k;
  };

  before(
    async () => {
      dataDir = tempDir();
      upstream = await startJupyterServer();
      cut = new CuttableProxy(upstream.port);
      await cut.start();
      // What `npm run cluster -- add gateway University --url … --token-env T` leaves in the data dir.
      cli = ClusterStore.open(dataDir);
      createSecretStore({ dataDir }).set(secretKeys.token('university'), upstream.token);
      cli.add(
        makeGatewayConfig({
          id: 'university',
          name: 'University',
          url: `http://127.0.0.1:${cut.port}`,
          tokenSecret: secretKeys.token('university'),
          pollIntervalMs: 500,
          timeouts: { connectMs: 2000 },
        }),
      );
      core = await createAppCore({
        dataDir,
        token: 'proxy-token-for-tests',
        clusterStore: true,
        kernelSpecDirs: [SYSTEM_KERNELS],
        proxyOptions: { log: () => undefined },
      });
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      await cut?.restore().catch(() => undefined);
      for (const m of managers) {
        await m.shutdownAll().catch(() => undefined);
        m.dispose();
      }
      await core?.close();
      cli?.close();
      await cut?.close();
      // Nothing may be left on the gateway.
      if (upstream) {
        const left = await upstreamKernelIds().catch(() => []);
        await upstream.stop();
        assert.deepEqual(left, [], 'no kernels left on the gateway');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
    { timeout: 90_000 },
  );

  test('kernelspecs: the active cluster under its own names, the other pinned', async () => {
    assert.equal(core.directory.activeId, 'local');
    let specs = await KernelSpecAPI.getSpecs(settings(core));
    assert.ok(specs.kernelspecs.python3);
    const pinned = specs.kernelspecs['university--python3'];
    assert.ok(pinned, `pinned gateway spec listed: ${Object.keys(specs.kernelspecs).join(', ')}`);
    assert.match(pinned.display_name, /\(on University\)$/);
    const logo = await fetch(new URL(pinned.resources['logo-64x64'], core.proxyUrl), {
      headers: { Authorization: `token ${core.token}` },
    });
    assert.equal(logo.status, 200, 'gateway logo served through the proxy');

    await use('University', 'university');
    specs = await KernelSpecAPI.getSpecs(settings(core));
    assert.ok(specs.kernelspecs.python3 && specs.kernelspecs['local--python3']);
    assert.match(specs.kernelspecs['local--python3']!.display_name, /\(on This computer\)$/);
    await use('This computer', 'local');
  });

  for (const legacy of [false, true]) {
    test(`on the gateway (${legacy ? 'legacy' : 'v1'} client): execute, binary buffers, interrupt, restart, shut down`, async () => {
      const before = await upstreamKernelIds();
      const k = await start('university--python3', legacy);
      assert.equal(clusterOf(k.id), 'university');
      assert.equal((await upstreamKernelIds()).length, before.length + 1, 'the kernel runs on the gateway');
      assert.equal(await run(k, 'print(6*7)'), '42\n');

      // Binary buffers both ways (not valid UTF-8, one large).
      await run(k, ECHO_TARGET);
      const comm = k.createComm('echo_rev');
      await comm.open({}).done;
      const got = new Promise<KernelMessage.ICommMsgMsg>((resolve) => (comm.onMsg = (m) => resolve(m)));
      const big = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(100_000),
      ]);
      const small = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]);
      comm.send({}, undefined, [new Uint8Array(big).buffer, new Uint8Array(small).buffer]);
      const msg = await Promise.race([
        got,
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no comm echo')), 30_000).unref()),
      ]);
      const bufs = (msg.buffers ?? []).map((b) =>
        ArrayBuffer.isView(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b),
      );
      assert.equal(bufs.length, 2);
      assert.ok(bufs[0].equals(Buffer.from(big).reverse()), 'large buffer intact both ways');
      assert.ok(bufs[1].equals(Buffer.from(small).reverse()), 'small buffer intact both ways');
      comm.close();

      // Interrupt.
      const sleepy = k.requestExecute({ code: "import time; print('go', flush=True); time.sleep(60)" });
      const running = new Promise<void>((resolve) => {
        sleepy.onIOPub = (m) => {
          if (m.header.msg_type === 'stream') resolve();
        };
      });
      await running;
      await k.interrupt();
      const r = (await sleepy.done.catch((e: unknown) => e)) as KernelMessage.IExecuteReplyMsg;
      assert.equal((r.content as { ename?: string }).ename, 'KeyboardInterrupt');

      // Restart.
      await run(k, 'marker = 1');
      await k.restart();
      await waitFor(
        'idle after restart',
        () => k.connectionStatus === 'connected' && k.status === 'idle',
        60_000,
        50,
      );
      assert.equal(await run(k, "print('marker' in globals())"), 'False\n');

      // Shut down: gone from the proxy and from the gateway.
      const id = k.id;
      await k.shutdown();
      assert.equal(core.registry.has(id), false);
      await waitFor(
        'gone upstream',
        async () => (await upstreamKernelIds()).length === before.length,
        15_000,
      );
    });
  }

  test('switching the active cluster: both kernels keep answering; new kernels land on the active one', async () => {
    const local = await start('python3');
    assert.equal(clusterOf(local.id), 'local');
    await use('University', 'university');
    const remote = await start('python3');
    assert.equal(clusterOf(remote.id), 'university', 'an unpinned name goes to the active cluster');
    assert.equal(await run(local, 'print("local ok")'), 'local ok\n');
    assert.equal(await run(remote, 'print("remote ok")'), 'remote ok\n');
    const pinnedLocal = await start('local--python3');
    assert.equal(clusterOf(pinnedLocal.id), 'local', 'a pinned name always goes to its cluster');

    await use('This computer', 'local');
    assert.equal(await run(local, 'print(1)'), '1\n');
    assert.equal(await run(remote, 'print(2)'), '2\n');
    const again = await start('python3');
    assert.equal(clusterOf(again.id), 'local');
    const pinnedRemote = await start('university--python3');
    assert.equal(clusterOf(pinnedRemote.id), 'university');
    const running = await KernelAPI.listRunning(settings(core));
    for (const k of [local, remote, pinnedLocal, again, pinnedRemote]) {
      assert.ok(
        running.some((m) => m.id === k.id),
        'every kernel stays listed',
      );
    }
    for (const k of [local, remote, pinnedLocal, again, pinnedRemote]) await k.shutdown();
  });

  test('upstream drops mid-session: clients see disconnected (not dead); output resumes after it returns', async () => {
    const k = await start('university--python3');
    const id = k.id;
    let out = '';
    const future = k.requestExecute({
      code: 'import time\nfor i in range(30):\n    print(i, flush=True)\n    time.sleep(0.1)',
    });
    future.onIOPub = (m) => {
      if (m.header.msg_type === 'stream') out += (m.content as { text: string }).text;
    };
    await waitFor('output', () => out.includes('3\n'), 30_000, 20);
    const updates: string[] = [];
    const off = core.registry.on('kernel-updated', (info) => {
      if (info.id === id) updates.push(info.reason ?? '');
    });
    await cut.cut();
    try {
      // The registry (what the UI shows, pushed as kernel-updated) says disconnected; the kernel is not dead.
      await waitFor(
        'disconnected',
        () => /^disconnected: /.test(core.registry.get(id)?.reason ?? ''),
        15_000,
        50,
      );
      assert.ok(
        updates.some((r) => r.startsWith('disconnected')),
        'a kernel-updated event carried it',
      );
      const model = await KernelAPI.getKernelModel(id, settings(core));
      assert.ok(model && model.execution_state !== 'dead', 'REST clients still see a live kernel');
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await cut.restore();
      off();
    }
    await future.done;
    assertResumed(out);
    await waitFor('reason cleared', () => !core.registry.get(id)?.reason, 15_000);
    assert.equal(await run(k, 'print("still here")'), 'still here\n');
    await k.shutdown();
  });

  test('a Jupyter Server started with --gateway-url at the proxy runs code on the gateway', async () => {
    await use('University', 'university');
    const js = await startJupyterServer({ gatewayUrl: core.proxyUrl, gatewayToken: core.token });
    const base = `${js.url}/`;
    const auth = { Authorization: `token ${js.token}` };
    try {
      const ks = (await (await fetch(`${base}api/kernelspecs`, { headers: auth })).json()) as {
        kernelspecs: Record<string, unknown>;
      };
      assert.ok(
        ks.kernelspecs.python3 && ks.kernelspecs['local--python3'],
        Object.keys(ks.kernelspecs).join(','),
      );
      const before = await upstreamKernelIds();
      const created = (await (
        await fetch(`${base}api/kernels`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'python3' }),
        })
      ).json()) as { id: string };
      assert.equal(clusterOf(created.id), 'university');
      assert.equal((await upstreamKernelIds()).length, before.length + 1);
      // Its own WebSocket (the legacy protocol toward us): run code. RawClient resends kernel_info until
      // answered: Jupyter Server 1.23's gateway relay can drop the first message after the socket opens.
      const client = new RawClient({ proxyUrl: base, token: js.token }, created.id, 's1');
      await client.opened;
      await client.ready('s1', 60_000);
      const { stdout: text } = await client.execute('print(sum(range(10)))', 's1', 60_000);
      assert.equal(text, '45\n');
      client.close();
      const del = await fetch(`${base}api/kernels/${created.id}`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 204);
      await waitFor(
        'gone from the gateway',
        async () => (await upstreamKernelIds()).length === before.length,
        15_000,
      );
    } finally {
      await js.stop();
      await use('This computer', 'local');
    }
  });
});

/**
 * Output of the 0..29 cell across an outage: in order, no duplicates, through to the end. Lines that were on
 * the wire at the instant of the cut may be lost (as on a real network: the gateway had already written
 * them); everything the gateway produced after it noticed the drop is buffered there and replayed.
 */
function assertResumed(text: string): void {
  const numbers = text.trim().split('\n').map(Number);
  for (let i = 1; i < numbers.length; i++) {
    assert.ok(numbers[i] > numbers[i - 1], `in order, no duplicates: ${numbers.join(',')}`);
  }
  assert.equal(numbers[numbers.length - 1], 29, `output resumed to the end: ${numbers.join(',')}`);
  assert.ok(numbers.length >= 27, `at most the lines in flight at the cut are lost: ${numbers.join(',')}`);
}
