// The preload contract: window.gatewayDesktop has exactly the contract's methods plus `on`, each method
// invokes its own channel, events reach subscribers, errors keep their code and field errors. Checked on
// the source factory and on the built, sandbox-ready bundle (dist/electron/preload.cjs) with a stub electron.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import {
  ENCODED_ERROR_PREFIX,
  HOST_EVENT_NAMES,
  HOST_METHOD_NAMES,
  IPC_EVENT_CHANNEL,
  PRELOAD_GLOBAL,
  PRELOAD_KEYS,
  ipcMethodChannel,
} from '../contract';
import { createPreloadApi, type IpcRendererLike } from '../preload-api';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function fakeIpc(reply: (channel: string, args: unknown[]) => unknown) {
  const calls: { channel: string; args: unknown[] }[] = [];
  const handlers = new Map<string, (e: unknown, m: unknown) => void>();
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      calls.push({ channel, args });
      return reply(channel, args);
    },
    on: (channel, l) => handlers.set(channel, l),
  };
  return { ipc, calls, handlers };
}

describe('preload contract', () => {
  test('method and event names are unique and channels are namespaced', () => {
    assert.equal(new Set(HOST_METHOD_NAMES).size, HOST_METHOD_NAMES.length);
    assert.equal(new Set(HOST_EVENT_NAMES).size, HOST_EVENT_NAMES.length);
    for (const m of HOST_METHOD_NAMES) assert.match(ipcMethodChannel(m), /^host:call:[a-zA-Z]+$/);
  });

  test('exposes exactly the contract methods plus `on`', () => {
    const { ipc } = fakeIpc(() => ({ ok: true, value: null }));
    const api = createPreloadApi(ipc);
    assert.deepEqual(Object.keys(api).sort(), [...PRELOAD_KEYS].sort());
    for (const k of Object.keys(api))
      assert.equal(typeof (api as unknown as Record<string, unknown>)[k], 'function');
  });

  test('each method invokes its own channel with its arguments and unwraps the value', async () => {
    const { ipc, calls } = fakeIpc((channel) => ({ ok: true, value: channel }));
    const api = createPreloadApi(ipc) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const m of HOST_METHOD_NAMES) {
      const v = await api[m]('a', 1);
      assert.equal(v, ipcMethodChannel(m));
      assert.deepEqual(calls.at(-1), { channel: ipcMethodChannel(m), args: ['a', 1] });
    }
  });

  test('errors keep code and field errors through the message (contextBridge drops custom fields)', async () => {
    const { ipc } = fakeIpc(() => ({
      ok: false,
      error: { code: 'invalid-input', message: 'bad', fieldErrors: { url: 'not a URL' } },
    }));
    const api = createPreloadApi(ipc);
    await assert.rejects(api.addCluster({ name: 'x', kind: 'gateway' }), (err: Error) => {
      assert.ok(err.message.startsWith(ENCODED_ERROR_PREFIX));
      const data = JSON.parse(err.message.slice(ENCODED_ERROR_PREFIX.length)) as {
        fieldErrors: { url: string };
      };
      assert.equal(data.fieldErrors.url, 'not a URL');
      return true;
    });
  });

  test('events pushed on the event channel reach `on` subscribers; unknown events are refused', () => {
    const { ipc, handlers } = fakeIpc(() => ({ ok: true, value: null }));
    const api = createPreloadApi(ipc);
    const got: unknown[] = [];
    const off = api.on('kernel-removed', (p) => got.push(p));
    const push = handlers.get(IPC_EVENT_CHANNEL);
    assert.ok(push);
    push({}, { t: 'event', event: 'kernel-removed', payload: { id: 'k1' } });
    push({}, { t: 'event', event: 'not-an-event', payload: 1 });
    off();
    push({}, { t: 'event', event: 'kernel-removed', payload: { id: 'k2' } });
    assert.deepEqual(got, [{ id: 'k1' }]);
    assert.throws(() => api.on('nope' as 'log', () => undefined));
  });

  test('the built preload bundle exposes exactly the contract keys in a sandbox-like context', () => {
    const b = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'build.mjs'), '--electron', '--if-needed', '--quiet'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    assert.equal(b.status, 0, b.stderr);
    const code = readFileSync(join(root, 'dist', 'electron', 'preload.cjs'), 'utf8');
    const exposed: Record<string, unknown> = {};
    const required: string[] = [];
    const electronStub = {
      contextBridge: {
        exposeInMainWorld: (name: string, api: unknown) => {
          exposed[name] = api;
        },
      },
      ipcRenderer: { invoke: async () => ({ ok: true, value: 1 }), on: () => undefined },
    };
    const module = { exports: {} };
    runInNewContext(code, {
      module,
      exports: module.exports,
      __filename: 'preload.cjs',
      __dirname: '.',
      require: (id: string) => {
        required.push(id);
        if (id === 'electron') return electronStub;
        throw new Error(`a sandboxed preload cannot require ${id}`);
      },
    });
    assert.deepEqual(Object.keys(exposed), [PRELOAD_GLOBAL]);
    assert.deepEqual(Object.keys(exposed[PRELOAD_GLOBAL] as object).sort(), [...PRELOAD_KEYS].sort());
    assert.deepEqual([...new Set(required)], ['electron']);
  });
});
