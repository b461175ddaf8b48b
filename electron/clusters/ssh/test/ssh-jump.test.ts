// A jump host (ProxyJump, as a university puts a login node in front of its compute nodes): two real sshds on
// 127.0.0.1, the "login node" in front of the "compute node". The proof that the traffic went through the login
// node is in /proc: every TCP connection to the compute node's sshd is held by a process of the login node's
// sshd (its direct-tcpip channel), none by this test process; and the login node's own log shows the forward.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import type { SshCluster } from '../ssh-cluster';
import { tempDir, waitFor } from '../../test/helpers';
import { descendsFrom, socketHolders } from './procfs';
import { SshTestBed, kernelPids, run, skipWithoutSshd as skip, sshClusterConfig } from './ssh-test-kit';

describe('SSH cluster behind a jump host (a second sshd in front of the first)', { skip }, () => {
  let node: TestSshd; // the compute node, reached only through the login node
  let login: TestSshd; // the jump host
  let knownHosts: string;
  let dir: string;
  const bed = new SshTestBed();

  before(async () => {
    node = await startSshd();
    // The same key logs in to both, as with `ssh -J` and an agent; DEBUG1 logs each forward's target.
    login = await startSshd({ alsoAuthorize: [node.clientKey], logLevel: 'DEBUG1' });
    dir = tempDir('gwd-ssh-jump-');
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(
      knownHosts,
      readFileSync(node.knownHostsFile, 'utf8') + readFileSync(login.knownHostsFile, 'utf8'),
    );
  });

  after(async () => {
    await bed.stop();
    await node?.stop();
    await login?.stop();
  });

  // The port comes from each test (a setting, or the ssh config file's alias).
  const cluster = (over: Partial<SshClusterConfig>, sshConfigFile?: string): SshCluster =>
    bed.cluster(
      sshClusterConfig(node, {
        id: 'hpc',
        name: 'HPC',
        port: undefined,
        knownHostsFile: knownHosts,
        ...over,
      }),
      sshConfigFile,
    );

  /** How many forwards to the compute node the login node's sshd has logged. */
  function forwardsLogged(): number {
    const line = `server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port ${node.port}`;
    return readFileSync(login.logPath, 'utf8').split(line).length - 1;
  }

  async function runOn(c: SshCluster): Promise<void> {
    const forwardsBefore = forwardsLogged();
    const k = await bed.start(c);
    assert.equal((await run(k, 'print(6 * 7)')).trim(), '42');

    // While the kernel runs, its SSH connection to the node is a socket of the login node's sshd.
    const holders = socketHolders(node.port, 'established-to');
    assert.ok(holders.length > 0, 'a connection to the compute node is open');
    assert.ok(!holders.includes(process.pid), 'this process has no connection of its own to the node');
    for (const pid of holders)
      assert.ok(descendsFrom(pid, login.pid), `pid ${pid} holds a connection to the node: not the jump's`);
    assert.ok(forwardsLogged() > forwardsBefore, "the login node's log shows a forward to the compute node");

    await k.shutdown();
    await waitFor('the kernel process on the node to exit', () => kernelPids(k.id).length === 0, 15_000);
  }

  test('a kernel starts, runs code and shuts down through the jump host (cluster setting user@host:port)', async () => {
    await runOn(cluster({ port: node.port, jump: `${login.user}@127.0.0.1:${login.port}` }));
  });

  test('ProxyJump from an ssh config file, the jump host itself an alias there', async () => {
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(
      sshConfig,
      [
        'Host gate',
        '  HostName 127.0.0.1',
        `  Port ${login.port}`,
        'Host node01',
        '  HostName 127.0.0.1',
        `  Port ${node.port}`,
        '  ProxyJump gate',
        '',
      ].join('\n'),
    );
    await runOn(cluster({ hosts: ['node01'] }, sshConfig));
  });
});
