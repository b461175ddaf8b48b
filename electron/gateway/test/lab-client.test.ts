// @jupyterlab/services (7.4, in Node) against the proxy with real ipykernels, over BOTH WebSocket protocols:
// kernelspecs, start, execute, interrupt, restart, binary comm buffers, shutdown, nothing left running.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  KernelAPI,
  KernelManager,
  KernelSpecAPI,
  SessionManager,
  type Kernel,
  type KernelMessage,
} from '@jupyterlab/services';
import type { AppCore } from '../../app-core';
import { labSettings, processesMatching, startTestCore, waitFor } from './helpers';

const ECHO_TARGET = `
def _gd_echo_target(comm, open_msg):
    @comm.on_msg
    def _reply(msg):
        comm.send(data={'echo': msg['content']['data']}, buffers=msg['buffers'])
get_ipython().kernel.comm_manager.register_target('gd_echo', _gd_echo_target)
`;

async function run(
  kernel: Kernel.IKernelConnection,
  code: string,
): Promise<{ out: string; reply: KernelMessage.IExecuteReplyMsg }> {
  let out = '';
  const future = kernel.requestExecute({ code, store_history: false });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += (msg.content as { text: string }).text;
    if (msg.header.msg_type === 'execute_result')
      out += String((msg.content as { data: Record<string, string> }).data['text/plain']);
  };
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  return { out, reply };
}

