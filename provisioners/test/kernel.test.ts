// KernelManager against a real ipykernel (Debian's /usr/share/jupyter/kernels/python3).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { KernelManager } from '../kernel-manager';
import { reattachKernel, startKernel } from '../start';
import { LocalProvisioner } from '../local/local-provisioner';
import type { KernelEvent, KernelSpec, LaunchProgress } from '../types';
import {
  KERNEL_ENV,
  TestClient,
  groupAlive,
  newKernelId,
  pidAlive,
  psGroup,
  pythonSpec,
  waitFor,
} from './helpers';

let spec: KernelSpec;
const started: KernelManager[] = [];

async function start(extra: Partial<Parameters<typeof startKernel>[0]> = {}): Promise<KernelManager> {
  const km = await startKernel({
    kernelId: newKernelId(),
    spec,
    env: KERNEL_ENV,
    launchTimeoutMs: 90_000,
    ...extra,
  });
  started.push(km);
  return km;
}

function localOf(km: KernelManager): LocalProvisioner {
  assert.ok(km.provisioner instanceof LocalProvisioner);
  return km.provisioner;
}

before(async () => {
  spec = await pythonSpec();
});

after(async () => {
  await Promise.all(started.map((k) => k.shutdown().catch(() => undefined)));
});

describe('a running kernel', { timeout: 240_000 }, () => {
  let km: KernelManager;
  let client: TestClient;
  const events: KernelEvent[] = [];
  const progress: LaunchProgress[] = [];

  before(async () => {
    km = await start({ onProgress: (p) => progress.push(p) });
    km.onEvent((e) => events.push(e));
    client = new TestClient(km);
  });

  test('starts: progress phases in order, idle, its own process group, a private connection file', () => {
    const phases = progress.map((p) => p.phase);
    assert.deepEqual(
      phases.filter((p) => ['spawning', 'connecting', 'kernel-info'].includes(p)),
      ['spawning', 'connecting', 'kernel-info'],
    );
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].elapsedMs >= progress[i - 1].elapsedMs);
    assert.equal(km.executionState, 'idle');
    const prov = localOf(km);
    assert.ok(prov.pid && pidAlive(prov.pid));
    assert.equal(prov.processGroup, prov.pid, 'the kernel leads its own process group');
    const file = prov.connectionFilePath as string;
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(km.kernelInfoReply, 'kernel_info_reply kept');
  });

  test('executes print(6*7): "42\\n" on iopub and an ok execute_reply', async () => {
    const { reply, iopub } = await client.execute('print(6*7)');
    assert.equal(reply.channel, 'shell');
    assert.equal(reply.content.status, 'ok');
    const stream = iopub.find((m) => m.msgType === 'stream');
    assert.deepEqual(stream?.content, { name: 'stdout', text: '42\n' });
    assert.equal(km.executionState, 'idle');
  });

  test('iopub reaches every port; replies only the port that asked', async () => {
    const other = new TestClient(km);
    try {
      const { reply } = await client.execute('print("to-all")');
      assert.equal(reply.content.status, 'ok');
      await waitFor(
        () => other.received.some((m) => m.msgType === 'stream' && m.content.text === 'to-all\n'),
        10_000,
        'the other port to see the stream',
      );
      assert.ok(!other.received.some((m) => m.msgType === 'execute_reply'), 'no reply on the other port');
    } finally {
      other.close();
    }
  });

  test('input_request reaches the asking port on stdin and the input_reply gets back', async () => {
    const id = client.send('shell', 'execute_request', {
      code: 'x = input("name? ")\nprint("hi " + x)',
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: true,
      stop_on_error: true,
    });
    await waitFor(() => client.received.some((m) => m.msgType === 'input_request'), 20_000, 'input_request');
    const req = client.received.find((m) => m.msgType === 'input_request');
    assert.equal(req?.channel, 'stdin');
    assert.equal(req?.content.prompt, 'name? ');
    client.send('stdin', 'input_reply', { value: 'zmq' });
    const { reply, iopub } = await client.waitForReply(id, 'execute_reply');
    assert.equal(reply.content.status, 'ok');
    assert.ok(iopub.some((m) => m.msgType === 'stream' && m.content.text === 'hi zmq\n'));
  });

  test('tracks busy/idle from iopub and lastActivity', async () => {
    const before = km.lastActivity.getTime();
    const states: string[] = [];
    const off = km.onEvent((e) => {
      if (e.type === 'state') states.push(e.state);
    });
    try {
      await client.execute('import time; time.sleep(0.3)');
    } finally {
      off();
    }
    assert.deepEqual(states, ['busy', 'idle']);
    assert.ok(km.lastActivity.getTime() > before);
  });

  test('interrupt stops time.sleep(60) with KeyboardInterrupt', async () => {
    const id = client.send('shell', 'execute_request', {
      code: "import time; print('sleeping', flush=True); time.sleep(60)",
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    await waitFor(
      () => client.received.some((m) => m.parentId === id && m.msgType === 'stream'),
      20_000,
      'the code to be running (its print)',
    );
    await km.interrupt();
    // Within the wait's bound: a sleep of 60 s that was not interrupted would not answer in time.
    const { reply } = await client.waitForReply(id, 'execute_reply', 15_000);
    assert.equal(reply.content.status, 'error');
    assert.equal(reply.content.ename, 'KeyboardInterrupt');
    const { reply: after } = await client.execute('print("still alive")');
    assert.equal(after.content.status, 'ok');
  });

  test('restart: same id, new process, counter reset, existing port keeps working', async () => {
    await client.execute('a = 1');
    const { reply: before } = await client.execute('a');
    assert.ok(Number(before.content.execution_count) >= 2);
    const oldPid = localOf(km).pid as number;
    const id = km.id;
    events.length = 0;

    await km.restart();

    assert.equal(km.id, id);
    assert.deepEqual(
      events.filter((e) => e.type === 'restarting' || e.type === 'restarted').map((e) => e.type),
      ['restarting', 'restarted'],
    );
    assert.ok(events.some((e) => e.type === 'state' && e.state === 'restarting'));
    assert.equal(km.executionState, 'idle');
    const newPid = localOf(km).pid as number;
    assert.notEqual(newPid, oldPid);
    await waitFor(() => psGroup(oldPid).length === 0, 10_000, 'the old kernel process group to be gone');

    const { reply } = await client.execute('print(6*7)');
    assert.equal(reply.content.status, 'ok');
    assert.equal(reply.content.execution_count, 1, 'execution counter starts again');
    const { reply: nameErr } = await client.execute('a');
    assert.equal(nameErr.content.ename, 'NameError', 'fresh namespace');
  });

  test('shutdown leaves no process, removes the connection file, is idempotent', async () => {
    const prov = localOf(km);
    const pid = prov.pid as number;
    const file = prov.connectionFilePath as string;
    assert.ok(psGroup(pid).length > 0);
    await Promise.all([km.shutdown(), km.shutdown()]);
    assert.equal(km.executionState, 'dead');
    assert.equal(pidAlive(pid), false, 'kernel pid gone');
    assert.equal(groupAlive(pid), false, 'kernel process group gone');
    assert.deepEqual(psGroup(pid), []);
    assert.equal(existsSync(file), false, 'connection file removed');
    await km.shutdown();
  });
});

