// "Open JupyterLab" state machine over stand-ins for discovery and the launcher (the real launcher is
// exercised end to end by e2e/gateway-ui.test.ts with Debian's Jupyter Server as the lab command).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LabServer } from '../../lab/launcher';
import { createLabBackend } from '../lab-backend';
import type { LabStatus } from '../models';

function fakeServer(): LabServer & { end(code: number | null): void } {
  let resolve: (c: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((r) => (resolve = r));
  let running = true;
  return {
    url: 'http://127.0.0.1:9999/lab?token=t',
    baseUrl: 'http://127.0.0.1:9999/',
    token: 't',
    port: 9999,
    pid: 1,
    logFile: '/nonexistent.log',
    argv: ['jupyter-lab'],
    get running() {
      return running;
    },
    exited,
    stop: async () => {
      running = false;
      resolve(null);
    },
    end: (code) => {
      running = false;
      resolve(code);
    },
  };
}

describe('lab backend', () => {
  test('no installation: not-installed, pointing to the setting, with install steps for the platform', async () => {
    for (const [platform, own] of [
      ['linux', /apt install/],
      ['darwin', /brew install jupyterlab/],
      ['win32', /py -m pip install jupyterlab/],
    ] as const) {
      const lab = createLabBackend({
        proxyUrl: 'http://p/',
        token: 'x',
        dataDir: '/tmp',
        find: () => [],
        platform,
      });
      const s = await lab.open({});
      assert.equal(s.state, 'not-installed');
      assert.match(s.message, /"JupyterLab command" in Settings/);
      assert.match(s.installHint ?? '', /conda install -c conda-forge jupyterlab/);
      assert.match(s.installHint ?? '', own);
      assert.doesNotMatch(s.installHint ?? '', /npm run|--command|No JupyterLab was found/);
    }
  });

  test('starting -> running (with the proxy as gateway) -> exited with an error code -> failed', async () => {
    const server = fakeServer();
    const seen: LabStatus['state'][] = [];
    const launchedWith: { gatewayUrl?: string; gatewayToken?: string } = {};
    const lab = createLabBackend({
      proxyUrl: 'http://127.0.0.1:1234/',
      token: 'proxy-token',
      dataDir: '/tmp',
      find: () => [
        { kind: 'path', label: 'jupyter-lab on PATH', command: ['jupyter-lab'], executable: 'jupyter-lab' },
      ],
      launch: async (o) => {
        Object.assign(launchedWith, { gatewayUrl: o.gatewayUrl, gatewayToken: o.gatewayToken });
        return server;
      },
    });
    lab.onStatus((s) => seen.push(s.state));
    const s = await lab.open({ notebookDir: '/tmp/nb' });
    assert.equal(s.state, 'running');
    assert.equal(s.url, server.url);
    assert.deepEqual(launchedWith, { gatewayUrl: 'http://127.0.0.1:1234/', gatewayToken: 'proxy-token' });
    assert.equal((await lab.open({})).state, 'running', 'a second open reuses the running lab');
    server.end(3);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ['starting', 'running', 'failed']);
    assert.match(lab.status().message, /code 3/);
  });

  test('a launch error is reported with its log', async () => {
    const lab = createLabBackend({
      proxyUrl: 'http://p/',
      token: 'x',
      dataDir: '/tmp',
      find: () => [{ kind: 'user', label: 'your command', command: ['nope'], executable: 'nope' }],
      launch: async () => {
        throw new Error('spawn nope ENOENT');
      },
    });
    const s = await lab.open({});
    assert.equal(s.state, 'failed');
    assert.match(s.message, /ENOENT/);
    await lab.dispose();
  });
});
