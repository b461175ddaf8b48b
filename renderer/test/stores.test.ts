// The renderer's zustand stores (vanilla, in Node): replicas fed by pushed events, merging a fetched list
// with events that raced it, console runs with outputs that overtake the reply, and the model wiring.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostApi, HostEventName, HostEvents } from '../../electron/host-api/contract';
import { HOST_METHOD_NAMES } from '../../electron/host-api/contract';
import type { KernelSummary } from '../../electron/host-api/models';
import type { ConnectionState, HostConnection } from '../src/host/types';
import { createConsoleStore, mergeOutput } from '../src/stores/console';
import { createKernelsStore, kernelList } from '../src/stores/kernels';
import { createModel } from '../src/stores/model';
import { duration, relativeTime, stripAnsi } from '../src/util/format';

function kernel(id: string, state: KernelSummary['state'] = 'idle'): KernelSummary {
  return {
    id,
    clusterId: 'local',
    clusterName: 'This computer',
    specName: 'python3',
    displayName: 'python3',
    state,
    startedAt: new Date().toISOString(),
    lastActivity: new Date().toISOString(),
    connections: 0,
    reason: null,
  };
}

describe('kernels store', () => {
  test('events that raced the initial list are not undone by it', () => {
    const s = createKernelsStore();
    s.getState().beginLoad();
    s.getState().upsert(kernel('a', 'busy')); // event arrives before the list answer
    s.getState().upsert(kernel('c'));
    s.getState().remove('b');
    s.getState().loadedList([kernel('a', 'idle'), kernel('b')]); // stale snapshot
    const list = kernelList(s.getState());
    assert.deepEqual(
      list.map((k) => [k.id, k.state]),
      [
        ['a', 'busy'],
        ['c', 'idle'],
      ],
    );
  });

  test('launches are tracked by id; failed ones stay until dismissed', () => {
    const s = createKernelsStore();
    const base = {
      launchId: 'l1',
      kernelId: null,
      clusterId: 'local',
      specName: 'python3',
      elapsedMs: 0,
      detail: null,
      error: null,
    };
    s.getState().launch({ ...base, phase: 'requested', message: '', status: 'running' });
    s.getState().launch({ ...base, phase: 'failed', message: '', status: 'failed', error: 'boom' });
    assert.equal(s.getState().launches.l1.error, 'boom');
    s.getState().dismissLaunch('l1');
    assert.deepEqual(s.getState().launches, {});
  });
});

describe('console store', () => {
  test('outputs that arrive before the run id is known are kept and replayed', () => {
    const c = createConsoleStore();
    const local = c.getState().submitted('k1', 'print(1)');
    c.getState().output({
      runId: 'r1',
      kernelId: 'k1',
      output: { type: 'stream', name: 'stdout', text: '1' },
    });
    c.getState().output({
      runId: 'r1',
      kernelId: 'k1',
      output: { type: 'stream', name: 'stdout', text: '\n' },
    });
    c.getState().done({ runId: 'r1', kernelId: 'k1', status: 'ok', executionCount: 4 });
    c.getState().started(local, 'r1');
    const e = c.getState().entries[0];
    assert.equal(e.status, 'ok');
    assert.equal(e.executionCount, 4);
    assert.deepEqual(e.outputs, [{ type: 'stream', name: 'stdout', text: '1\n' }]);
  });

  test('outputs of runs this window did not start are ignored', () => {
    const c = createConsoleStore();
    c.getState().output({
      runId: 'other',
      kernelId: 'k1',
      output: { type: 'stream', name: 'stdout', text: 'x' },
    });
    assert.deepEqual(c.getState().early, {});
  });

  test('stream chunks of the same stream merge; different streams do not', () => {
    const a = mergeOutput([], { type: 'stream', name: 'stdout', text: 'a' });
    const b = mergeOutput(a, { type: 'stream', name: 'stdout', text: 'b' });
    const c = mergeOutput(b, { type: 'stream', name: 'stderr', text: 'c' });
    assert.deepEqual(
      c.map((o) => (o.type === 'stream' ? o.text : '')),
      ['ab', 'c'],
    );
  });
});

describe('format helpers', () => {
  test('relative times and durations read naturally', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    assert.equal(relativeTime('2026-01-01T12:00:00Z', now), 'just now');
    assert.equal(relativeTime('2026-01-01T11:59:30Z', now), '30 s ago');
    assert.equal(relativeTime('2026-01-01T11:55:00Z', now), '5 min ago');
    assert.equal(relativeTime('2026-01-01T09:00:00Z', now), '3 h ago');
    assert.equal(duration(8_000), '8 s');
    assert.equal(duration(245_000), '4 min 05 s');
    assert.equal(stripAnsi('\u001b[0;31mError\u001b[0m'), 'Error');
  });
});

/** A host API whose events the test pushes by hand. */
function fakeHost(kernels: KernelSummary[]) {
  const listeners = new Map<HostEventName, Set<(p: unknown) => void>>();
  const calls: string[] = [];
  const api: Record<string, unknown> = {};
  for (const m of HOST_METHOD_NAMES)
    api[m] = async () => {
      calls.push(m);
      switch (m) {
        case 'listClusters':
          return [
            {
              id: 'local',
              name: 'This computer',
              kind: 'local',
              active: true,
              builtIn: true,
              url: null,
              health: { status: 'ok', message: '', checkedAt: null },
              kernelCount: 0,
            },
          ];
        case 'listKernels':
          return kernels;
        case 'listEnvironments':
          return { clusterId: 'local', environments: [], problems: [], error: null };
        case 'getLog':
          return [];
        default:
          return null;
      }
    };
  api.on = (e: HostEventName, l: (p: unknown) => void) => {
    if (!listeners.has(e)) listeners.set(e, new Set());
    listeners.get(e)!.add(l);
    return () => listeners.get(e)!.delete(l);
  };
  const push = <E extends HostEventName>(e: E, p: HostEvents[E]) => {
    for (const l of listeners.get(e) ?? []) l(p);
  };
  const conn: HostConnection = {
    api: api as unknown as HostApi,
    state: 'open' as ConnectionState,
    onState: () => () => undefined,
    close: () => undefined,
  };
  return { conn, push, calls };
}

describe('model wiring', () => {
  test('stores are replicas: pushed kernel events update them without any polling', async () => {
    const host = fakeHost([kernel('a')]);
    const m = createModel(host.conn, { clockMs: 60_000 });
    // The first load: wait until the replicas hold what the host answered.
    await new Promise<void>((resolve) => {
      const loaded = () => m.clusters.getState().clusters.length > 0 && m.kernels.getState().order.length > 0;
      if (loaded()) return resolve();
      const offs = [m.clusters.subscribe(check), m.kernels.subscribe(check)];
      function check(): void {
        if (!loaded()) return;
        for (const off of offs) off();
        resolve();
      }
    });
    assert.equal(m.clusters.getState().clusters[0].name, 'This computer');
    assert.deepEqual(m.kernels.getState().order, ['a']);
    const before = host.calls.length;
    host.push('kernel-updated', kernel('a', 'busy'));
    host.push('kernel-added', kernel('b'));
    host.push('kernel-removed', { id: 'a' });
    assert.deepEqual(
      kernelList(m.kernels.getState()).map((k) => [k.id, k.state]),
      [['b', 'idle']],
    );
    assert.equal(m.console.getState().kernelId, 'b', 'a new kernel becomes the console target');
    // Only the environment list of a new cluster may be fetched; no list polling happened.
    assert.ok(host.calls.slice(before).every((c) => c === 'listEnvironments'));
    m.dispose();
  });
});
