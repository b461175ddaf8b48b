// The kernel registry and the cluster directory with two real local clusters (different kernelspec dirs):
// routing of own and pinned names, switching the active cluster, events, launch tracking and failures,
// launch time limits, shutdownAll leaving nothing behind.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeMessage } from '../../../provisioners/zmq/wire';
import type { KernelBackend, WireMessage } from '../../../provisioners/types';
import { ClusterDirectory, slugify, type DirectoryState } from '../../clusters/directory';
import { LocalCluster } from '../../clusters/local-cluster';
import type { ClusterRuntime } from '../../clusters/types';
import { KernelLaunchError, KernelSpecNotFoundError, ShuttingDownError } from '../errors';
import { KernelRegistry, type KernelRegistryEvents } from '../registry';
import { execFileSync } from 'node:child_process';

const SYSTEM_PY = '/usr/share/jupyter/kernels/python3';

function processesMatching(needle: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function waitFor<T>(cond: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function addSpec(dir: string, name: string, patch: Record<string, unknown>): void {
  const target = path.join(dir, name);
  cpSync(SYSTEM_PY, target, { recursive: true });
  const spec = JSON.parse(readFileSync(path.join(target, 'kernel.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(target, 'kernel.json'), JSON.stringify({ ...spec, ...patch }));
}

/** Run code on a backend through its own port; resolves with stdout. */
function runOn(backend: KernelBackend, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = randomUUID();
    let out = '';
    const req = makeMessage('shell', 'execute_request', { code, silent: false }, session);
    const id = (JSON.parse(req.header.toString()) as { msg_id: string }).msg_id;
    const timer = setTimeout(() => reject(new Error('no reply')), 20_000);
    const port = backend.openPort(session, (m: WireMessage) => {
      const parent = JSON.parse(m.parentHeader.toString() || '{}') as { msg_id?: string };
      if (parent.msg_id !== id) return;
      const type = (JSON.parse(m.header.toString()) as { msg_type: string }).msg_type;
      if (type === 'stream') out += (JSON.parse(m.content.toString()) as { text: string }).text;
      if (
        type === 'status' &&
        (JSON.parse(m.content.toString()) as { execution_state: string }).execution_state === 'idle'
      ) {
        clearTimeout(timer);
        port.close();
        resolve(out);
      }
    });
    port.send(req);
  });
}

describe('cluster directory + kernel registry (two local clusters)', { timeout: 180_000 }, () => {
  let dirA: string;
  let dirB: string;
  let a: LocalCluster;
  let b: LocalCluster;
  let directory: ClusterDirectory;
  let registry: KernelRegistry;
  const seen: Array<{ event: keyof KernelRegistryEvents; payload: unknown }> = [];
  const started: string[] = [];

  before(() => {
    dirA = mkdtempSync(path.join(tmpdir(), 'gd-a-'));
    dirB = mkdtempSync(path.join(tmpdir(), 'gd-b-'));
    addSpec(dirA, 'python3', { env: { GD_CLUSTER: 'A' } });
    addSpec(dirA, 'alpha', { display_name: 'Alpha', env: { GD_CLUSTER: 'A' } });
    addSpec(dirB, 'python3', { display_name: 'Python B', env: { GD_CLUSTER: 'B' } });
    addSpec(dirB, 'beta', { display_name: 'Beta', env: { GD_CLUSTER: 'B' } });
    mkdirSync(path.join(dirB, 'hang'));
    writeFileSync(
      path.join(dirB, 'hang', 'kernel.json'),
      JSON.stringify({
        argv: ['/bin/sh', '-c', 'sleep 61.4242', '{connection_file}'],
        display_name: 'Hang',
        language: 'none',
      }),
    );
    a = new LocalCluster({ id: 'local', name: 'This computer', kernelSpecDirs: [dirA] });
    b = new LocalCluster({ id: 'Lab Box', name: 'Lab box', kernelSpecDirs: [dirB] });
    directory = new ClusterDirectory({ clusters: [a, b] });
    registry = new KernelRegistry({ directory });
    for (const ev of [
      'kernel-added',
      'kernel-updated',
      'kernel-removed',
      'launch-progress',
      'kernel-dead',
    ] as const) {
      registry.on(ev, (payload) => seen.push({ event: ev, payload }));
    }
  });

  after(async () => {
    await registry.shutdownAll();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
    for (const id of started) assert.deepEqual(processesMatching(id), [], `kernel ${id} left running`);
    assert.deepEqual(processesMatching('61.4242'), [], 'hanging launch left running');
  });

  test('slugs are valid kernel-name parts and never contain "--"', () => {
    assert.equal(slugify('Lab Box'), 'lab-box');
    assert.equal(slugify('a--b__c'), 'a-b__c');
    assert.equal(slugify('***'), 'cluster');
    assert.equal(directory.slugOf('Lab Box'), 'lab-box');
    assert.match(directory.pinnedName('Lab Box', 'python3'), /^[A-Za-z0-9._-]+$/);
  });

  test('active cluster under own names, others pinned with "(on <cluster>)"', async () => {
    const l = await directory.listKernelSpecs();
    const names = l.specs.map((s) => s.name).sort();
    assert.deepEqual(names, ['alpha', 'lab-box--beta', 'lab-box--hang', 'lab-box--python3', 'python3']);
    assert.equal(l.default, 'python3');
    const pinned = l.specs.find((s) => s.name === 'lab-box--python3');
    assert.equal(pinned?.spec.display_name, 'Python B (on Lab box)');
    assert.equal(pinned?.clusterId, 'Lab Box');
    assert.equal(l.specs.find((s) => s.name === 'python3')?.clusterId, 'local');
  });

  test('resolveSpec: own names → active; pinned names (active one too) → their cluster', async () => {
    assert.equal((await directory.resolveSpec('python3'))?.cluster, a);
    assert.equal((await directory.resolveSpec('lab-box--python3'))?.cluster, b);
    const self = await directory.resolveSpec('local--alpha');
    assert.equal(self?.cluster, a);
    assert.equal(self?.specName, 'alpha');
    assert.equal(await directory.resolveSpec('beta'), null);
    assert.equal(await directory.resolveSpec('lab-box--nope'), null);
    assert.equal(await directory.resolveSpec('nope'), null);
  });

  test('start, switch active, start again: next start goes to the new cluster, the running one stays', async () => {
    seen.length = 0;
    const k1 = await registry.start('python3');
    started.push(k1.id);
    assert.equal(k1.clusterId, 'local');
    assert.equal(k1.specName, 'python3');
    const phases = seen
      .filter((e) => e.event === 'launch-progress')
      .map((e) => (e.payload as { phase: string }).phase);
    assert.equal(phases[0], 'resolving');
    assert.equal(phases[phases.length - 1], 'ready');
    assert.ok(seen.some((e) => e.event === 'kernel-added' && (e.payload as { id: string }).id === k1.id));

    const changes: DirectoryState[] = [];
    const off = directory.on('active-changed', (s) => changes.push(s));
    directory.setActive('Lab Box');
    off();
    assert.equal(changes.length, 1);
    assert.equal(changes[0].activeId, 'Lab Box');
    const l = await directory.listKernelSpecs();
    assert.deepEqual(l.specs.map((s) => s.name).sort(), [
      'beta',
      'hang',
      'local--alpha',
      'local--python3',
      'python3',
    ]);

    const k2 = await registry.start('python3');
    started.push(k2.id);
    assert.equal(k2.clusterId, 'Lab Box');
    assert.equal(
      await runOn(registry.get(k2.id)!.backend, "import os; print(os.environ['GD_CLUSTER'])"),
      'B\n',
    );
    assert.equal(registry.get(k1.id)?.clusterId, 'local');
    assert.equal(
      await runOn(registry.get(k1.id)!.backend, "import os; print(os.environ['GD_CLUSTER'])"),
      'A\n',
    );

    const k3 = await registry.start('local--alpha');
    started.push(k3.id);
    assert.equal(k3.clusterId, 'local');
    assert.equal(k3.clusterSpecName, 'alpha');
    assert.equal(registry.model(k3.id)?.name, 'local--alpha');

    seen.length = 0;
    await registry.shutdown(k3.id);
    assert.ok(seen.some((e) => e.event === 'kernel-removed' && (e.payload as { id: string }).id === k3.id));
    directory.setActive('local');
  });

  test('unknown spec: 404 error, failed launch kept with its reason', async () => {
    await assert.rejects(registry.start('nope'), KernelSpecNotFoundError);
    const failed = registry.launches().filter((l) => l.specName === 'nope');
    assert.equal(failed.at(-1)?.status, 'failed');
    assert.match(failed.at(-1)?.error ?? '', /nope/);
  });

  test('a kernel that never answers fails within KERNEL_LAUNCH_TIMEOUT and leaves nothing', async () => {
    const err = await registry
      .start('lab-box--hang', { KERNEL_LAUNCH_TIMEOUT: '3' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof KernelLaunchError, String(err));
    // It was the 3 s launch limit that ended it (the message and the kept launch say so), not anything else.
    assert.match(err.message, /within 3 s|3000 ms/);
    const failed = registry.launches().filter((l) => l.specName === 'lab-box--hang');
    assert.equal(failed.at(-1)?.status, 'failed');
    assert.match(failed.at(-1)?.error ?? '', /within 3 s|3000 ms/);
    await waitFor(() => processesMatching('61.4242').length === 0, 10_000, 'hanging process gone');
  });

  test('connection counting and events', async () => {
    const { id } = await registry.start('python3');
    seen.length = 0;
    registry.connectionOpened(id);
    registry.connectionOpened(id);
    registry.connectionClosed(id);
    assert.equal(registry.model(id)?.connections, 1);
    assert.equal(seen.filter((e) => e.event === 'kernel-updated').length, 3);
    registry.connectionClosed(id);
    assert.equal(registry.model(id)?.connections, 0);
  });

  test('shutdownAll stops everything; no new starts afterwards', async () => {
    while (registry.ids().length < 2) await registry.start('python3');
    const ids = registry.ids();
    await registry.shutdownAll();
    assert.deepEqual(registry.ids(), []);
    for (const id of ids)
      await waitFor(() => processesMatching(id).length === 0, 15_000, `kernel ${id} gone`);
    await assert.rejects(registry.start('python3'), ShuttingDownError);
  });
});

describe('cluster directory bookkeeping (no kernels)', () => {
  const fake = (id: string, specs: string[]): ClusterRuntime => ({
    id,
    name: id.toUpperCase(),
    kind: 'fake',
    listKernelSpecs: async () => ({
      default: specs[0] ?? null,
      specs: specs.map((name) => ({
        name,
        spec: { argv: [], display_name: name, language: 'x' },
        resources: {},
      })),
      problems: [],
    }),
    getResource: async () => null,
    startKernel: async () => {
      throw new Error('not here');
    },
    dispose: async () => undefined,
  });

  test('slug clashes get a suffix; removing the active cluster activates the next', async () => {
    const d = new ClusterDirectory({ clusters: [fake('x', ['k']), fake('X', ['k'])] });
    assert.equal(d.slugOf('x'), 'x');
    assert.equal(d.slugOf('X'), 'x-2');
    const events: string[] = [];
    d.on('clusters-changed', () => events.push('clusters'));
    d.on('active-changed', (s) => events.push(`active:${s.activeId}`));
    d.remove('x');
    assert.equal(d.activeId, 'X');
    assert.deepEqual(events, ['clusters', 'active:X']);
    d.add(fake('y', ['k2']), { activate: true });
    assert.equal(d.activeId, 'y');
    assert.deepEqual(
      (await d.listKernelSpecs()).specs.map((s) => s.name),
      ['k2', 'x-2--k'],
    );
  });

  test('a cluster that fails to list becomes a problem, others still list', async () => {
    const broken: ClusterRuntime = {
      ...fake('bad', []),
      listKernelSpecs: async () => Promise.reject(new Error('unreachable')),
    };
    const d = new ClusterDirectory({ clusters: [fake('ok', ['k']), broken] });
    const l = await d.listKernelSpecs();
    assert.deepEqual(
      l.specs.map((s) => s.name),
      ['k'],
    );
    assert.match(l.problems[0].message, /unreachable/);
    await assert.rejects(d.resolveSpec('bad--k'), /could not list/);
  });
});