describe('kernel death and recovery', { timeout: 240_000 }, () => {
  test('a kernel killed from outside is reported dead within seconds, and nothing is left', async () => {
    const km = await start();
    // ipykernel sends sys.stderr to iopub; fd 2 is the process's real stderr, which the provisioner keeps.
    await new TestClient(km).execute('import os; os.write(2, b"last words\\n")');
    const prov = localOf(km);
    const pid = prov.pid as number;
    const file = prov.connectionFilePath as string;
    const dead: string[] = [];
    km.onEvent((e) => {
      if (e.type === 'dead') dead.push(e.reason);
    });
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(() => dead.length > 0, 10_000, "the 'dead' event");
    const took = Date.now() - t0;
    assert.ok(took < 5000, `dead reported after ${took} ms`);
    assert.match(dead[0], /exit code -9.*SIGKILL/);
    assert.equal(km.diagnostics().deathReason, dead[0]);
    assert.match(km.diagnostics().outputTail, /last words/);
    assert.equal(km.executionState, 'dead');
    assert.deepEqual(psGroup(pid), []);
    assert.equal(existsSync(file), false);
    await assert.rejects(km.restart(), /cannot restart/);
    await km.shutdown();
  });

  test('a process left in the kernel group (orphaned, ignoring SIGTERM) is killed on shutdown', async () => {
    const km = await start();
    const client = new TestClient(km);
    const pid = localOf(km).pid as number;
    // sh backgrounds a grandchild and exits: the grandchild is re-parented away from the kernel but stays in
    // its process group, and it ignores SIGTERM. Only a SIGKILL to the group ends it.
    const code = [
      'import subprocess',
      'subprocess.run(["/bin/sh", "-c", "/usr/bin/python3 -c \'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(301)\' >/dev/null 2>&1 &"])',
    ].join('\n');
    const { reply } = await client.execute(code);
    assert.equal(reply.content.status, 'ok');
    await waitFor(() => psGroup(pid).some((l) => l.includes('time.sleep(301)')), 10_000, 'the orphan');
    await km.shutdown();
    assert.deepEqual(psGroup(pid), []);
  });

  test('autoRestart brings a killed kernel back under the same id', async () => {
    const km = await start({ autoRestart: { enabled: true, maxRestarts: 1 } });
    const client = new TestClient(km);
    const types: string[] = [];
    km.onEvent((e) => types.push(e.type));
    const pid = localOf(km).pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => types.includes('restarted'), 60_000, 'automatic restart');
    assert.ok(!types.includes('dead'));
    assert.equal(km.restartCount, 1);
    const { reply } = await client.execute('print(1)');
    assert.equal(reply.content.status, 'ok');
    await km.shutdown();
  });

  test('a paused kernel (SIGSTOP) is reported not answering, kept, and answers again with its state', async () => {
    const km = await start({ monitor: { intervalMs: 300, timeoutMs: 400, maxMisses: 3 } });
    const client = new TestClient(km);
    assert.equal((await client.execute('kept = 41')).reply.content.status, 'ok');
    const pid = localOf(km).pid as number;
    const events: KernelEvent[] = [];
    km.onEvent((e) => events.push(e));
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(() => events.some((e) => e.type === 'unresponsive'), 20_000, "the 'unresponsive' event");
      // The pause goes on well past three missed heartbeats (which used to mean death): still kept.
      const missesLater = Date.now() + 3 * 3 * 400;
      await waitFor(() => Date.now() >= missesLater, 10_000, 'more missed heartbeats');
      assert.ok(pidAlive(pid), 'the paused kernel must not be killed');
      assert.ok(!events.some((e) => e.type === 'dead'));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => events.some((e) => e.type === 'responsive'), 20_000, "the 'responsive' event");
    const unresponsive = events.find((e) => e.type === 'unresponsive');
    assert.match(
      unresponsive?.type === 'unresponsive' ? unresponsive.reason : '',
      /not answering heartbeats/,
    );
    const { reply, iopub } = await client.execute('print(kept + 1)');
    assert.equal(reply.content.status, 'ok');
    const printed = iopub.filter((m) => m.msgType === 'stream').map((m) => String(m.content.text));
    assert.match(printed.join(''), /42/);
  });

  test("interrupt_mode 'message' interrupts with interrupt_request on control", async () => {
    const km = await start({ spec: { ...spec, spec: { ...spec.spec, interrupt_mode: 'message' } } });
    const client = new TestClient(km);
    const id = client.send('shell', 'execute_request', {
      code: "import time; print('sleeping', flush=True); time.sleep(60)",
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    await waitFor(
      () => client.received.some((m) => m.parentId === id && m.msgType === 'stream'),
      20_000,
      'the code to be running (its print)',
    );
    await km.interrupt();
    const { reply } = await client.waitForReply(id, 'execute_reply', 15_000);
    assert.equal(reply.content.ename, 'KeyboardInterrupt');
    await km.shutdown();
  });

  test('release + reattach: a still-running kernel is taken over by a new manager', async () => {
    const kernelId = newKernelId();
    const km = await start({ kernelId, provisioner: new LocalProvisioner(kernelId, { tieToParent: false }) });
    const c1 = new TestClient(km);
    await c1.execute('marker = "kept"');
    const state = await km.release();
    assert.equal(state.kernelId, kernelId);
    const logFile = String(state.details.logFile);
    assert.ok(existsSync(logFile), 'a kernel that may outlive the app logs to a file');
    const pid = Number(state.details.pid);
    assert.ok(pidAlive(pid));

    const again = await reattachKernel(state, spec);
    started.push(again);
    const c2 = new TestClient(again);
    const { iopub } = await c2.execute('print(marker)');
    assert.ok(iopub.some((m) => m.msgType === 'stream' && m.content.text === 'kept\n'));
    assert.equal(await again.provisioner.poll(), null);
    await again.shutdown();
    await waitFor(() => !pidAlive(pid), 10_000, 'the re-attached kernel to exit');
    assert.deepEqual(psGroup(pid), []);
    assert.equal(existsSync(logFile), false);
    assert.equal(existsSync(String(state.details.connectionFile)), false);
  });
});
