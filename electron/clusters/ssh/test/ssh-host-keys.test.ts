// Host keys the user confirms, against a real sshd: which key is not trusted yet, trusting exactly the
// fingerprint the user saw (appended in OpenSSH's format, other lines untouched, ~/.ssh created 0700 and the
// file 0600), a changed key never trusted, and a start on an unknown host saying where to confirm the key.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import { fetchHostKey } from '../../../../provisioners/ssh/host-key-trust';
import { fingerprintOf } from '../../../../provisioners/ssh/known-hosts';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import { diagnoseSsh } from '../diagnose-ssh';
import { trustSshHostKey, untrustedSshHostKey } from '../host-keys';
import { SshCluster } from '../ssh-cluster';
import { noSecrets, skipWithoutSshd as skip, sshClusterConfig } from './ssh-test-kit';

describe('SSH host keys confirmed by the user (real sshd)', { skip, timeout: 120_000 }, () => {
  let sshd: TestSshd;
  let dir: string;

  before(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'gd-hostkeys-'));
  });
  after(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // No known_hosts setting unless a test names one: ~/.ssh/known_hosts.
  const config = (over: Partial<SshClusterConfig> = {}): SshClusterConfig =>
    sshClusterConfig(sshd, { knownHostsFile: undefined, ...over });
  const key = (fingerprint: string) => ({ host: '127.0.0.1', port: sshd.port, fingerprint });

  test('the key is fetched without logging in; known, unknown and changed are told apart', async () => {
    assert.equal(fingerprintOf(await fetchHostKey('127.0.0.1', sshd.port)), sshd.hostKeyFingerprint);
    assert.equal(await untrustedSshHostKey(config({ knownHostsFile: sshd.knownHostsFile }), noSecrets), null);
    const unknown = await untrustedSshHostKey(
      config({ knownHostsFile: sshd.emptyKnownHostsFile }),
      noSecrets,
    );
    assert.deepEqual(unknown, {
      host: '127.0.0.1',
      port: sshd.port,
      fingerprint: sshd.hostKeyFingerprint,
      keyType: 'ssh-ed25519',
      status: 'unknown',
    });
    const changed = await untrustedSshHostKey(
      config({ knownHostsFile: sshd.wrongKnownHostsFile }),
      noSecrets,
    );
    assert.equal(changed?.status, 'changed');
    assert.equal(changed?.fingerprint, sshd.hostKeyFingerprint);
    assert.equal(changed?.known?.length, 1);
    assert.notEqual(changed?.known?.[0], sshd.hostKeyFingerprint);
  });

  test('Test connection reports the unknown key as structured data; trusting it appends one line', async () => {
    const file = join(dir, 'known_hosts');
    const others =
      '# mine\ngithub.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    writeFileSync(file, others, { mode: 0o644 }); // no newline at the end: the new line must not join it
    const cfg = config({ knownHostsFile: file });
    const d = await diagnoseSsh(cfg, noSecrets);
    assert.equal(d.code, 'host-key-unknown');
    assert.deepEqual(d.hostKey, {
      host: '127.0.0.1',
      port: sshd.port,
      fingerprint: sshd.hostKeyFingerprint,
      keyType: 'ssh-ed25519',
      status: 'unknown',
    });

    await assert.rejects(
      trustSshHostKey(cfg, noSecrets, key('SHA256:not-what-the-host-presents')),
      /not SHA256:not-what-the-host-presents that you confirmed; nothing was trusted/,
    );
    assert.equal(
      readFileSync(file, 'utf8'),
      others,
      'a fingerprint the host does not present is not trusted',
    );
    await assert.rejects(
      trustSshHostKey(cfg, noSecrets, { ...key(sshd.hostKeyFingerprint), port: 2 }),
      /not a host/,
    );

    assert.equal(await trustSshHostKey(cfg, noSecrets, key(d.hostKey!.fingerprint)), file);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.deepEqual(lines.slice(0, 2), others.split('\n'), "others' lines are untouched");
    assert.match(lines[2]!, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 [A-Za-z0-9+/=]+$`));
    assert.equal(lines[3], '');
    assert.equal(
      await trustSshHostKey(cfg, noSecrets, key(sshd.hostKeyFingerprint)),
      null,
      'already trusted',
    );
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 4, 'not appended twice');
    assert.equal((await diagnoseSsh(cfg, noSecrets)).code, 'ok');
  });

  test('without a known_hosts setting the key goes to ~/.ssh/known_hosts, created 0700 / 0600', async () => {
    const home = join(dir, 'home');
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const cfg = config();
      const k = await untrustedSshHostKey(cfg, noSecrets);
      assert.equal(k?.status, 'unknown');
      const file = await trustSshHostKey(cfg, noSecrets, key(k!.fingerprint));
      assert.equal(file, join(home, '.ssh', 'known_hosts'));
      assert.equal(statSync(join(home, '.ssh')).mode & 0o777, 0o700);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(await untrustedSshHostKey(cfg, noSecrets), null);
    } finally {
      process.env.HOME = saved;
    }
  });

  test('a changed key is never trusted, even when the user names the fingerprint the host presents', async () => {
    const file = join(dir, 'known_hosts.changed');
    const before = readFileSync(sshd.wrongKnownHostsFile, 'utf8');
    writeFileSync(file, before);
    await assert.rejects(
      trustSshHostKey(config({ knownHostsFile: file }), noSecrets, key(sshd.hostKeyFingerprint)),
      /has CHANGED/,
    );
    assert.equal(readFileSync(file, 'utf8'), before);
  });

  test('starting a kernel on a host whose key is unknown says to confirm it with Test connection', async () => {
    const c = new SshCluster(config({ knownHostsFile: sshd.emptyKnownHostsFile }), {
      secrets: noSecrets,
      log: () => undefined,
    });
    try {
      await assert.rejects(
        c.startKernel({ kernelId: randomUUID(), specName: 'python3', env: {} }),
        (err: Error) => {
          assert.match(err.message, /not in known_hosts/);
          assert.match(err.message, /Test connection/);
          assert.ok(err.message.includes(sshd.hostKeyFingerprint), err.message);
          return true;
        },
      );
    } finally {
      await c.dispose();
    }
  });
});
