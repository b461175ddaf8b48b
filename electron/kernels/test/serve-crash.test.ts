// `serve` killed with SIGKILL: its kernels must not outlive it, even below a child subreaper (desktop Linux's
// `systemd --user`, where an orphaned kernel's parent never becomes pid 1), and no connection file with an
// HMAC key may stay behind once the next serve has started on the same data dir; kernels left running on
// purpose keep theirs, and so do files other programs put in the runtime dir.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { processesMatching, waitFor } from '../../gateway/test/helpers';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SUBREAPER = path.join(import.meta.dirname, 'fixtures', 'subreaper.py');
const TOKEN = 'serve-crash-token-123';
const children: ChildProcess[] = [];
const kernelIds = new Set<string>();
const temps: string[] = [];

interface Serve {
  url: string;
  /** serve's own pid (below the subreaper wrapper when there is one). */
  pid: number;
  err: () => string;
  exit: Promise<number | string>;
}

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** serve on `dataDir` with its temp dir (hence its runtime dir) in `tmp`; below a subreaper if asked. */
async function serve(dataDir: string, tmp: string, opts: { subreaper?: boolean; args?: string[] } = {}) {
  const argv = ['--import', 'tsx', 'electron/serve.ts', '--data-dir', dataDir, '--token', TOKEN];
  const cmd = opts.subreaper
    ? ['/usr/bin/python3', SUBREAPER, process.execPath, ...argv]
    : [process.execPath, ...argv];
  const child = spawn(cmd[0], [...cmd.slice(1), ...(opts.args ?? [])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: tmp, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | string>((r) =>
    child.once('exit', (code, sig) => r(code ?? sig ?? 'unknown')),
  );
  const url = await waitFor(
    () => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0],
    60_000,
    `serve to be ready: ${err}`,
  );
  const pid = opts.subreaper ? Number(/subreaper: child pid (\d+)/.exec(err)?.[1]) : (child.pid as number);
  return { url, pid, err: () => err, exit } satisfies Serve;
}

async function startKernel(s: Serve): Promise<string> {
  const res = await fetch(new URL('/api/kernels', s.url), {
    method: 'POST',
    headers: { Authorization: `token ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'python3' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  kernelIds.add(id);
  return id;
}

/** Running (not zombie) processes among `pids`. */
function running(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    } catch {
      return false;
    }
  });
}

/** The kernel files (connection files and logs) in serve's runtime dir below `tmp`. */
function runtimeFiles(tmp: string): string[] {
  const dir = path.join(tmp, `gateway-desktop-${process.getuid?.() ?? 'user'}`);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** The process groups (= kernel pids, each leads its own) of the kernels with these ids. */
function kernelGroups(ids: string[]): number[] {
  return ids
    .flatMap((id) => processesMatching(id))
    .map((pid) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    });
}

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const id of kernelIds) {
    for (const pid of processesMatching(id)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('serve killed with SIGKILL', { timeout: 240_000, skip: process.platform !== 'linux' }, () => {
  test('below a child subreaper, no kernel outlives serve by more than 10 s', async () => {
    const tmp = tempDir('gd-crash-tmp-');
    const s = await serve(tempDir('gd-crash-data-'), tmp, { subreaper: true });
    assert.ok(s.pid > 0, s.err());
    const ids = [await startKernel(s), await startKernel(s)];
    const pids = ids.flatMap((id) => processesMatching(id));
    assert.ok(pids.length >= 2, 'both kernels run');
    process.kill(s.pid, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => running(pids).length === 0, 10_000, `no kernel process left (${pids.join(' ')})`);
    assert.ok(Date.now() - killedAt <= 10_000);
    assert.deepEqual(runtimeFiles(tmp), [], 'their connection files went with them');
    assert.equal(await s.exit, 0, 'the subreaper exits once nothing is left to reap');
  });

  test('after a crash of serve and its kernels, the next serve sweeps their files, and an exit leaves none', async () => {
    const tmp = tempDir('gd-crash-tmp-');
    const dataDir = tempDir('gd-crash-data-');
    // A kernel left running on purpose by another serve in the same runtime dir: its file must stay.
    const keptDir = tempDir('gd-crash-kept-');
    const keeper = await serve(keptDir, tmp, { args: ['--leave-kernels-running'] });
    const kept = await startKernel(keeper);
    process.kill(keeper.pid, 'SIGTERM');
    assert.equal(await keeper.exit, 0);
    const keptFiles = runtimeFiles(tmp);
    assert.equal(keptFiles.length, 2, 'the kept kernel has its connection file and its log');
    const foreign = path.join(tmp, `gateway-desktop-${process.getuid?.() ?? 'user'}`, 'notes.json');
    writeFileSync(foreign, '{}');

    const s1 = await serve(dataDir, tmp);
    const ids = [await startKernel(s1), await startKernel(s1)];
    const groups = kernelGroups(ids);
    const pids = ids.flatMap((id) => processesMatching(id));
    // Everything dies at once (power cut, OOM kill of the session): no watchdog gets to clean up.
    process.kill(s1.pid, 'SIGKILL');
    for (const g of groups) process.kill(-g, 'SIGKILL');
    await waitFor(() => running(pids).length === 0, 10_000, 'the kernels to be gone');
    const left = runtimeFiles(tmp).filter((f) => ids.some((id) => f.includes(id)));
    assert.equal(left.length, 2, `their connection files are left behind: ${left.join(' ')}`);

    const s2 = await serve(dataDir, tmp);
    assert.deepEqual(
      runtimeFiles(tmp),
      [...keptFiles, 'notes.json'].sort(),
      'the dead kernels files are swept at start; the running one and a foreign file stay',
    );
    assert.ok(processesMatching(kept).length > 0, 'the kernel left running still runs');
    await startKernel(s2);
    await startKernel(s2);
    // A kernel of another app that died while s2 ran (that app and kernel are gone): swept at s2's exit.
    const gone = spawnSync('/bin/true').pid as number;
    writeFileSync(path.join(path.dirname(foreign), `kernel-gone.owner-${gone}.json`), '{}');
    process.kill(s2.pid, 'SIGTERM');
    assert.equal(await s2.exit, 0);
    assert.deepEqual(
      runtimeFiles(tmp),
      [...keptFiles, 'notes.json'].sort(),
      'a normal exit leaves none, and sweeps what died meanwhile',
    );

    // The kernel left running: re-attached by the next serve on its data dir, and shut down with it.
    const s3 = await serve(keptDir, tmp);
    process.kill(s3.pid, 'SIGTERM');
    assert.equal(await s3.exit, 0);
    await waitFor(() => processesMatching(kept).length === 0, 15_000, 'the kept kernel to be shut down');
    assert.deepEqual(runtimeFiles(tmp), ['notes.json']);
  });
});