describe('@jupyterlab/services through the proxy', { timeout: 240_000 }, () => {
  let core: AppCore;
  let cleanup: () => Promise<void>;
  const started: string[] = [];

  before(async () => {
    ({ core, cleanup } = await startTestCore());
  });

  after(async () => {
    await cleanup();
    for (const id of started) assert.deepEqual(processesMatching(id), [], `kernel ${id} left running`);
  });

  test('lists kernelspecs with resource URLs', async () => {
    const specs = await KernelSpecAPI.getSpecs(labSettings(core));
    assert.equal(specs.default, 'python3');
    const py = specs.kernelspecs.python3;
    assert.ok(py);
    assert.equal(py.language, 'python');
    assert.ok(Array.isArray(py.argv));
    assert.match(py.resources['logo-64x64'], /^\/kernelspecs\/python3\/logo-64x64\.png$/);
    const logo = await fetch(new URL(py.resources['logo-64x64'], core.proxyUrl), {
      headers: { Authorization: `token ${core.token}` },
    });
    assert.equal(logo.status, 200);
    assert.equal(logo.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await logo.arrayBuffer());
    assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  for (const protocol of ['v1', 'legacy'] as const) {
    describe(`${protocol} protocol`, () => {
      let manager: KernelManager;
      let kernel: Kernel.IKernelConnection;

      before(async () => {
        manager = new KernelManager({ serverSettings: labSettings(core, protocol === 'legacy') });
        await manager.ready;
        kernel = await manager.startNew({ name: 'python3' });
        started.push(kernel.id);
        await waitFor(() => kernel.connectionStatus === 'connected', 30_000, 'connected');
      });

      after(async () => {
        if (!kernel.isDisposed) await kernel.shutdown().catch(() => undefined);
        manager.dispose();
      });

      test('negotiates the protocol', async () => {
        await waitFor(
          () => core.proxy.channels.stats().protocols[protocol] >= 1,
          10_000,
          `${protocol} socket`,
        );
        const model = await KernelAPI.getKernelModel(kernel.id, labSettings(core));
        assert.ok(model);
        assert.match(model.last_activity ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        assert.equal(typeof (model as unknown as { connections: unknown }).connections, 'number');
        assert.ok((model as unknown as { connections: number }).connections >= 1);
      });

      test('execute print(6*7) shows 42', async () => {
        const { out, reply } = await run(kernel, 'print(6*7)');
        assert.equal(reply.content.status, 'ok');
        assert.equal(out, '42\n');
      });

      test('interrupt stops a sleep', async () => {
        const future = kernel.requestExecute({ code: 'import time; time.sleep(60)' });
        await waitFor(() => kernel.status === 'busy', 10_000, 'busy');
        await new Promise((r) => setTimeout(r, 300));
        const t0 = Date.now();
        await kernel.interrupt();
        const reply = (await future.done.catch((e: unknown) => e)) as KernelMessage.IExecuteReplyMsg;
        assert.ok(Date.now() - t0 < 15_000);
        assert.equal(reply.content.status, 'error');
        assert.equal((reply.content as { ename?: string }).ename, 'KeyboardInterrupt');
      });

      test('binary buffers round-trip byte for byte through a comm', async () => {
        const { reply } = await run(kernel, ECHO_TARGET);
        assert.equal(reply.content.status, 'ok');
        const comm = kernel.createComm('gd_echo');
        const got = new Promise<KernelMessage.ICommMsgMsg>((resolve) => {
          comm.onMsg = (msg) => resolve(msg);
        });
        await comm.open({}).done;
        // every byte value, plus random bytes (not valid UTF-8), 70 kB
        const payload = Buffer.concat([
          Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
          randomBytes(70_000),
        ]);
        const small = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
        // Standalone ArrayBuffers: Lab's serializers send `view.buffer` whole (a pooled Node Buffer would leak).
        const standalone = (b: Buffer) => new Uint8Array(b).buffer;
        comm.send({ tag: 'x' }, undefined, [standalone(payload), standalone(small)]);
        let timer: NodeJS.Timeout | undefined;
        const msg = await Promise.race([
          got,
          new Promise<never>((_, rej) => {
            timer = setTimeout(() => rej(new Error('no echo within 20 s')), 20_000);
          }),
        ]).finally(() => clearTimeout(timer));
        assert.deepEqual(msg.content.data, { echo: { tag: 'x' } });
        const bufs = (msg.buffers ?? []).map((b) =>
          ArrayBuffer.isView(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b),
        );
        assert.equal(bufs.length, 2);
        assert.ok(bufs[0].equals(payload), 'first buffer intact');
        assert.ok(bufs[1].equals(small), 'second buffer intact');
        comm.close();
      });

      test('restart keeps the id, clears state, and execute works after', async () => {
        await run(kernel, 'gd_marker = 1');
        const id = kernel.id;
        await kernel.restart();
        assert.equal(kernel.id, id);
        await waitFor(
          () => kernel.connectionStatus === 'connected' && kernel.status === 'idle',
          30_000,
          'idle after restart',
        );
        const { out } = await run(kernel, "print('gd_marker' in globals(), 6*7)");
        assert.equal(out, 'False 42\n');
        assert.equal(core.registry.get(id)?.executionState, 'idle');
      });

      test('shutdown removes the kernel and its process', async () => {
        const id = kernel.id;
        assert.ok(processesMatching(id).length > 0, 'kernel process runs');
        await kernel.shutdown();
        assert.equal(core.registry.has(id), false);
        const list = await KernelAPI.listRunning(labSettings(core));
        assert.ok(!list.some((k) => k.id === id));
        await waitFor(() => processesMatching(id).length === 0, 15_000, 'kernel process gone');
      });
    });
  }
  test('a kernel killed from outside is marked dead by Lab', async () => {
    const manager = new KernelManager({ serverSettings: labSettings(core) });
    await manager.ready;
    const kernel = await manager.startNew({ name: 'python3' });
    started.push(kernel.id);
    await waitFor(() => kernel.connectionStatus === 'connected' && kernel.status === 'idle', 30_000, 'idle');
    for (const pid of processesMatching(kernel.id)) process.kill(pid, 'SIGKILL');
    await waitFor(() => kernel.status === 'dead' || kernel.isDisposed, 30_000, 'Lab marks the kernel dead');
    const model = core.registry.model(kernel.id);
    assert.equal(model?.execution_state, 'dead');
    await KernelAPI.shutdownKernel(kernel.id, labSettings(core));
    assert.equal(core.registry.has(kernel.id), false);
    manager.dispose();
  });

  test('SessionManager (direct, case B): start a session, run code, shut it down', async () => {
    const settings = labSettings(core);
    const kernels = new KernelManager({ serverSettings: settings });
    const sessions = new SessionManager({ serverSettings: settings, kernelManager: kernels });
    await sessions.ready;
    const session = await sessions.startNew({
      path: 'x.ipynb',
      type: 'notebook',
      name: 'x.ipynb',
      kernel: { name: 'python3' },
    });
    const kernel = session.kernel;
    assert.ok(kernel);
    started.push(kernel.id);
    await waitFor(() => kernel.connectionStatus === 'connected', 30_000, 'connected');
    const { out } = await run(kernel, 'print(6*7)');
    assert.equal(out, '42\n');
    await session.shutdown();
    assert.equal(core.registry.has(kernel.id), false);
    sessions.dispose();
    kernels.dispose();
  });
});
