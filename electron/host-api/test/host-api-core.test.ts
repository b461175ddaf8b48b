// The host service over the real app-core (registry, directory, cluster store, secrets) and a real
// ipykernel: cluster CRUD lands in clusters.json and the directory, and the console runs code through
// KernelBackend.openPort with outputs streamed as events.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import type { HostEventName } from '../contract';
import { HostError } from '../contract';
import { hostApiExtension } from '../mount';
import type { ConsoleOutputEvent, ConsoleDoneEvent } from '../models';
import { defaultGatewaySettings } from './fakes';
import type { HostService } from '../service';

async function until<T>(what: string, fn: () => T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('host service over app-core with a real kernel', { timeout: 180_000 }, () => {
  let core: AppCore;
  let service: HostService;
  const dir = mkdtempSync(join(tmpdir(), 'gd-hostcore-'));
  const events: { event: HostEventName; payload: unknown }[] = [];

  before(async () => {
    core = await createAppCore({
      dataDir: dir,
      clusterStore: true,
      extensions: [
        hostApiExtension({
          shell: 'browser',
          serveUi: false,
          lab: null,
          onReady: (s) => {
            service = s;
            s.onAny((event, payload) => events.push({ event, payload }));
          },
        }),
      ],
    });
  });

  after(async () => {
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('clusters: a bad URL saves nothing; a good one reaches clusters.json and the directory', async () => {
    const input = {
      name: 'Uni',
      kind: 'gateway' as const,
      gateway: { ...defaultGatewaySettings(), url: 'nope' },
    };
    await assert.rejects(service.addCluster(input), (e: HostError) => Boolean(e.fieldErrors?.url));
    const file = join(dir, 'clusters.json');
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { clusters: unknown[] }).clusters.length, 1);
    const c = await service.addCluster({
      ...input,
      gateway: { ...input.gateway, url: 'http://127.0.0.1:9', authToken: 'sekrit' },
    });
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { clusters: { id: string }[] };
    assert.ok(saved.clusters.some((x) => x.id === c.id));
    assert.ok(!readFileSync(file, 'utf8').includes('sekrit'), 'the token is kept out of clusters.json');
    await until('the directory enables it', () => core.directory.get(c.id));
    const detail = await service.getCluster(c.id);
    assert.equal(detail.gateway?.hasAuthToken, true);
    assert.equal(detail.gateway?.url, 'http://127.0.0.1:9');
    const d = await service.testCluster({ id: c.id });
    assert.equal(d.ok, false);
    assert.equal(d.kind, 'refused');
    await service.removeCluster(c.id);
    await until('the directory drops it', () => !core.directory.get(c.id));
  });

  test('console over a real ipykernel: stdout, rich result, error, then done', async () => {
    const { launchId } = await service.startKernel({ clusterId: 'local', specName: 'python3' });
    const added = await until('kernel-added', () => events.find((e) => e.event === 'kernel-added'));
    const kernelId = (added.payload as { id: string }).id;
    assert.ok(
      events.some(
        (e) => e.event === 'launch-progress' && (e.payload as { launchId: string }).launchId === launchId,
      ),
    );
    const run = await service.execute({ kernelId, code: 'print(6*7)\n6*7' });
    const done = await until('done', () =>
      events.find((e) => e.event === 'console-done' && (e.payload as ConsoleDoneEvent).runId === run.runId),
    );
    assert.equal((done.payload as ConsoleDoneEvent).status, 'ok');
    const outs = events
      .filter((e) => e.event === 'console-output' && (e.payload as ConsoleOutputEvent).runId === run.runId)
      .map((e) => (e.payload as ConsoleOutputEvent).output);
    assert.deepEqual(outs[0], { type: 'stream', name: 'stdout', text: '42\n' });
    assert.equal(outs[1].type === 'display' && outs[1].data['text/plain'], '42');
    const bad = await service.execute({ kernelId, code: 'raise ValueError("nope")' });
    await until('error done', () =>
      events.find((e) => e.event === 'console-done' && (e.payload as ConsoleDoneEvent).runId === bad.runId),
    );
    const err = events.find(
      (e) => e.event === 'console-output' && (e.payload as ConsoleOutputEvent).runId === bad.runId,
    )?.payload as ConsoleOutputEvent;
    assert.equal(err.output.type, 'error');
    assert.equal(err.output.type === 'error' && err.output.ename, 'ValueError');

    // Restart: a run sent while the kernel restarts is refused with a reason (it would otherwise reach the
    // old process and never end); once idle again the console counts from 1 in the fresh kernel.
    const restarting = service.restartKernel(kernelId);
    await until('restarting', () =>
      events.find(
        (e) =>
          e.event === 'kernel-updated' &&
          (e.payload as { id: string; state: string }).id === kernelId &&
          (e.payload as { state: string }).state === 'restarting',
      ),
    );
    await assert.rejects(service.execute({ kernelId, code: '1' }), (e: HostError) => {
      assert.equal(e.code, 'unavailable');
      assert.match(e.message, /restarting.*once it is idle/);
      return true;
    });
    await restarting;
    const again = await service.execute({ kernelId, code: '"fresh"' });
    const againDone = await until('run after restart done', () =>
      events.find((e) => e.event === 'console-done' && (e.payload as ConsoleDoneEvent).runId === again.runId),
    );
    assert.equal((againDone.payload as ConsoleDoneEvent).status, 'ok');
    assert.equal((againDone.payload as ConsoleDoneEvent).executionCount, 1);

    await service.shutdownKernel(kernelId);
    await until('kernel-removed', () => events.find((e) => e.event === 'kernel-removed'));
    assert.deepEqual(await service.listKernels(), []);
  });
});
