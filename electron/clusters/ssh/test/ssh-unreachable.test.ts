// What a user sees when an SSH host cannot be reached or refuses them: "Test connection" tells DNS, refused,
// timeout and a refused login apart with what to do, and a kernel start fails within the launch timeout with
// the same reason instead of hanging. Everything here stays on this machine: a closed port, a listener that
// accepts TCP but never speaks SSH (what a firewall or a wedged host looks like), a name that cannot resolve.
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { freeTcpPort } from '../../../../scripts/testing/free-port';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import { diagnoseSsh } from '../diagnose-ssh';
import { SshTestBed, noSecrets, skipWithoutSshd, sshClusterConfig } from './ssh-test-kit';

describe('SSH hosts that cannot be reached or refuse the login', { skip: skipWithoutSshd }, () => {
  let sshd: TestSshd;
  let silent: net.Server;
  let silentPort: number;
  const silentSockets = new Set<net.Socket>();
  const bed = new SshTestBed();

  before(async () => {
    sshd = await startSshd();
    // Accepts connections and never answers: no SSH banner ever comes.
    silent = net.createServer((s) => {
      silentSockets.add(s);
      s.on('close', () => silentSockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
  });

  after(async () => {
    await bed.stop();
    for (const s of silentSockets) s.destroy();
    silent?.close();
    await sshd?.stop();
  });

  test('a closed port: "refused", with what to check', async () => {
    const port = await freeTcpPort();
    const d = await diagnoseSsh(sshClusterConfig(sshd, { port }), noSecrets);
    assert.equal(d.code, 'refused', d.detail);
    assert.match(d.hint, /port/);
  });

  test('a name that does not resolve: "dns", pointing at the host name and the VPN', async () => {
    const d = await diagnoseSsh(sshClusterConfig(sshd, { hosts: ['no-such-host.invalid'] }), noSecrets);
    assert.equal(d.code, 'dns', d.detail);
    assert.match(d.hint, /host name/i);
  });

  test('a host that accepts TCP but never speaks SSH: "timeout" within the connection timeout', async () => {
    const t0 = Date.now();
    const d = await diagnoseSsh(sshClusterConfig(sshd, { port: silentPort }), noSecrets, { timeoutMs: 2000 });
    assert.equal(d.code, 'timeout', d.detail);
    assert.ok(Date.now() - t0 < 10_000, `answered after ${Date.now() - t0} ms`);
  });

  test('a key the host does not accept: "auth", naming the user and where the key must be', async () => {
    const d = await diagnoseSsh(sshClusterConfig(sshd, { identityFile: sshd.unauthorizedKey }), noSecrets);
    assert.equal(d.code, 'auth', d.detail);
    assert.match(d.detail, new RegExp(sshd.user));
    assert.match(d.hint, /authorized_keys/);
  });

  test('a kernel start on an unreachable host fails within its launch timeout with the reason, leaving no link', async () => {
    const c = bed.cluster(sshClusterConfig(sshd, { port: silentPort, launchTimeoutSec: 5 }));
    const t0 = Date.now();
    await assert.rejects(bed.start(c, { kernelId: randomUUID() }), (err: Error) => {
      // The step it hung in is the reason: the connection to the host never came up.
      assert.match(err.message, /within 5 s.*Connecting to 127\.0\.0\.1/);
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took < 5000 + 10_000, `failed after ${took} ms, launch timeout 5 s`);
    assert.deepEqual(c.openLinks(), [], 'no SSH connection kept');
    assert.deepEqual(c.hostLoad(), { '127.0.0.1': 0 }, 'the host is free again');
  });

  test('a kernel start on a refused port fails at once with "refused"', async () => {
    const c = bed.cluster(sshClusterConfig(sshd, { port: await freeTcpPort(), launchTimeoutSec: 30 }));
    const t0 = Date.now();
    await assert.rejects(bed.start(c), (err: Error) => {
      assert.match(err.message, /refused/i);
      return true;
    });
    assert.ok(Date.now() - t0 < 15_000, 'not held until the launch timeout');
  });
});
