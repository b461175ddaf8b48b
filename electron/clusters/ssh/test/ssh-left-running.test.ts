// "Leave running" for SSH kernels against a real sshd on 127.0.0.1 and real ipykernel kernels: a released
// kernel keeps running on the host (its launcher's lease lifted), a new SshCluster (the next app start)
// re-attaches it under the same id with its variables, and the failures say what happened: a host that cannot
// be reached leaves the kernel alone and says how to stop it; a kernel killed meanwhile is reported gone.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { KernelManager } from '../../../../provisioners/kernel-manager';
import type { KernelBackend } from '../../../../provisioners/types';
import { sshdAvailable, startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import { SshCluster } from '../ssh-cluster';
import { parseSshKept, type SshKept } from '../ssh-kept';
import { Inbox, PYTHON, executeMsg, freePort, waitFor } from '../../test/helpers';

const skip = sshdAvailable() ? false : 'no /usr/sbin/sshd here (apt-get install openssh-server)';
const noSecrets = { get: (): string | undefined => undefined };

function procAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live pids whose command line contains all of `parts`. */
function pidsWith(...parts: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (parts.every((p) => cmd.includes(p)) && procAlive(Number(name))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The kernel process (its command line names its connection file) and nothing else. */
const kernelPids = (kernelId: string): number[] => pidsWith(`kernel-${kernelId}.json`);
/** The kernel's launcher on the host. */
const launcherPids = (kernelId: string): number[] => pidsWith('gd_launcher', kernelId);

describe('SSH kernels left running and re-attached, over a real sshd', { skip }, () => {
  let sshd: TestSshd;
  const clusters: SshCluster[] = [];
  const kernels: KernelBackend[] = [];
  const started: string[] = [];

  function cluster(over: Partial<SshClusterConfig> = {}): SshCluster {
    const c = new SshCluster(
      {
        id: 'lab',
        name: 'Lab server',
        kind: 'ssh',
        hosts: ['127.0.0.1'],
        user: sshd.user,
        port: sshd.port,
        identityFile: sshd.clientKey,
        useAgent: false,
        knownHostsFile: sshd.knownHostsFile,
        python: PYTHON,
        ...over,
      },
      { secrets: noSecrets, log: () => undefined },
    );
    clusters.push(c);
    return c;
  }

  async function start(c: SshCluster): Promise<KernelManager> {
    const kernelId = randomUUID();
    started.push(kernelId);
    const k = (await c.startKernel({ kernelId, specName: 'python3', env: {} })) as KernelManager;
    kernels.push(k);
    return k;
  }

  async function run(k: KernelBackend, code: string): Promise<string> {
    const inbox = new Inbox();
    const session = randomUUID();
    const port = k.openPort(session, inbox.push);
    try {
      const ex = executeMsg(code, session);
      port.send(ex.msg);
      await inbox.idleFor(ex.msgId, 30_000);
      return inbox.streamText(ex.msgId);
    } finally {
      port.close();
    }
  }

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
    await Promise.allSettled(kernels.map((k) => k.shutdown()));
    await Promise.allSettled(clusters.map((c) => c.dispose()));
    // Launchers of kernels killed by a test linger a minute to answer status: not past the suite.
    for (const id of started)
      for (const pid of [...kernelPids(id), ...launcherPids(id)]) process.kill(pid, 'SIGKILL');
    await sshd?.stop();
  });

  test('left running, the kernel outlives its cluster; a new cluster re-attaches it with its state; shutdown leaves nothing', async () => {
    const first = cluster();
    const k = await start(first);
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
    const back = await second.reattachKernel(k.id, 'python3', details);
    kernels.push(back);
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
    const k = await start(crashed);
    await run(k, 'y = "still here"');
    const details = saved(crashed, k);
    // The app is gone without a word: its sockets, tunnel and SSH connection drop, the lease is not lifted.
    await k.release();
    await crashed.dispose();
    const next = cluster();
    const back = await next.reattachKernel(k.id, 'python3', details);
    kernels.push(back);
    assert.equal((await run(back, 'print(y)')).trim(), 'still here');
    await back.shutdown();
    await waitFor('no kernel process left on the host', () => kernelPids(k.id).length === 0, 15_000);
  });

  test('a kernel killed while left running: re-attach says it is gone and keeps no tunnel or link', async () => {
    const first = cluster();
    const k = await start(first);
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
