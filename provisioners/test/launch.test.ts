// Launch failures a user would hit: missing program, a kernel that dies at start, one that never answers,
// and a launch cancelled by the user. Each must fail clearly and leave no process or connection file behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKernel } from '../start';
import { connectionFileName, LocalProvisioner, sweepStaleRuntimeFiles } from '../local/local-provisioner';
import type { KernelSpec, LaunchProgress } from '../types';
import { KERNEL_ENV, newKernelId, pidAlive, psGroup, pythonSpec, waitFor } from './helpers';

let base: KernelSpec;
let runDir: string;

function withArgv(argv: string[]): KernelSpec {
  return { ...base, name: 'testkernel', spec: { ...base.spec, argv } };
}

async function connectionFiles(): Promise<string[]> {
  return (await readdir(runDir)).filter((f) => f.startsWith('kernel-'));
}

before(async () => {
  base = await pythonSpec();
  runDir = await mkdtemp(path.join(tmpdir(), 'gd-launch-'));
});

after(async () => {
  await rm(runDir, { recursive: true, force: true });
});

describe('launch failures', { timeout: 180_000 }, () => {
  test('a missing program is named in a clear error, quickly, with nothing started', async () => {
    const kernelId = newKernelId();
    const t0 = Date.now();
    await assert.rejects(
      startKernel({
        kernelId,
        spec: withArgv(['/usr/bin/nope', '-f', '{connection_file}']),
        provisioner: new LocalProvisioner(kernelId, { runtimeDir: runDir }),
        launchTimeoutMs: 60_000,
      }),
      (err: Error) => {
        assert.match(
          err.message,
          /Kernel "testkernel" cannot start: program "\/usr\/bin\/nope" was not found/,
        );
        assert.ok(err.message.includes(path.join(base.resourceDir, 'kernel.json')), err.message);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(await connectionFiles(), []);
  });

  test('a bare program name is searched on PATH', async () => {
    const kernelId = newKernelId();
    await assert.rejects(
      startKernel({
        kernelId,
        spec: withArgv(['no-such-kernel-program-xyz', '{connection_file}']),
        provisioner: new LocalProvisioner(kernelId, { runtimeDir: runDir }),
      }),
      /program "no-such-kernel-program-xyz" was not found on PATH/,
    );
    assert.deepEqual(await connectionFiles(), []);
  });

  test('a port taken by another process before the kernel binds it: launched again on new ports', async () => {
    // First launch: a separate process takes the shell port from the connection file, then the real
    // ipykernel starts and fails to bind it ("Address already in use"). The manager must retry with new
    // ports; the second launch runs the kernel normally.
    const marker = path.join(runDir, `taken-${newKernelId()}`);
    const holderPidFile = `${marker}.pid`;
    const script = [
      'import json, os, subprocess, sys, time',
      'marker, conn = sys.argv[1], sys.argv[2]',
      'if not os.path.exists(marker):',
      '    open(marker, "w").close()',
      '    port = json.load(open(conn))["shell_port"]',
      '    code = "import socket,time; s=socket.socket(); s.bind((\'127.0.0.1\', %d)); s.listen(); time.sleep(60)" % port',
      '    holder = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)',
      '    open(marker + ".pid", "w").write(str(holder.pid))',
      '    time.sleep(0.5)',
      'os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", conn])',
    ].join('\n');
    const kernelId = newKernelId();
    const logs: string[] = [];
    const killHolder = async (): Promise<number> => {
      const holder = Number(await readFile(holderPidFile, 'utf8').catch(() => '0'));
      if (holder > 0 && pidAlive(holder)) process.kill(-holder, 'SIGKILL');
      return holder;
    };
    let km: Awaited<ReturnType<typeof startKernel>> | undefined;
    try {
      km = await startKernel({
        kernelId,
        spec: withArgv([base.spec.argv[0], '-c', script, marker, '{connection_file}']),
        provisioner: new LocalProvisioner(kernelId, { runtimeDir: runDir }),
        env: KERNEL_ENV,
        launchTimeoutMs: 60_000,
        log: (m) => logs.push(m),
      });
      const holder = Number(await readFile(holderPidFile, 'utf8'));
      assert.ok(pidAlive(holder), 'the port was really held while the first launch ran');
      assert.equal(km.executionState, 'idle');
      assert.ok(
        logs.some((l) => /launching again with new ports/.test(l)),
        `the retry is logged: ${logs.join(' | ')}`,
      );
    } finally {
      await killHolder();
      await km?.shutdown();
    }
  });

  test('a kernel that exits during launch is reported with its exit code and stderr', async () => {
    const kernelId = newKernelId();
    const prov = new LocalProvisioner(kernelId, { runtimeDir: runDir });
    const t0 = Date.now();
    await assert.rejects(
      startKernel({
        kernelId,
        spec: withArgv([
          '/usr/bin/python3',
          '-c',
          'import sys; sys.stderr.write("boom: no module named kernelxyz\\n"); sys.exit(3)',
        ]),
        provisioner: prov,
        launchTimeoutMs: 60_000,
      }),
      (err: Error) => {
        assert.match(err.message, /exited during launch \(exit code 3\)/);
        assert.match(err.message, /boom: no module named kernelxyz/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 20_000, 'reported long before the launch timeout');
    assert.deepEqual(await connectionFiles(), []);
  });

  test('a kernel that never answers hits the launch timeout and is killed', async () => {
    const kernelId = newKernelId();
    const prov = new LocalProvisioner(kernelId, { runtimeDir: runDir });
    let pid = 0;
    await assert.rejects(
      startKernel({
        kernelId,
        spec: withArgv([
          '/usr/bin/python3',
          '-c',
          'import time; print("sleeping", flush=True); time.sleep(120)',
        ]),
        provisioner: prov,
        launchTimeoutMs: 2500,
        onProgress: (p) => {
          if (p.phase === 'connecting') pid = prov.pid ?? 0;
        },
      }),
      (err: Error) => {
        assert.match(err.message, /did not become ready within 3 s/);
        assert.match(err.message, /sleeping/);
        return true;
      },
    );
    assert.ok(pid > 0);
    assert.equal(pidAlive(pid), false);
    assert.deepEqual(psGroup(pid), []);
    assert.deepEqual(await connectionFiles(), []);
  });

  test('cancelling a launch with an AbortSignal leaves nothing behind', async () => {
    const kernelId = newKernelId();
    const prov = new LocalProvisioner(kernelId, { runtimeDir: runDir });
    const ac = new AbortController();
    const phases: LaunchProgress[] = [];
    let pid = 0;
    const p = startKernel({
      kernelId,
      spec: base,
      env: KERNEL_ENV,
      provisioner: prov,
      signal: ac.signal,
      onProgress: (x) => {
        phases.push(x);
        if (x.phase === 'kernel-info') {
          pid = prov.pid ?? 0;
          ac.abort();
        }
      },
    });
    await assert.rejects(p, (err: Error) => err.name === 'AbortError');
    assert.ok(pid > 0, 'the kernel had been spawned before the abort');
    await waitFor(() => !pidAlive(pid), 5000, 'the kernel to be gone');
    assert.deepEqual(psGroup(pid), []);
    assert.deepEqual(await connectionFiles(), []);
  });

  test('an already-aborted signal starts nothing', async () => {
    const kernelId = newKernelId();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      startKernel({
        kernelId,
        spec: base,
        provisioner: new LocalProvisioner(kernelId, { runtimeDir: runDir }),
        signal: ac.signal,
      }),
      (err: Error) => err.name === 'AbortError',
    );
    assert.deepEqual(await connectionFiles(), []);
  });

  test('stale connection files of kernels that no longer run are swept; live ones are kept', async () => {
    const kernelId = newKernelId();
    const km = await startKernel({
      kernelId,
      spec: base,
      env: KERNEL_ENV,
      provisioner: new LocalProvisioner(kernelId, { runtimeDir: runDir }),
    });
    try {
      const stale = path.join(runDir, 'kernel-stale.json');
      await writeFile(stale, '{}');
      const old = new Date(Date.now() - 3600_000);
      await utimes(stale, old, old);
      const live = path.join(runDir, connectionFileName(kernelId));
      await utimes(live, old, old);
      const removed = await sweepStaleRuntimeFiles(runDir);
      assert.deepEqual(removed, [stale]);
      assert.deepEqual(await connectionFiles(), [connectionFileName(kernelId)]);
    } finally {
      await km.shutdown();
    }
    assert.deepEqual(await connectionFiles(), []);
  });
});
