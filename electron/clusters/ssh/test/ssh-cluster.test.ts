// SSH clusters against a real sshd on 127.0.0.1 and real ipykernel kernels started by our launcher over it:
// what a data scientist sees when a kernel runs "on the lab machine" (here the lab machine is this one, reached
// only through SSH: the kernel's ports are loopback ports on the host, carried over the connection).
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { KernelEvent } from '../../../../provisioners/types';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import type { SshCluster } from '../ssh-cluster';
import { diagnoseSsh } from '../diagnose-ssh';
import { PYTHON, tempDir, waitFor } from '../../test/helpers';
import { processAlive } from './procfs';
import {
  SshTestBed,
  interruptSleep,
  kernelPids,
  noSecrets,
  run,
  skipWithoutSshd as skip,
  sshClusterConfig,
} from './ssh-test-kit';

describe('SSH cluster: kernels on a host reached over a real sshd', { skip }, () => {
  let sshd: TestSshd;
  let dir: string;
  const bed = new SshTestBed();
  const config = (over: Partial<SshClusterConfig> = {}): SshClusterConfig => sshClusterConfig(sshd, over);
  const cluster = (over: Partial<SshClusterConfig> = {}, sshConfigFile?: string): SshCluster =>
    bed.cluster(config(over), sshConfigFile);

  before(async () => {
    sshd = await startSshd();
    dir = tempDir('gwd-ssh-');
  });

  after(async () => {
    await bed.stop();
    await sshd?.stop();
  });

  test('a kernel starts on the host, runs code there, reports its progress, and is gone after shutdown', async () => {
    const c = cluster();
    const phases: string[] = [];
    const k = await bed.start(c, {
      env: { KERNEL_USERNAME: 'student', PATH: '/evil' },
      onProgress: (p) => phases.push(p.phase),
    });
    const out = await run(
      k,
      'import os; print(os.environ["KERNEL_ID"], os.environ["KERNEL_USERNAME"], os.getpid())',
    );
    const [kid, user, pid] = out.trim().split(/\s+/);
    assert.equal(kid, k.id);
    assert.equal(user, 'student');
    assert.ok(phases.includes('connecting') && phases.includes('spawning'), `phases: ${phases.join(', ')}`);
    const info = k.getProvisionerInfo();
    assert.equal(info.details.host, '127.0.0.1');
    assert.equal(
      Number(pid),
      info.details.pid,
      'the kernel the launcher reported is the one running the code',
    );
    // The app dials local tunnel ports, not the kernel's own.
    assert.equal(c.openLinks().length, 1);
    await k.shutdown();
    await waitFor('the remote kernel process to exit', () => !processAlive(Number(pid)), 15_000);
    assert.deepEqual(kernelPids(k.id), []);
  });

  test('interrupt stops a running cell and the kernel carries on', async () => {
    const k = await bed.start(cluster());
    assert.equal(await interruptSleep(k), 'KeyboardInterrupt');
    assert.equal((await run(k, 'print(6*7)')).trim(), '42');
  });

  test('a dropped SSH connection shows as disconnected, not dead; it reconnects and the kernel still answers', async () => {
    const k = await bed.start(cluster());
    const events: KernelEvent['type'][] = [];
    k.onEvent((e) => events.push(e.type));
    await run(k, 'x = 41');
    await sshd.dropSessions();
    await waitFor('disconnected', () => events.includes('disconnected'), 15_000);
    await waitFor('reconnected', () => events.includes('reconnected'), 30_000);
    assert.equal((await run(k, 'print(x + 1)')).trim(), '42', 'the same kernel, its state kept');
    assert.ok(!events.includes('dead'));
  });

  test('restart keeps the kernel id and host, runs a fresh process', async () => {
    const k = await bed.start(cluster());
    const before = Number((await run(k, 'import os; print(os.getpid())')).trim());
    await k.restart();
    const afterPid = Number((await run(k, 'import os; print(os.getpid())')).trim());
    assert.notEqual(afterPid, before);
    await waitFor('the old kernel process to exit', () => !processAlive(before), 15_000);
  });

  test('a kernel that dies at start: the error carries its last output', async () => {
    const c = cluster({
      environments: [
        {
          name: 'broken',
          displayName: 'Broken',
          language: 'python',
          argv: [
            PYTHON,
            '-c',
            'import sys; print("no CUDA device found", file=sys.stderr); sys.exit(3)',
            '{connection_file}',
          ],
        },
      ],
    });
    await assert.rejects(bed.start(c, { specName: 'broken' }), (err: Error) => {
      assert.match(err.message, /no CUDA device found/);
      return true;
    });
  });

  test('a Python that is not on the host is named in the error', async () => {
    await assert.rejects(bed.start(cluster({ python: '/opt/nowhere/bin/python3' })), (err: Error) => {
      assert.match(err.message, /nowhere/);
      return true;
    });
  });

  test('a host key that changed is refused before anything runs, and says so', async () => {
    const c = cluster({ knownHostsFile: sshd.wrongKnownHostsFile });
    await assert.rejects(bed.start(c), (err: Error) => {
      assert.match(err.message, /CHANGED/);
      return true;
    });
    assert.deepEqual(c.openLinks(), []);
  });

  test('a launch that times out leaves no kernel process on the host', async () => {
    const c = cluster({
      launchTimeoutSec: 4,
      environments: [
        {
          name: 'silent',
          displayName: 'Never answers',
          language: 'python',
          argv: [PYTHON, '-c', 'import time; time.sleep(120)', '{connection_file}'],
        },
      ],
    });
    const kernelId = randomUUID();
    await assert.rejects(c.startKernel({ kernelId, specName: 'silent', env: {} }));
    await waitFor('no process of the kernel left', () => kernelPids(kernelId).length === 0, 15_000);
  });

  test('two hosts (an alias from an ssh config file) share the load round-robin', async () => {
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(sshConfig, `Host labbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n`);
    const c = cluster({ hosts: ['127.0.0.1', 'labbox'] }, sshConfig);
    const a = await bed.start(c);
    const b = await bed.start(c);
    assert.deepEqual([a.getProvisionerInfo().details.host, b.getProvisionerInfo().details.host].sort(), [
      '127.0.0.1',
      'labbox',
    ]);
    assert.deepEqual(c.hostLoad(), { '127.0.0.1': 1, labbox: 1 });
    await a.shutdown();
    await b.shutdown();
    assert.deepEqual(c.hostLoad(), { '127.0.0.1': 0, labbox: 0 });
  });

  test('Test connection: versions when all is well; the fingerprint for an unknown host; no ipykernel', async () => {
    const ok = await diagnoseSsh(config(), noSecrets);
    assert.equal(ok.code, 'ok', ok.detail);
    assert.match(ok.detail, /ipykernel \d+\.\d+/);

    const unknown = await diagnoseSsh(config({ knownHostsFile: sshd.emptyKnownHostsFile }), noSecrets);
    assert.equal(unknown.code, 'host-key-unknown');
    assert.ok(unknown.detail.includes(sshd.hostKeyFingerprint), unknown.detail);

    const bare = join(dir, 'bare-python');
    writeFileSync(bare, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`);
    chmodSync(bare, 0o755);
    const noIpk = await diagnoseSsh(config({ python: bare }), noSecrets);
    assert.equal(noIpk.code, 'no-ipykernel', noIpk.detail);
    assert.match(noIpk.hint, /pip install/);
  });
});
