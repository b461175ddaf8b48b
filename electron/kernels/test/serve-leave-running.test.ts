// `npm run serve -- --leave-kernels-running`: SIGTERM leaves the kernel running (exit 0) and the next serve on
// the same data dir re-attaches it under the same id; without the flag SIGTERM shuts it down as before.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseServeArgs } from '../../serve';
import { processesMatching, waitFor } from '../../gateway/test/helpers';
import { LEFT_RUNNING_FILE, type LeftRunningState } from '../left-running';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TOKEN = 'serve-leave-token-123';
const children: ChildProcess[] = [];
const pgids = new Set<number>();

interface Serve {
  url: string;
  err: () => string;
  exit: Promise<number | null>;
  child: ChildProcess;
}

async function serve(dataDir: string, extra: string[] = []): Promise<Serve> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'electron/serve.ts', '--data-dir', dataDir, '--token', TOKEN, ...extra],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await waitFor(
    () => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0],
    60_000,
    `serve to be ready: ${err}`,
  );
  return { url, err: () => err, exit, child };
}

const api = (s: Serve, p: string, init: RequestInit = {}): Promise<Response> =>
  fetch(new URL(p, s.url), { ...init, headers: { Authorization: `token ${TOKEN}`, ...init.headers } });

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const g of pgids) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('serve --leave-kernels-running', { timeout: 180_000 }, () => {
  test('parses the flag; off by default', () => {
    assert.equal(parseServeArgs([]).leaveKernelsRunning, false);
    assert.equal(parseServeArgs(['--leave-kernels-running', '--port', '0']).leaveKernelsRunning, true);
  });

  test('SIGTERM leaves the kernel running; the next serve re-attaches it; plain SIGTERM shuts it down', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gd-serve-leave-'));
    try {
      const s1 = await serve(dataDir, ['--leave-kernels-running']);
      const res = await api(s1, '/api/kernels', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'python3' }),
      });
      assert.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      s1.child.kill('SIGTERM');
      assert.equal(await s1.exit, 0);
      assert.match(s1.err(), /leaving kernels running/);
      const state = JSON.parse(
        readFileSync(path.join(dataDir, LEFT_RUNNING_FILE), 'utf8'),
      ) as LeftRunningState;
      assert.deepEqual(
        state.kernels.map((k) => k.id),
        [id],
      );
      const rec = state.kernels[0].details;
      if (rec.kind === 'local') pgids.add(rec.pgid as number);
      await new Promise((r) => setTimeout(r, 1500)); // past ipykernel's parent poll
      assert.ok(processesMatching(id).length > 0, 'the kernel outlives serve');

      const s2 = await serve(dataDir);
      const list = (await (await api(s2, '/api/kernels')).json()) as { id: string }[];
      assert.deepEqual(
        list.map((k) => k.id),
        [id],
      );
      assert.match(s2.err(), /Re-attached 1 kernel left running at last quit/);
      s2.child.kill('SIGTERM');
      assert.equal(await s2.exit, 0);
      await waitFor(() => processesMatching(id).length === 0, 15_000, 'the kernel to be shut down');
      assert.equal(existsSync(path.join(dataDir, LEFT_RUNNING_FILE)), false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
