// `npm run lab -- --command "/usr/bin/python3 -m jupyter_server"` (Debian's server stands in for JupyterLab):
// starts the proxy in-process (no app running), launches the server with --gateway-url at the proxy, prints
// the URL; code runs through that server and the proxy; SIGINT stops the server and everything the command
// started. Also: reusing a running app's proxy, discovery of installs, the install hint.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { KernelManager, ServerConnection } from '@jupyterlab/services';
import { tempDir, waitFor } from '../../clusters/test/helpers';
import { findLabInstalls, INSTALL_HINT, splitCommand } from '../discover';
import { labArgs } from '../launcher';
import { createAppCore } from '../../app-core';
import { startLabFromCli } from '../../cli/lab-cli';
import { PROXY_FILE } from '../running-app';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const COMMAND = '/usr/bin/python3 -m jupyter_server';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function processesMatching(needle: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((n) => Number.isFinite(n) && n !== process.pid);
}

async function runCode(labUrl: string): Promise<{ out: string; kernelId: string }> {
  const u = new URL(labUrl);
  const token = u.searchParams.get('token') ?? '';
  const settings = ServerConnection.makeSettings({
    baseUrl: `${u.origin}/`,
    wsUrl: `${u.origin.replace(/^http/, 'ws')}/`,
    token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: globalThis.fetch,
    Request: globalThis.Request,
    Headers: globalThis.Headers,
  });
  const m = new KernelManager({ serverSettings: settings });
  await m.ready;
  const k = await m.startNew({ name: 'python3' });
  let out = '';
  const f = k.requestExecute({ code: 'print(6*7)' });
  f.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += (msg.content as { text: string }).text;
  };
  await f.done;
  const kernelId = k.id;
  k.dispose();
  m.dispose();
  return { out, kernelId };
}

describe('npm run lab', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('no app running: starts the proxy, launches the server, code runs through the proxy, SIGINT stops all', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const nb = path.join(dataDir, 'notebooks');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'electron/cli/lab-cli.ts',
        '--command',
        COMMAND,
        '--dir',
        nb,
        '--data-dir',
        dataDir,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await waitFor(
        'the Lab URL',
        () => /JupyterLab is ready: (\S+)/.exec(out)?.[1],
        90_000,
        100,
      );
      assert.match(out, /Started the Gateway Desktop proxy at http:\/\/127\.0\.0\.1:\d+\//);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
      const proxy = JSON.parse(readFileSync(path.join(dataDir, PROXY_FILE), 'utf8')) as {
        url: string;
        token: string;
      };
      const { out: printed, kernelId } = await runCode(url);
      assert.equal(printed, '42\n');
      // The kernel lives behind the proxy (the server is only a gateway client).
      const listed = (await (
        await fetch(new URL('api/kernels', proxy.url), { headers: { Authorization: `token ${proxy.token}` } })
      ).json()) as { id: string }[];
      assert.ok(
        listed.some((k) => k.id === kernelId),
        'the kernel is one of the proxy’s',
      );
      const labPort = Number(new URL(url).port);
      const labPids = processesMatching(`--port=${labPort}`);
      assert.ok(labPids.length >= 1, 'the server runs');

      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000)),
      ]);
      assert.equal(code, 0, `exit code; stderr:\n${err}`);
      assert.match(err, /SIGINT; stopping JupyterLab and the proxy/);
      for (const pid of labPids) assert.equal(alive(pid), false, `server ${pid} stopped`);
      await waitFor('the kernel process to be gone', () => processesMatching(kernelId).length === 0, 15_000);
      assert.equal(existsSync(path.join(dataDir, PROXY_FILE)), false, 'proxy.json removed');
      const logs = path.join(dataDir, 'logs');
      assert.ok(existsSync(logs), 'the server log is kept');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('an app already running for the data dir: its proxy is used', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const core = await createAppCore({ dataDir, clusterStore: true, proxyOptions: { log: () => undefined } });
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), env: process.env };
    try {
      const s = await startLabFromCli(
        ['--command', COMMAND, '--dir', path.join(dataDir, 'nb'), '--data-dir', dataDir],
        io,
      );
      assert.notEqual(typeof s, 'number', lines.join(''));
      if (typeof s === 'number') return;
      try {
        assert.equal(s.core, null);
        assert.match(lines.join(''), /Using the Gateway Desktop proxy already running at/);
        assert.equal(s.proxyUrl, core.proxyUrl);
        const { out } = await runCode(s.lab.url);
        assert.equal(out, '42\n');
        assert.equal(core.registry.list().length, 1, 'the kernel runs in the app');
      } finally {
        await s.stop();
      }
      assert.equal(s.lab.running, false);
    } finally {
      await core.close();
    }
  });

  test('finding installs; the install hint; the command line the launcher builds', () => {
    const home = tempDir();
    dirs.push(home);
    const mk = (p: string): string => {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, '#!/bin/sh\n');
      chmodSync(p, 0o755);
      return p;
    };
    mk(path.join(home, 'miniconda3', 'envs', 'ml', 'bin', 'jupyter-lab'));
    mk(path.join(home, '.virtualenvs', 'course', 'bin', 'jupyter-lab'));
    mk(path.join(home, '.local', 'pipx', 'venvs', 'jupyterlab', 'bin', 'jupyter-lab'));
    const found = findLabInstalls({ env: { PATH: '' }, home, cwd: home, userCommand: 'jupyter notebook' });
    assert.deepEqual(
      found.map((f) => f.kind),
      ['user', 'conda', 'venv', 'pipx'],
    );
    assert.deepEqual(found[0].command, ['jupyter', 'notebook']);
    assert.match(found[1].label, /conda env 'ml'/);
    assert.deepEqual(findLabInstalls({ env: { PATH: '' }, home: path.join(home, 'empty'), cwd: home }), []);
    assert.match(INSTALL_HINT, /pipx install jupyterlab/);
    assert.match(INSTALL_HINT, /conda install -c conda-forge jupyterlab/);
    assert.deepEqual(splitCommand(`python3 -m jupyter_server --x="a b" 'c d'`), [
      'python3',
      '-m',
      'jupyter_server',
      '--x=a b',
      'c d',
    ]);
    const args = labArgs({
      port: 8890,
      token: 'T',
      notebookDir: '/nb',
      gatewayUrl: 'http://127.0.0.1:5555/',
      gatewayToken: 'G',
    });
    for (const a of [
      '--no-browser',
      '--gateway-url=http://127.0.0.1:5555',
      '--GatewayClient.auth_token=G',
      '--ServerApp.token=T',
      '--notebook-dir=/nb',
      '--port=8890',
    ]) {
      assert.ok(args.includes(a), a);
    }
  });
});
