// The launch form's host methods over the real app-core (cluster store, kinds) and a real ipykernel: each kind
// declares its parameters with defaults (the kernelspec's env, the cluster's launch parameters), values are
// checked by the one syntax source and the cluster's own checks, an invalid start is refused before anything
// runs, and a valid one reaches the kernel's environment.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import type { GatewayClusterRuntime } from '../../clusters/gateway/runtime';
import { HostError, type HostEventName } from '../contract';
import { hostApiExtension } from '../mount';
import type { ConsoleDoneEvent, ConsoleOutputEvent } from '../models';
import type { HostService } from '../service';
import { defaultGatewaySettings } from './fakes';

async function until<T>(what: string, fn: () => T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('launch form over app-core with a real kernel', { timeout: 120_000 }, () => {
  let core: AppCore;
  let service: HostService;
  const dir = mkdtempSync(join(tmpdir(), 'gd-launchform-'));
  const specs = join(dir, 'kernels');
  const work = join(dir, 'work');
  const events: { event: HostEventName; payload: unknown }[] = [];

  before(async () => {
    mkdirSync(join(specs, 'envpy'), { recursive: true });
    mkdirSync(work);
    writeFileSync(
      join(specs, 'envpy', 'kernel.json'),
      JSON.stringify({
        argv: ['/usr/bin/python3', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        display_name: 'Env Python',
        language: 'python',
        env: { KERNEL_WORKING_DIR: work },
      }),
    );
    core = await createAppCore({
      dataDir: dir,
      clusterStore: true,
      kernelSpecDirs: [specs],
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

  test('local: declared parameters with the kernelspec env as default; syntax and cluster checks', async () => {
    const form = await service.getLaunchForm({ clusterId: 'local', specName: 'envpy' });
    assert.deepEqual(
      form.parameters.map((p) => p.name),
      ['KERNEL_WORKING_DIR', 'KERNEL_LAUNCH_TIMEOUT'],
    );
    assert.equal(form.parameters[0].default, work, "the environment's own value");
    assert.equal(form.parameters[0].kind, 'path');
    const errs = await service.checkLaunch({
      clusterId: 'local',
      specName: 'envpy',
      env: { KERNEL_WORKING_DIR: 'relative/dir', KERNEL_FOO: '$(whoami)', NOT_KERNEL: 'x', KERNEL_X: '' },
    });
    assert.match(errs.KERNEL_WORKING_DIR, /absolute path/);
    assert.match(errs.KERNEL_FOO, /must not contain \$/);
    assert.match(errs.NOT_KERNEL, /KERNEL_\* variables/);
    assert.equal(errs.KERNEL_X, undefined, 'an empty value is not sent, so not checked');
    // The cluster-side check runs once the syntax is right.
    const missing = await service.checkLaunch({
      clusterId: 'local',
      specName: 'envpy',
      env: { KERNEL_WORKING_DIR: join(dir, 'nope') },
    });
    assert.match(missing.KERNEL_WORKING_DIR, /no directory .*nope on this computer/);
    assert.deepEqual(
      await service.checkLaunch({ clusterId: 'local', specName: 'envpy', env: { KERNEL_WORKING_DIR: work } }),
      {},
    );
  });

  test('an invalid start is refused at its fields and starts nothing', async () => {
    const before = events.length;
    await assert.rejects(
      service.startKernel({
        clusterId: 'local',
        specName: 'envpy',
        env: { KERNEL_WORKING_DIR: join(dir, 'nope'), KERNEL_LAUNCH_TIMEOUT: 'soon' },
      }),
      (e: HostError) => {
        assert.equal(e.code, 'invalid-input');
        assert.match(e.fieldErrors?.KERNEL_LAUNCH_TIMEOUT ?? '', /positive number/);
        return true;
      },
    );
    assert.equal(
      events.slice(before).filter((e) => e.event === 'launch-progress').length,
      0,
      'no launch began',
    );
    assert.deepEqual(await service.listKernels(), []);
  });

  test('a valid start reaches the kernel: KERNEL_* in os.environ, the working directory used', async () => {
    await service.startKernel({
      clusterId: 'local',
      specName: 'envpy',
      env: { KERNEL_WORKING_DIR: work, KERNEL_MEMORY: '4G', KERNEL_TEAM: 'blue' },
    });
    const added = await until('kernel-added', () => events.find((e) => e.event === 'kernel-added'));
    const kernelId = (added.payload as { id: string }).id;
    const run = await service.execute({
      kernelId,
      code: 'import os\nprint(os.environ["KERNEL_MEMORY"], os.environ["KERNEL_TEAM"], os.getcwd())',
    });
    await until('done', () =>
      events.find((e) => e.event === 'console-done' && (e.payload as ConsoleDoneEvent).runId === run.runId),
    );
    const out = events.find(
      (e) => e.event === 'console-output' && (e.payload as ConsoleOutputEvent).runId === run.runId,
    )?.payload as ConsoleOutputEvent;
    assert.deepEqual(out.output, { type: 'stream', name: 'stdout', text: `4G blue ${work}\n` });
    await service.shutdownKernel(kernelId);
  });

  test('gateway: Enterprise Gateway variables, the cluster launch parameters as defaults, the same rules', async () => {
    const gw = await service.addCluster({
      name: 'Uni',
      kind: 'gateway',
      gateway: {
        ...defaultGatewaySettings(),
        url: 'http://127.0.0.1:9',
        launchParams: { KERNEL_MEMORY: '2G' },
      },
    });
    await until('enabled', () => core.directory.get(gw.id));
    const form = await service.getLaunchForm({ clusterId: gw.id, specName: 'python3' });
    const names = form.parameters.map((p) => p.name);
    for (const n of ['KERNEL_IMAGE', 'KERNEL_CPUS', 'KERNEL_MEMORY', 'KERNEL_GPUS', 'KERNEL_NAMESPACE'])
      assert.ok(names.includes(n), n);
    const mem = form.parameters.find((p) => p.name === 'KERNEL_MEMORY');
    assert.equal(mem?.default, '2G', 'the unreachable gateway still gets its form, with the cluster default');
    assert.equal(mem?.kind, 'memory');
    assert.equal(form.parameters.find((p) => p.name === 'KERNEL_VOLUMES')?.more, true);
    const errs = await service.checkLaunch({
      clusterId: gw.id,
      specName: 'python3',
      env: { KERNEL_MEMORY: 'lots', KERNEL_GPUS: '1.5', KERNEL_CPUS: '2', KERNEL_USERNAME: 'bob' },
    });
    assert.match(errs.KERNEL_MEMORY, /KERNEL_MEMORY must be an amount like 4Gi/);
    assert.match(errs.KERNEL_GPUS, /whole number/);
    assert.equal(errs.KERNEL_CPUS, undefined);
    assert.match(errs.KERNEL_USERNAME, /username/);
    // What the gateway is sent: a value chosen at start wins over the cluster's launch parameter (its default).
    const rt = core.directory.get(gw.id) as unknown as GatewayClusterRuntime;
    const kernelId = '0b0c0d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e';
    assert.equal(rt.launchEnv({ env: { KERNEL_MEMORY: '8G' }, kernelId }).KERNEL_MEMORY, '8G');
    assert.equal(rt.launchEnv({ env: {}, kernelId }).KERNEL_MEMORY, '2G');
    await service.removeCluster(gw.id);
  });

  test("ssh: KERNEL_REMOTE_HOST among the environment's hosts", async () => {
    const c = await service.addCluster({
      name: 'Lab',
      kind: 'ssh',
      settings: { hosts: ['node1', 'node2'], python: 'python3' },
    });
    const form = await service.getLaunchForm({ clusterId: c.id, specName: 'python3' });
    const host = form.parameters.find((p) => p.name === 'KERNEL_REMOTE_HOST');
    assert.deepEqual(host?.choices, ['node1', 'node2']);
    const errs = await service.checkLaunch({
      clusterId: c.id,
      specName: 'python3',
      env: { KERNEL_REMOTE_HOST: 'node9' },
    });
    assert.match(errs.KERNEL_REMOTE_HOST, /one of this environment's hosts: node1, node2/);
    await service.removeCluster(c.id);
  });

  test('an unknown cluster is not found', async () => {
    await assert.rejects(
      service.getLaunchForm({ clusterId: 'nope', specName: 'x' }),
      (e: HostError) => e.code === 'not-found',
    );
  });
});
