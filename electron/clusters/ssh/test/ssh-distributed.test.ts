// Gateway Provisioners kernelspecs (provisioner `distributed-provisioner`) on an SSH cluster, against a real sshd
// and a test-only launcher (scripts/testing/gp_launch_ipykernel.py) that works as GP's launch_ipykernel.py (§2): it takes
// --kernel-id/--port-range/--response-address/--public-key, holds six ports at once, writes a connection file,
// sends the payload version 1 (AES-128-ECB, the AES key wrapped with RSA PKCS#1 v1.5, pycryptodome) from a
// forked listener that then serves the comm port ({"signum": n}, {"shutdown": 1}), and runs ipykernel in its
// own process. The response address it is given must be a port of the host's sshd (a reverse forward), not
// anything on this computer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GP_STYLE_LAUNCHER, gpLauncherArgv } from '../../../../scripts/testing/gp-kernelspec';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig, SshEnvironment } from '../../kinds/ssh/config';
import type { SshCluster } from '../ssh-cluster';
import { PYTHON, tempDir, waitFor } from '../../test/helpers';
import { descendsFrom, pidsMentioning, processAlive, socketHolders } from './procfs';
import { SshTestBed, interruptSleep, run, skipWithoutSshd, sshClusterConfig } from './ssh-test-kit';

const hasCrypto = spawnSync(PYTHON, ['-c', 'import Cryptodome'], { stdio: 'ignore' }).status === 0;
const skip =
  skipWithoutSshd ||
  (hasCrypto ? false : `${PYTHON} lacks Cryptodome (apt-get install python3-pycryptodome)`);

describe('Gateway Provisioners kernelspecs (distributed-provisioner) on an SSH cluster', { skip }, () => {
  let sshd: TestSshd;
  let launcher: string;
  const bed = new SshTestBed();

  before(async () => {
    sshd = await startSshd();
    launcher = join(tempDir('gwd-gp-launcher-'), 'launch_ipykernel.py');
    copyFileSync(GP_STYLE_LAUNCHER, launcher);
  });

  after(async () => {
    await bed.stop();
    await sshd?.stop();
  });

  const cluster = (env: SshEnvironment, over: Partial<SshClusterConfig> = {}): SshCluster =>
    bed.cluster(sshClusterConfig(sshd, { id: 'gp', name: 'GP hosts', environments: [env], ...over }));

  // As `jupyter ssh-spec install` writes it (reference §3.3), with this test's launcher.
  const gpEnvironment = (): SshEnvironment => ({
    name: 'ssh_python',
    displayName: 'Python SSH',
    language: 'python',
    argv: gpLauncherArgv(PYTHON, launcher),
  });

  test('start, execute, interrupt a sleep, restart, shut down: nothing left on the host', async () => {
    const c = cluster(gpEnvironment());
    const listed = (await c.listKernelSpecs()).specs.find((s) => s.name === 'ssh_python');
    assert.equal(listed?.spec.metadata?.kernel_provisioner?.provisioner_name, 'distributed-provisioner');

    const kernelId = randomUUID();
    const k = await bed.start(c, { kernelId, specName: 'ssh_python', env: { KERNEL_USERNAME: 'student' } });
    const out = await run(
      k,
      'import os; print(os.environ["KERNEL_ID"], os.environ["KERNEL_USERNAME"], os.environ["PORT_RANGE"], os.getpid())',
    );
    const [kid, user, range, pid] = out.trim().split(/\s+/);
    assert.deepEqual([kid, user, range], [kernelId, 'student', '0..0']);
    const info = k.getProvisionerInfo();
    assert.equal(info.provisioner, 'distributed-provisioner');
    assert.equal(Number(pid), info.details.pid, 'the kernel the payload named runs the code');

    // The launcher called back to a loopback port of the host's sshd (the reverse forward), nothing of ours.
    const said = /response address 127\.0\.0\.1:(\d+)/.exec(await k.outputTail());
    assert.ok(said, 'the launcher printed its response address');
    const holders = socketHolders(Number(said[1]), 'listening-on');
    assert.ok(
      holders.length > 0 && holders.every((p) => descendsFrom(p, sshd.pid)),
      `holders ${holders.join()}`,
    );

    assert.equal(await interruptSleep(k), 'KeyboardInterrupt');
    assert.match(await k.outputTail(), /comm request \{"signum": 2\}/);

    await k.restart();
    const pid2 = Number((await run(k, 'import os; print(os.getpid())')).trim());
    assert.notEqual(pid2, Number(pid));
    await waitFor('the first launcher to exit', () => !processAlive(Number(pid)), 15_000);

    await k.shutdown();
    await waitFor(
      'no process of the kernel on the host',
      () => pidsMentioning(kernelId).length === 0,
      15_000,
    );
    const files = ['log', 'pid'].map((x) =>
      join(os.homedir(), `.cache/gateway-desktop/gp-kernel-${kernelId}.${x}`),
    );
    await waitFor('the launcher log and pid file removed', () => !files.some((f) => existsSync(f)), 5000);
    await waitFor('the SSH link closed with its last kernel', () => c.openLinks().length === 0, 5000);
  });

  test('a launcher that never reports: the launch times out and nothing of it is left', async () => {
    const c = cluster(
      {
        name: 'ssh_silent',
        displayName: 'Silent',
        language: 'python',
        argv: [PYTHON, '-c', 'import time; time.sleep(120)', '{kernel_id}', '{response_address}'],
      },
      { launchTimeoutSec: 6 },
    );
    const kernelId = randomUUID();
    await assert.rejects(c.startKernel({ kernelId, specName: 'ssh_silent', env: {} }), /within 6 s/);
    await waitFor('no process of the launch left', () => pidsMentioning(kernelId).length === 0, 15_000);
    const dir = join(os.homedir(), '.cache/gateway-desktop');
    for (const f of [`gp-kernel-${kernelId}.log`, `gp-kernel-${kernelId}.pid`])
      assert.ok(!existsSync(join(dir, f)), `${f} removed`);
  });

  test('a launcher that dies before reporting fails the start at once with its output', async () => {
    const c = cluster(
      {
        name: 'ssh_broken',
        displayName: 'Broken',
        language: 'python',
        argv: [
          PYTHON,
          '-c',
          'import sys; print("no Spark here", file=sys.stderr); sys.exit(4)',
          '{response_address}',
        ],
      },
      { launchTimeoutSec: 300 },
    );
    const kernelId = randomUUID();
    const t0 = Date.now();
    await assert.rejects(c.startKernel({ kernelId, specName: 'ssh_broken', env: {} }), (err: Error) => {
      assert.match(err.message, /exit code 4/);
      assert.match(err.message, /no Spark here/);
      return true;
    });
    assert.ok(Date.now() - t0 < 100_000, 'not left to the launch timeout');
  });
});
