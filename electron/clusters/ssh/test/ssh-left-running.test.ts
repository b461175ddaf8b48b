// "Leave running" for SSH kernels against a real sshd on 127.0.0.1 and real ipykernel kernels: a released
// kernel keeps running on the host (its launcher's lease lifted), a new SshCluster (the next app start)
// re-attaches it under the same id with its variables, and the failures say what happened: a host that cannot
// be reached leaves the kernel alone and says how to stop it; a kernel killed meanwhile is reported gone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KernelBackend } from '../../../../provisioners/types';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import type { SshCluster } from '../ssh-cluster';
import { parseSshKept, type SshKept } from '../ssh-kept';
import { freePort, waitFor } from '../../test/helpers';
import { pidsMentioning } from './procfs';
import { SshTestBed, kernelPids, run, skipWithoutSshd as skip, sshClusterConfig } from './ssh-test-kit';

/** The kernel's launcher on the host. */
const launcherPids = (kernelId: string): number[] => pidsMentioning('gd_launcher', kernelId);

describe('SSH kernels left running and re-attached, over a real sshd', { skip }, () => {
  let sshd: TestSshd;
  const bed = new SshTestBed();
  const cluster = (over: Partial<SshClusterConfig> = {}): SshCluster =>
    bed.cluster(sshClusterConfig(sshd, over));

  /** keepInfo as the state file holds it: through JSON and the ssh kind's kept.parse. */
  function saved(c: SshCluster, k: KernelBackend): SshKept {
    const info = c.keepInfo(k);
    assert.ok(info, 'an SSH kernel can be kept');
    const parsed = parseSshKept(JSON.parse(JSON.stringify(info)) as SshKept);
    assert.ok(parsed, 'what keepInfo saves reads back');
    return parsed;
  }

  before(async () => {
    sshd = await startSshd();
  });

  after(async () => {
    await bed.stop();
    // Launchers of kernels killed by a test linger a minute to answer status: not past the suite.
    for (const id of bed.kernelIds)
      for (const pid of [...kernelPids(id), ...launcherPids(id)]) process.kill(pid, 'SIGKILL');
    await sshd?.stop();
  });

  test('left running, the kernel outlives its cluster; a new cluster re-attaches it with its state; shutdown leaves nothing', async () => {
    const first = cluster();
    const k = await bed.start(first);
    await run(k, 'x = 41');
    const details = saved(first, k);
    assert.equal(details.kind, 'ssh');
    assert.equal(details.host, '127.0.0.1');
    const pids = kernelPids(k.id);
    assert.equal(pids.length, 1);

    await first.releaseKernel(k);
    assert.deepEqual(first.hostLoad(), { '127.0.0.1': 0 });
    assert.deepEqual(first.openLinks(), [], 'the tunnel and the lease on the link are closed');
    await first.dispose();
    assert.deepEqual(kernelPids(k.id), pids, 'the kernel still runs on the host');

    // The host cannot be reached (nothing listens on that port): nothing is stopped, and the error says how to.
    const away = cluster({ port: await freePort() });
    await assert.rejects(away.reattachKernel(k.id, 'python3', details), (err: Error) => {
      assert.match(err.message, /may still run on 127\.0\.0\.1/);
      assert.match(err.message, new RegExp(`stop --kernel-id ${k.id}`));
      return true;
    });
    assert.deepEqual(kernelPids(k.id), pids, 'an unreachable host does not cost the kernel');

    const second = cluster();
    const back = bed.keep(await second.reattachKernel(k.id, 'python3', details));
    assert.equal(back.id, k.id);
    assert.equal((await run(back, 'print(x + 1)')).trim(), '42', 'the same kernel, its variables kept');
    assert.deepEqual(second.hostLoad(), { '127.0.0.1': 1 });
    assert.equal(second.keepInfo(back)?.pid, details.pid, 'listed in the journal again');

    await back.shutdown();
    await waitFor('no kernel process left on the host', () => kernelPids(k.id).length === 0, 15_000);
    await waitFor('its launcher gone too', () => launcherPids(k.id).length === 0, 15_000);
    assert.equal(second.keepInfo(back), null);
  });

  test('after a crash (never released), the journal entry re-attaches while the lease runs', async () => {
    const crashed = cluster();
    const k = await bed.start(crashed);
    await run(k, 'y = "still here"');
    const details = saved(crashed, k);
    // The app is gone without a word: its sockets, tunnel and SSH connection drop, the lease is not lifted.
    await k.release();
    await crashed.dispose();
    const next = cluster();
    const back = bed.keep(await next.reattachKernel(k.id, 'python3', details));
    assert.equal((await run(back, 'print(y)')).trim(), 'still here');
    await back.shutdown();
    await waitFor('no kernel process left on the host', () => kernelPids(k.id).length === 0, 15_000);
  });

  test('a kernel killed while left running: re-attach says it is gone and keeps no tunnel or link', async () => {
    const first = cluster();
    const k = await bed.start(first);
    const details = saved(first, k);
    await first.releaseKernel(k);
    await first.dispose();
    for (const pid of kernelPids(k.id)) process.kill(pid, 'SIGKILL');
    await waitFor('the kernel process to die', () => kernelPids(k.id).length === 0, 10_000);

    const second = cluster();
    await assert.rejects(second.reattachKernel(k.id, 'python3', details), (err: Error) => {
      assert.match(err.message, new RegExp(`Kernel ${k.id} is no longer running`));
      assert.doesNotMatch(err.message, /may still run/);
      return true;
    });
    assert.deepEqual(second.hostLoad(), { '127.0.0.1': 0 });
    assert.deepEqual(second.openLinks(), []);
  });

  test("saved state that is not an SSH kernel's is refused by kept.parse", () => {
    assert.equal(parseSshKept({ kind: 'ssh', host: '127.0.0.1' }), null);
    assert.equal(parseSshKept({ kind: 'local', pid: 1 }), null);
  });
});
