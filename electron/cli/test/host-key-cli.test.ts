// `npm run cluster -- add ssh` and `test` meeting a host key that known_hosts does not vouch for, against a real
// sshd: without a terminal the command stops and names --accept-new-host-key (nothing is added); the flag
// trusts the key (in ~/.ssh/known_hosts, created 0600); at a terminal the user is asked "Trust this host?";
// a changed key is refused with both fingerprints.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sshdAvailable, startSshd, type TestSshd } from '../../../scripts/testing/sshd';
import { runClusterCli } from '../cluster-cli';
import { cli } from './cli-process';

const skip = sshdAvailable() ? false : 'no /usr/sbin/sshd here (apt-get install openssh-server)';

/** The CLI in this process, "at a terminal" answering `answer` to every question. */
async function atTerminal(args: string[], answer: string) {
  let out = '';
  let err = '';
  const asked: string[] = [];
  const code = await runClusterCli(args, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: {},
    isTTY: true,
    ask: async (q) => {
      asked.push(q);
      return answer;
    },
  });
  return { code, out, err, asked };
}

describe('npm run cluster: SSH host keys', { skip, timeout: 240_000 }, () => {
  let sshd: TestSshd;
  let dir: string;
  let home: string;
  let dataDir: string;

  before(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'gd-cli-hostkeys-'));
    home = join(dir, 'home');
    dataDir = join(dir, 'data');
  });
  after(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sshFlags = (): string[] => [
    '--host',
    '127.0.0.1',
    '--port',
    String(sshd.port),
    '--user',
    sshd.user,
    '--identity',
    sshd.clientKey,
    '--no-agent',
    '--python',
    '/usr/bin/python3',
    '--data-dir',
    dataDir,
  ];
  const saved = (): string[] =>
    (
      JSON.parse(readFileSync(join(dataDir, 'clusters.json'), 'utf8')) as { clusters: { name: string }[] }
    ).clusters.map((c) => c.name);

  test('add without a terminal stops at an unknown key, names the flag, adds nothing', async () => {
    const r = await cli(['add', 'ssh', 'Lab', ...sshFlags()], { HOME: home });
    assert.equal(r.code, 1, r.err);
    assert.ok(r.err.includes(sshd.hostKeyFingerprint), r.err);
    assert.match(r.err, /authenticity of host '\[127\.0\.0\.1\]:\d+' can't be established/);
    assert.match(r.err, /--accept-new-host-key/);
    assert.match(r.err, /"Lab" was not added/);
    assert.ok(!saved().includes('Lab'));
  });

  test('--accept-new-host-key trusts it in ~/.ssh/known_hosts (0600); test then passes', async () => {
    const r = await cli(['add', 'ssh', 'Lab', ...sshFlags(), '--accept-new-host-key'], { HOME: home });
    assert.equal(r.code, 0, r.err);
    const file = join(home, '.ssh', 'known_hosts');
    assert.match(
      readFileSync(file, 'utf8'),
      new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 \\S+\\n$`),
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, '.ssh')).mode & 0o777, 0o700);
    assert.ok(saved().includes('Lab'));
    const t = await cli(['test', 'Lab', '--data-dir', dataDir], { HOME: home });
    assert.equal(t.code, 0, t.out + t.err);
    assert.match(t.out, /^OK/);
  });

  test('at a terminal: "Trust this host? [y/N]"; no keeps it out, yes trusts it', async () => {
    const kh = join(dir, 'known_hosts.tty');
    writeFileSync(kh, '');
    const no = await atTerminal(['add', 'ssh', 'Tty', ...sshFlags(), '--known-hosts', kh], 'n');
    assert.equal(no.code, 1);
    assert.deepEqual(no.asked, ['Trust this host? [y/N] ']);
    assert.ok(no.err.includes(sshd.hostKeyFingerprint), no.err);
    assert.equal(readFileSync(kh, 'utf8'), '');
    assert.ok(!saved().includes('Tty'));

    const yes = await atTerminal(['add', 'ssh', 'Tty', ...sshFlags(), '--known-hosts', kh], 'y');
    assert.equal(yes.code, 0, yes.err);
    assert.match(yes.err, new RegExp(`Added \\[127\\.0\\.0\\.1\\]:${sshd.port} \\(SHA256:`));
    assert.match(readFileSync(kh, 'utf8'), /ssh-ed25519/);
    assert.ok(saved().includes('Tty'));
  });

  test('test NAME: an unknown key is asked about (or names the flag); a changed one is refused', async () => {
    const kh = join(dir, 'known_hosts.tty');
    writeFileSync(kh, ''); // the saved cluster's key is unknown again
    const r = await cli(['test', 'Tty', '--data-dir', dataDir], { HOME: home });
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(sshd.hostKeyFingerprint), r.err);
    assert.match(r.err, /--accept-new-host-key/);
    assert.match(r.out, /FAILED/);

    const yes = await atTerminal(['test', 'Tty', '--data-dir', dataDir], 'yes');
    assert.equal(yes.code, 0, yes.out + yes.err);
    assert.equal(yes.asked.length, 1);
    assert.match(yes.out, /^OK/);

    writeFileSync(kh, readFileSync(sshd.wrongKnownHostsFile, 'utf8'));
    const changed = await atTerminal(['test', 'Tty', '--data-dir', dataDir, '--accept-new-host-key'], 'y');
    assert.equal(changed.code, 1);
    assert.deepEqual(changed.asked, [], 'a changed key is never offered');
    assert.match(changed.out, /CHANGED/);
    assert.ok(changed.out.includes(sshd.hostKeyFingerprint), changed.out);
    assert.equal(readFileSync(kh, 'utf8'), readFileSync(sshd.wrongKnownHostsFile, 'utf8'));
  });
});
