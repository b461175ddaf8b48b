// The runtime-dir sweep: which connection files (HMAC keys) and logs it removes, and which it must keep, with
// real processes as owners and as kernels naming their file on the command line.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  connectionFileName,
  holdRuntimeFile,
  runningCommandLines,
  sweepStaleRuntimeFiles,
} from '../local/runtime-files';
import { pidAlive, waitFor } from './helpers';

const children: ChildProcess[] = [];
let dir: string;

/** A pid that certainly ran and no longer does. */
function deadPid(): number {
  const pid = spawnSync('/bin/true').pid;
  assert.ok(pid && !pidAlive(pid));
  return pid;
}

/** A running process whose command line names `arg` (as a kernel names its connection file). */
async function runningWith(arg: string): Promise<ChildProcess> {
  // `sh -c 'sleep 60; :' ARG` keeps sh (with ARG as its $0) running; its own group, killed as a whole after.
  const child = spawn('/bin/sh', ['-c', 'sleep 60; :', arg], { stdio: 'ignore', detached: true });
  children.push(child);
  await waitFor(() => (child.pid ? pidAlive(child.pid) : false), 5000, 'the process to run');
  return child;
}

async function files(...names: string[]): Promise<void> {
  for (const n of names) await writeFile(path.join(dir, n), '{"key": "secret"}', { mode: 0o600 });
}

async function age(name: string): Promise<void> {
  const old = new Date(Date.now() - 3600_000);
  await utimes(path.join(dir, name), old, old);
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gd-sweep-'));
});

after(async () => {
  for (const c of children) {
    try {
      process.kill(-(c.pid as number), 'SIGKILL');
    } catch {
      // gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

describe('sweepStaleRuntimeFiles', { timeout: 60_000 }, () => {
  for (const via of ['proc', 'ps'] as const) {
    test(`removes only files of kernels that no longer run (command lines from ${via})`, async () => {
      await rm(dir, { recursive: true, force: true });
      dir = await mkdtemp(path.join(tmpdir(), 'gd-sweep-'));
      const dead = deadPid();
      const otherApp = await runningWith('other-app');
      const deadOwnerJson = connectionFileName('k-dead', dead);
      const deadOwnerLog = deadOwnerJson.replace(/\.json$/, '.log');
      const orphanLog = connectionFileName('k-orphan-log', dead).replace(/\.json$/, '.log');
      const leftRunning = connectionFileName('k-left-running', dead); // its owner quit, the kernel runs
      const launching = connectionFileName('k-launching', otherApp.pid as number); // young, live owner
      const ours = connectionFileName('k-ours'); // this process wrote it and no longer holds it
      const oursHeld = connectionFileName('k-ours-held'); // this process is launching that kernel
      const legacyYoung = 'kernel-legacy-young.json';
      const legacyOld = 'kernel-legacy-old.json';
      const foreign = ['kernel-abc.txt', 'other-app.json', 'jupyter-kernel-1.json', 'runtime.log'];
      await files(deadOwnerJson, deadOwnerLog, orphanLog, leftRunning, launching, ours, oursHeld);
      holdRuntimeFile(path.join(dir, oursHeld));
      await files(legacyYoung, legacyOld, ...foreign);
      for (const n of [oursHeld, legacyOld, ...foreign]) await age(n);
      await runningWith(path.join(dir, leftRunning));

      const removed = await sweepStaleRuntimeFiles(dir, { via });
      assert.deepEqual(
        removed.map((f) => path.basename(f)).sort(),
        [deadOwnerJson, deadOwnerLog, orphanLog, ours, legacyOld].sort(),
      );
      assert.deepEqual(
        (await readdir(dir)).sort(),
        [leftRunning, launching, oursHeld, legacyYoung, ...foreign].sort(),
      );
    });
  }

  test('reads the command lines of running processes from /proc and from ps alike', async () => {
    const marker = `gd-sweep-marker-${process.pid}`;
    await runningWith(marker);
    for (const via of ['proc', 'ps'] as const) {
      const lines = await runningCommandLines(via);
      assert.ok(
        lines?.some((l) => l.includes(marker)),
        `${via} lists the marker process`,
      );
    }
  });

  test('a missing directory sweeps nothing', async () => {
    assert.deepEqual(await sweepStaleRuntimeFiles(path.join(dir, 'nope')), []);
  });
});
