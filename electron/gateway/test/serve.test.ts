// The headless `serve` entry, exactly as other issues and the benchmark use it: flags, the ready line,
// SIGTERM/SIGINT shutting every kernel down with exit code 0, bad flags exiting 2.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, processesMatching, rmrf, waitFor } from './helpers';

const ROOT = path.resolve(import.meta.dirname, '../../..');

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

function serve(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/serve.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, err: () => err, exit };
}

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'gd-serve-'));
  dirs.push(d);
  return d;
}

async function exitWithin(
  run: Run,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let t: NodeJS.Timeout | undefined;
  const res = await Promise.race([
    run.exit,
    new Promise<null>((r) => {
      t = setTimeout(() => r(null), ms);
    }),
  ]);
  clearTimeout(t);
  if (!res) throw new Error(`serve did not exit within ${ms} ms\n${run.out()}\n${run.err()}`);
  return res;
}

describe('npm run serve contract', { timeout: 180_000 }, () => {
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmrf(d);
  });

  test('prints the ready line, serves kernels, SIGTERM shuts them down and exits 0', async () => {
    const port = await freePort();
    const dataDir = path.join(tempDir(), 'data');
    const run = serve([
      '--port',
      String(port),
      '--token',
      'serve-token',
      '--data-dir',
      dataDir,
      '--host',
      '127.0.0.1',
    ]);
    await waitFor(() => run.out().includes(`http://127.0.0.1:${port}/`), 60_000, `ready line (${run.err()})`);
    assert.equal(run.out().trim().split('\n').length, 1);
    assert.doesNotMatch(run.out(), /serve-token/); // a token given on the command line is not echoed
    assert.ok(existsSync(dataDir));
    const res = await fetch(`http://127.0.0.1:${port}/api/kernels`, {
      method: 'POST',
      headers: { Authorization: 'token serve-token' },
      body: JSON.stringify({ name: 'python3' }),
    });
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: string };
    assert.ok(processesMatching(id).length > 0);
    run.child.kill('SIGTERM');
    const { code } = await exitWithin(run, 40_000);
    assert.equal(code, 0, run.err());
    assert.deepEqual(processesMatching(id), [], 'kernel left running after SIGTERM');
  });

  test('no flags: free port, generated token printed once, per-user data dir; SIGINT exits 0', async () => {
    const home = tempDir();
    const run = serve([], { XDG_DATA_HOME: path.join(home, 'xdg'), HOME: home });
    await waitFor(
      () => /http:\/\/127\.0\.0\.1:\d+\/.*token: \w+/.test(run.out()),
      60_000,
      `ready line (${run.err()})`,
    );
    const m = /http:\/\/127\.0\.0\.1:(\d+)\/.*token: (\w+)/.exec(run.out());
    assert.ok(m);
    const res = await fetch(`http://127.0.0.1:${m[1]}/api/kernelspecs`, {
      headers: { Authorization: `token ${m[2]}` },
    });
    assert.equal(res.status, 200);
    assert.ok(existsSync(path.join(home, 'xdg', 'gateway-desktop')));
    run.child.kill('SIGINT');
    assert.equal((await exitWithin(run, 40_000)).code, 0);
  });

  for (const [args, pattern] of [
    [['--bogus'], /unknown flag: --bogus/],
    [['--port', 'abc'], /--port must be a number/],
    [['--port'], /--port needs a value/],
    [['--port', '99999'], /--port must be a number/],
    [['--token', '--port', '1'], /--token needs a value/],
    [['stray'], /unexpected argument/],
  ] as const) {
    test(`bad flags ${JSON.stringify(args)} → exit 2 with a message`, async () => {
      const run = serve([...args]);
      const { code } = await exitWithin(run, 30_000);
      assert.equal(code, 2);
      assert.match(run.err(), pattern);
      assert.match(run.err(), /Usage/);
    });
  }

  test('--help prints usage and exits 0', async () => {
    const run = serve(['--help']);
    assert.equal((await exitWithin(run, 30_000)).code, 0);
    assert.match(run.out(), /--data-dir/);
  });
});
