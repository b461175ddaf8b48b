// The gateway relay against a real upstream (Debian's Jupyter Server 1.23 with a token): kernelspecs,
// start, execute, binary buffers both ways (v1 and legacy upstream legs), interrupt, restart, foreign
// kernels and adoption, shutdown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { makeGatewayConfig, secretKeys } from '../config';
import { createSecretStore } from '../../secrets/secret-store';
import { GatewayClusterRuntime } from '../gateway/runtime';
import type { GatewayKernel, RelayPort } from '../gateway/kernel';
import type { KernelEvent } from '../../../provisioners/types';
import { Inbox, makeMsg, executeMsg, startJupyterServer, tempDir, type JupyterServer } from './helpers';

const ECHO_TARGET = `
def _echo_target(comm, open_msg):
    @comm.on_msg
    def _recv(msg):
        bufs = [bytes(b)[::-1] for b in msg['buffers']]
        comm.send(data={'n': len(bufs), 'sizes': [len(b) for b in bufs]}, buffers=bufs)
get_ipython().kernel.comm_manager.register_target('echo', _echo_target)
`;

describe('gateway relay against Jupyter Server 1.23', { timeout: 240_000 }, () => {
  let upstream: JupyterServer;
  let dataDir: string;
  const runtimes: GatewayClusterRuntime[] = [];

  function makeRuntime(forceLegacy = false): GatewayClusterRuntime {
    const secrets = createSecretStore({ dataDir });
    secrets.set(secretKeys.token('uni'), upstream.token);
    const cfg = makeGatewayConfig({
      id: 'uni',
      name: 'University',
      url: upstream.url,
      tokenSecret: secretKeys.token('uni'),
      pollIntervalMs: 500,
      launchParams: [{ name: 'KERNEL_CPUS', value: '1' }],
    });
    const rt = new GatewayClusterRuntime(cfg, secrets, { forceLegacy, backoffMs: 100, maxBackoffMs: 1000 });
    runtimes.push(rt);
    return rt;
  }

  before(
    async () => {
      dataDir = tempDir();
      upstream = await startJupyterServer();
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      for (const rt of runtimes) {
        for (const k of rt.relayedKernels()) await k.shutdown().catch(() => undefined);
        await rt.dispose();
      }
      await upstream?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    { timeout: 90_000 },
  );

  test('lists the upstream kernelspecs and serves their resources', async () => {
    const rt = makeRuntime();
    const specs = await rt.listKernelSpecs();
    const py = specs.specs.find((s) => s.name === 'python3');
    assert.ok(py, `python3 listed: ${JSON.stringify(specs)}`);
    assert.equal(specs.default, 'python3');
    assert.equal(py.spec.language, 'python');
    const logoKey = Object.keys(py.resources).find((k) => k.startsWith('logo'));
    assert.ok(logoKey, 'a logo resource');
    const logo = await rt.getResource('python3', py.resources[logoKey]);
    assert.ok(logo && logo.body.length > 100, 'logo bytes');
    assert.equal(await rt.getResource('python3', 'no-such-file.png'), null);
  });

  for (const legacy of [false, true]) {
    test(`start, execute, binary buffers both ways, interrupt, restart, shutdown (${legacy ? 'legacy' : 'v1'} upstream)`, async () => {
      const rt = makeRuntime(legacy);
      // Record what the relay sends upstream (plain jupyter_server ignores the env of POST /api/kernels;
      // Kernel/Enterprise Gateway pass it to the kernel).
      const sent: { method: string; path: string; body: unknown }[] = [];
      const orig = rt.client.request.bind(rt.client);
      rt.client.request = (method, path, opts = {}) => {
        sent.push({ method, path, body: opts.body });
        return orig(method, path, opts);
      };
      const kernelId = randomUUID();
      const backend = (await rt.startKernel({
        kernelId,
        specName: 'python3',
        env: { KERNEL_FOO: 'bar', SECRET: 'no' },
      })) as GatewayKernel;
      assert.equal(backend.id, kernelId, 'the proxy id is kept');
      const events: KernelEvent[] = [];
      backend.onEvent((e) => events.push(e));
      const inbox = new Inbox();
      const session = randomUUID();
      const port = backend.openPort(session, inbox.push) as RelayPort;

      const info = makeMsg('shell', 'kernel_info_request', {}, session);
      port.send(info.msg);
      await inbox.wait(
        (p) => p.msgType === 'kernel_info_reply' && p.parentMsgId === info.msgId,
        60_000,
        'kernel_info_reply',
      );
      assert.equal(port.upstreamProtocol, legacy ? 'legacy' : 'v1');

      const post = sent.find((r) => r.method === 'POST' && r.path === '/api/kernels');
      const env = (post?.body as { name: string; env: Record<string, string> }).env;
      assert.equal((post?.body as { name: string }).name, 'python3');
      assert.equal(env.KERNEL_FOO, 'bar', 'client KERNEL_* forwarded');
      assert.equal(env.KERNEL_CPUS, '1', 'launch parameter sent');
      assert.equal(env.SECRET, undefined, 'names not allow-listed are not forwarded');
      assert.equal(env.KERNEL_LAUNCH_TIMEOUT, '40');
      assert.equal(env.KERNEL_ID, kernelId);
      assert.ok(env.KERNEL_USERNAME, 'KERNEL_USERNAME set');

      const ex = executeMsg("print('bar 1 None True')", session);
      port.send(ex.msg);
      await inbox.idleFor(ex.msgId);
      assert.equal(inbox.streamText(ex.msgId).trim(), 'bar 1 None True');
      assert.equal(backend.executionState, 'idle');

      // Binary buffers (not valid UTF-8) client -> kernel -> client.
      const reg = executeMsg(ECHO_TARGET, session);
      port.send(reg.msg);
      await inbox.idleFor(reg.msgId);
      const commId = randomUUID();
      port.send(
        makeMsg('shell', 'comm_open', { comm_id: commId, target_name: 'echo', data: {} }, session).msg,
      );
      const b1 = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x01, 0x02]);
      const b2 = Buffer.alloc(70_000);
      for (let i = 0; i < b2.length; i++) b2[i] = (i * 7 + 3) & 0xff;
      const cm = makeMsg('shell', 'comm_msg', { comm_id: commId, data: { hello: 1 } }, session, [b1, b2]);
      port.send(cm.msg);
      const echoed = await inbox.wait(
        (p) => p.msgType === 'comm_msg' && p.channel === 'iopub' && p.parentMsgId === cm.msgId,
        30_000,
        'echoed comm_msg',
      );
      const data = (echoed.content.data ?? {}) as { n?: number; sizes?: number[] };
      assert.equal(data.n, 2);
      assert.deepEqual(data.sizes, [8, 70_000], 'the kernel received both buffers intact');
      assert.equal(echoed.buffers.length, 2);
      assert.deepEqual(echoed.buffers[0], Buffer.from(b1).reverse());
      assert.ok(
        echoed.buffers[1].equals(Buffer.from(b2).reverse()),
        'large buffer round-tripped byte for byte',
      );

      // Interrupt a sleeping cell.
      const sleep = executeMsg("import time; print('sleeping', flush=True); time.sleep(60)", session);
      port.send(sleep.msg);
      // Interrupt once the cell really runs (ipykernel ignores SIGINT between 'busy' and the cell's start).
      await inbox.wait(
        (p) => p.parentMsgId === sleep.msgId && p.msgType === 'stream',
        30_000,
        'cell running',
      );
      await waitState(backend, 'busy');
      await backend.interrupt();
      const reply = await inbox.wait(
        (p) => p.parentMsgId === sleep.msgId && p.msgType === 'execute_reply',
        30_000,
        'interrupted reply',
      );
      assert.equal(reply.content.status, 'error');
      assert.equal(reply.content.ename, 'KeyboardInterrupt');

      // Restart in place: same id, kernel answers again, the variable is gone.
      const setVar = executeMsg('x = 41', session);
      port.send(setVar.msg);
      await inbox.idleFor(setVar.msgId);
      await backend.restart();
      assert.ok(events.some((e) => e.type === 'restarting'));
      assert.ok(events.some((e) => e.type === 'restarted'));
      const check = executeMsg("print('x' in dir())", session);
      port.send(check.msg);
      await inbox.idleFor(check.msgId, 60_000);
      assert.equal(inbox.streamText(check.msgId).trim(), 'False');

      // Shutdown: gone upstream, dead here, port closed.
      const upId = backend.upstreamId;
      await backend.shutdown();
      assert.equal(backend.executionState, 'dead');
      const res = await rt.client.request('GET', rt.client.kernelPath(upId));
      assert.equal(res.status, 404);
      port.close();
    });
  }

  test('kernels started by other clients are listed and can be adopted; a kernel culled upstream goes dead', async () => {
    const rt = makeRuntime();
    const started = await rt.client.json<{ id: string }>('POST', '/api/kernels', [201], {
      body: { name: 'python3' },
    });
    const foreign = await rt.listForeignKernels();
    assert.ok(
      foreign.some((f) => f.id === started.id && f.name === 'python3'),
      'foreign kernel listed',
    );
    const adopted = (await rt.adoptKernel(started.id)) as GatewayKernel;
    assert.equal(adopted.id, started.id);
    const inbox = new Inbox();
    const session = randomUUID();
    const port = adopted.openPort(session, inbox.push);
    const ex = executeMsg('print(6*7)', session);
    port.send(ex.msg);
    await inbox.idleFor(ex.msgId, 60_000);
    assert.equal(inbox.streamText(ex.msgId).trim(), '42');
    assert.ok(
      !(await rt.listForeignKernels()).some((f) => f.id === started.id),
      'adopted kernel is no longer foreign',
    );

    // Someone else shuts it down on the gateway: the poll notices and the kernel goes dead.
    const dead = new Promise<void>((resolve) => adopted.onEvent((e) => e.type === 'dead' && resolve()));
    await rt.client.call('DELETE', `/api/kernels/${started.id}`, [204]);
    await dead;
    assert.equal(adopted.executionState, 'dead');
    port.close();
  });
});

async function waitState(k: GatewayKernel, s: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (k.executionState !== s) {
    if (Date.now() > end) throw new Error(`state is ${k.executionState}, expected ${s}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
