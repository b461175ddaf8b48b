// The host service over an in-memory backend: validation, events, launches, the console protocol.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import type { HostEventName, HostEvents } from '../contract';
import { HostError } from '../contract';
import type { ClusterInput } from '../models';
import { HostService } from '../service';
import { FakeBackend, defaultGatewaySettings } from './fakes';

const dirs: string[] = [];
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'gd-host-'));
  dirs.push(dir);
  const backend = new FakeBackend(dir);
  const service = new HostService({ backend, shell: 'browser', healthIntervalMs: 0 });
  const events: { event: HostEventName; payload: unknown }[] = [];
  service.onAny((event, payload) => events.push({ event, payload }));
  return { backend, service, events };
}

function gateway(url: string, name = 'Uni'): ClusterInput {
  return { name, kind: 'gateway', gateway: { ...defaultGatewaySettings('me'), url } };
}

async function until(fn: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('HostService', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(async () => {
    ctx = setup();
    await ctx.service.init();
  });

  test('lists "This computer" as active and built in, with health', async () => {
    const list = await ctx.service.listClusters();
    assert.equal(list.length, 1);
    assert.equal(list[0].name, 'This computer');
    assert.equal(list[0].active, true);
    assert.equal(list[0].builtIn, true);
    assert.equal(list[0].health.status, 'ok');
  });

  test('environments carry display name, language, logo as a data URL, and problems', async () => {
    const envs = await ctx.service.listEnvironments('local');
    assert.equal(envs.error, null);
    assert.equal(envs.environments[0].displayName, 'Python 3');
    assert.equal(envs.environments[0].language, 'python');
    assert.equal(envs.environments[0].isDefault, true);
    assert.match(envs.environments[0].logo ?? '', /^data:image\/png;base64,/);
    assert.equal(envs.problems[0].name, 'broken');
    await assert.rejects(ctx.service.listEnvironments('nope'), (e: HostError) => e.code === 'not-found');
  });

  test('adding a cluster with a bad URL is refused with a field error and nothing reaches the store', async () => {
    for (const url of ['', 'not a url', 'ftp://x.example', 'https://gw.example/?token=abc']) {
      await assert.rejects(ctx.service.addCluster(gateway(url)), (e: HostError) => {
        assert.equal(e.code, 'invalid-input');
        assert.ok(e.fieldErrors?.url, `field error for ${JSON.stringify(url)}`);
        return true;
      });
    }
    assert.equal(ctx.backend.added.length, 0);
    const bad = gateway('https://gw.example');
    bad.gateway!.requestTimeoutSec = 5;
    await assert.rejects(ctx.service.addCluster(bad), (e: HostError) =>
      Boolean(e.fieldErrors?.requestTimeoutSec),
    );
    const params = gateway('https://gw.example');
    params.gateway!.launchParams = { KERNEL_CPUS: 'lots' };
    await assert.rejects(ctx.service.addCluster(params), (e: HostError) =>
      Boolean(e.fieldErrors?.launchParams),
    );
    await assert.rejects(
      ctx.service.addCluster(gateway('https://gw.example', 'this computer')),
      (e: HostError) => Boolean(e.fieldErrors?.name),
    );
  });

  test('a good cluster is added, listed, and a clusters-changed event is pushed', async () => {
    const c = await ctx.service.addCluster(gateway('https://gw.example:8888'));
    assert.equal(c.name, 'Uni');
    assert.equal(c.kind, 'gateway');
    await until(() => ctx.events.some((e) => e.event === 'clusters-changed'));
    // The background health check ran the backend's test: unreachable is shown.
    await until(() => {
      const last = ctx.events.filter((e) => e.event === 'clusters-changed').at(-1)
        ?.payload as HostEvents['clusters-changed'];
      return last?.find((x) => x.id === c.id)?.health.status === 'unreachable';
    });
    await assert.rejects(ctx.service.removeCluster('local'), (e: HostError) => e.code === 'conflict');
  });

  test('starting a kernel streams launch progress, then the kernel-added event', async () => {
    const { launchId } = await ctx.service.startKernel({ clusterId: 'local', specName: 'python3' });
    await until(() => ctx.events.some((e) => e.event === 'kernel-added'));
    const progress = ctx.events
      .filter((e) => e.event === 'launch-progress')
      .map((e) => e.payload as HostEvents['launch-progress'])
      .filter((p) => p.launchId === launchId);
    assert.deepEqual(
      progress.map((p) => p.phase),
      ['requested', 'spawning', 'ready'],
    );
    assert.equal(progress.at(-1)?.status, 'done');
    assert.equal(progress.at(-1)?.kernelId, 'k1');
    const kernels = await ctx.service.listKernels();
    assert.equal(kernels[0].clusterName, 'This computer');
  });

  test('a failed launch says why', async () => {
    ctx.backend.startPlan = 'fail';
    const { launchId } = await ctx.service.startKernel({ clusterId: 'local', specName: 'python3' });
    await until(() =>
      ctx.events.some(
        (e) => e.event === 'launch-progress' && (e.payload as { status: string }).status === 'failed',
      ),
    );
    const failed = ctx.events.find(
      (e) => e.event === 'launch-progress' && (e.payload as { status: string }).status === 'failed',
    )?.payload as HostEvents['launch-progress'];
    assert.equal(failed.launchId, launchId);
    assert.match(failed.error ?? '', /nope/);
    assert.ok((await ctx.service.getLog()).some((l) => l.level === 'error' && /nope/.test(l.message)));
  });

  test('console: execute sends a signed-by-backend execute_request and streams outputs, then done', async () => {
    await ctx.service.startKernel({ clusterId: 'local', specName: 'python3' });
    await until(() => ctx.backend.kernelBackends.has('k1'));
    const k = ctx.backend.kernelBackends.get('k1')!;
    const run = await ctx.service.execute({ kernelId: 'k1', code: 'print(1)' });
    assert.equal(k.sent.length, 1);
    const header = JSON.parse(k.sent[0].header.toString()) as { msg_type: string; msg_id: string };
    assert.equal(header.msg_type, 'execute_request');
    assert.equal(k.sent[0].channel, 'shell');
    assert.equal(JSON.parse(k.sent[0].content.toString()).code, 'print(1)');
    const id = header.msg_id;
    k.deliver('iopub', 'status', id, { execution_state: 'busy' });
    k.deliver('iopub', 'stream', id, { name: 'stdout', text: '1\n' });
    k.deliver('iopub', 'stream', 'someone-else', { name: 'stdout', text: 'not ours' });
    k.deliver('iopub', 'execute_result', id, {
      data: { 'text/plain': '2', 'text/html': '<b>2</b>' },
      execution_count: 3,
    });
    k.deliver('iopub', 'error', id, { ename: 'E', evalue: 'v', traceback: ['\u001b[0;31mline\u001b[0m'] });
    k.deliver('shell', 'execute_reply', id, { status: 'error', execution_count: 3 });
    k.deliver('iopub', 'status', id, { execution_state: 'idle' });
    const outs = ctx.events
      .filter((e) => e.event === 'console-output')
      .map((e) => e.payload as HostEvents['console-output']);
    assert.ok(outs.every((o) => o.runId === run.runId));
    assert.deepEqual(
      outs.map((o) => o.output.type),
      ['stream', 'display', 'error'],
    );
    const done = ctx.events.find((e) => e.event === 'console-done')?.payload as HostEvents['console-done'];
    assert.deepEqual(done, { runId: run.runId, kernelId: 'k1', status: 'error', executionCount: 3 });
    // The kernel goes away: the console's port is closed.
    ctx.backend.emitKernel({ type: 'removed', id: 'k1' });
    assert.equal(k.portCount, 0);
  });

  test('execute on an unknown kernel is a not-found error', async () => {
    await assert.rejects(
      ctx.service.execute({ kernelId: 'zzz', code: '1' }),
      (e: HostError) => e.code === 'not-found',
    );
  });

  test('proxy info has the ready-to-copy command', async () => {
    const p = await ctx.service.getProxyInfo();
    assert.equal(p.url, 'http://127.0.0.1:5555');
    assert.equal(
      p.labCommand,
      'jupyter lab --gateway-url=http://127.0.0.1:5555 --GatewayClient.auth_token=secret-token',
    );
  });

  test('settings: validated, persisted, pushed', async () => {
    await assert.rejects(ctx.service.updateSettings({ theme: 'pink' as 'dark' }), (e: HostError) =>
      Boolean(e.fieldErrors?.theme),
    );
    const s = await ctx.service.updateSettings({ theme: 'dark', quitBehaviour: 'shutdown' });
    assert.equal(s.theme, 'dark');
    assert.ok(ctx.events.some((e) => e.event === 'settings-changed'));
    const again = new HostService({ backend: ctx.backend, shell: 'browser', healthIntervalMs: 0 });
    await again.init();
    assert.equal((await again.getSettings()).quitBehaviour, 'shutdown');
    again.close();
  });

  test('without a lab launcher, JupyterLab status says how to run it by hand', async () => {
    const st = await ctx.service.openLab({});
    assert.equal(st.state, 'unavailable');
    assert.match(st.installHint ?? '', /jupyter lab --gateway-url=/);
  });
});
