// The remote launcher (gd_launcher.py) run directly on this computer, as sshd would run it: what happens to a
// kernel when nobody reads the launcher's report (the app cancelled the launch or its deadline passed and the
// SSH channel closed before the kernel was up). Such a kernel could never be reached or stopped by the app.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  launchCommandArgs,
  launcherPath,
  parseReport,
  stdinLine,
  stopCommandArgs,
} from '../launcher-protocol';

const PYTHON = '/usr/bin/python3';
const SLEEPER = [PYTHON, '-c', 'import time; time.sleep(120)', '{connection_file}'];

/** Live (not zombie) pids whose command line names the kernel's connection file. */
function kernelPids(kernelId: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.includes(`kernel-${kernelId}.json`) && !cmd.includes('gd_launcher') && state !== 'Z')
        out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(
  args: string[],
  stdin: string,
  opts: { closeStdout?: boolean } = {},
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
  let stdout = '';
  if (opts.closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout })));
}

describe('gd_launcher.py on this computer', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'gwd-launcher-'));
  const launched: string[] = [];
  const launchArgs = (kernelId: string): string[] => {
    launched.push(kernelId);
    return launchCommandArgs({
      python: PYTHON,
      launcherFile: launcherPath(),
      kernelId,
      stateDir,
      leaseSeconds: 0, // never stops by itself: only what the test checks may stop it
      argv: SLEEPER,
    });
  };

  after(async () => {
    for (const id of launched) {
      await run(
        stopCommandArgs({ python: PYTHON, launcherFile: launcherPath(), kernelId: id, stateDir }),
        '',
      );
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('a report that is read: the kernel runs until stop, then nothing is left', async () => {
    const kernelId = randomUUID();
    const key = randomUUID();
    const res = await run(launchArgs(kernelId), stdinLine(key, {}));
    assert.equal(res.code, 0, res.stdout);
    const report = parseReport(res.stdout, key, kernelId);
    assert.deepEqual(kernelPids(kernelId), [report.pid]);
    const stop = await run(
      stopCommandArgs({ python: PYTHON, launcherFile: launcherPath(), kernelId, stateDir }),
      '',
    );
    assert.match(stop.stdout, /"was_running":true/);
    await until('the kernel to exit', () => kernelPids(kernelId).length === 0, 15_000);
  });

  test('a report nobody reads (the SSH channel closed): the launcher stops the kernel it started', async () => {
    const kernelId = randomUUID();
    const res = await run(launchArgs(kernelId), stdinLine(randomUUID(), {}), { closeStdout: true });
    assert.equal(res.code, 1, 'the launch did not reach anyone');
    await until('the unreachable kernel to be stopped', () => kernelPids(kernelId).length === 0, 15_000);
    assert.equal(existsSync(join(stateDir, `kernel-${kernelId}.state.json`)), false, 'its state is gone');
    assert.equal(existsSync(join(stateDir, `kernel-${kernelId}.json`)), false, 'its key file is gone');
  });
  test("run (a container's main process): reports on stdout, stays, and takes its kernel along on SIGTERM", async () => {
    const kernelId = randomUUID();
    const key = randomUUID();
    launched.push(kernelId);
    // The request from a file, as a Swarm secret delivers it.
    const requestFile = join(stateDir, `request-${kernelId}`);
    writeFileSync(requestFile, stdinLine(key, { KERNEL_USERNAME: 'student' }), { mode: 0o600 });
    const args = launchCommandArgs({
      python: PYTHON,
      launcherFile: launcherPath(),
      kernelId,
      stateDir,
      argv: SLEEPER,
    });
    args[2] = 'run';
    args.splice(args.indexOf('--'), 0, '--request-file', requestFile);
    const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    const reported = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        if (stdout.includes('\n')) resolve();
      }),
    );
    await reported;
    const report = parseReport(stdout, key, kernelId);
    assert.deepEqual(kernelPids(kernelId), [report.pid]);
    assert.equal(child.exitCode, null, 'the launcher stays in the foreground with its kernel');
    child.kill('SIGTERM'); // what `docker stop` sends a container's main process
    await once(child, 'exit');
    assert.deepEqual(kernelPids(kernelId), [], 'the kernel went with it');
  });
  test("run: the kernel's output also reaches the launcher's stderr (a container's log), and an early death its report", async () => {
    const chatty = [
      PYTHON,
      '-c',
      'import sys, time; print("kernel says hi", file=sys.stderr, flush=True); time.sleep(120)',
      '{connection_file}',
    ];
    const kernelId = randomUUID();
    launched.push(kernelId);
    const args = launchCommandArgs({
      python: PYTHON,
      launcherFile: launcherPath(),
      kernelId,
      stateDir,
      argv: chatty,
    });
    args[2] = 'run';
    const child = spawn(args[0]!, args.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(stdinLine(randomUUID(), {}));
    let stderr = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
        if (stderr.includes('kernel says hi')) resolve();
      }),
    );
    child.kill('SIGTERM');
    await once(child, 'exit');

    const dying = [
      PYTHON,
      '-c',
      'import sys; print("no GPU here", file=sys.stderr); sys.exit(3)',
      '{connection_file}',
    ];
    const id2 = randomUUID();
    launched.push(id2);
    const args2 = launchCommandArgs({
      python: PYTHON,
      launcherFile: launcherPath(),
      kernelId: id2,
      stateDir,
      argv: dying,
    });
    args2[2] = 'run';
    const res = await run(args2, stdinLine(randomUUID(), {}));
    assert.equal(res.code, 1);
    assert.throws(() => parseReport(res.stdout, 'k', id2), /no GPU here/);
  });
});
