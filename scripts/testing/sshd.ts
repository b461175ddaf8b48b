// A private OpenSSH daemon for tests (../shared/TESTBED.md, "SSH"): its own host key, config and authorized keys
// in a temp dir, listening on 127.0.0.1 only; ~/.ssh is never touched. Logging in as the current user with
// the fixture's client keys works.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './jupyter-server';

const SSHD = '/usr/sbin/sshd';

export function sshdAvailable(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  return existsSync(SSHD);
}

export interface TestSshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** An unencrypted ed25519 key that may log in. */
  clientKey: string;
  /** An encrypted key that may log in. */
  clientKeyWithPassphrase: { path: string; passphrase: string };
  /** A key that may not log in. */
  unauthorizedKey: string;
  /** "SHA256:…" of the daemon's host key. */
  hostKeyFingerprint: string;
  /** Lists the daemon's host key for [127.0.0.1]:port. */
  knownHostsFile: string;
  emptyKnownHostsFile: string;
  /** Lists another key for [127.0.0.1]:port (a "changed" host key). */
  wrongKnownHostsFile: string;
  logPath: string;
  /** The listening daemon's pid (its per-connection processes are its children). */
  pid: number;
  /** Kill the daemon's per-connection processes: live connections drop, the daemon keeps listening. */
  dropSessions(): Promise<void>;
  stop(): Promise<void>;
}

function keygen(file: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', file], { stdio: 'ignore' });
}

function fingerprintOfPub(pubFile: string): string {
  const blob = Buffer.from(readFileSync(pubFile, 'utf8').trim().split(/\s+/)[1]!, 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

async function listening(port: number, proc: ChildProcess, log: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (proc.exitCode !== null || Date.now() > end) {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      throw new Error(`sshd did not start on port ${port}: ${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SshdOptions {
  /** Private keys (their `.pub` next to them) that may log in besides the daemon's own client keys. */
  alsoAuthorize?: string[];
  /** sshd's LogLevel (default VERBOSE; DEBUG1 logs each forwarded channel's target). */
  logLevel?: string;
  /**
   * Variables every session gets (sshd_config SetEnv), e.g. DOCKER_HOST of a private dockerd, so the
   * `docker system dial-stdio` an ssh:// engine client runs reaches it.
   */
  setEnv?: Record<string, string>;
}

export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gwd-sshd-'));
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const otherHostKey = path.join(dir, 'other_host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  const passKey = path.join(dir, 'client_pass_ed25519');
  const badKey = path.join(dir, 'client_unauthorized');
  const passphrase = 'open sesame';
  keygen(hostKey);
  keygen(otherHostKey);
  keygen(clientKey);
  keygen(passKey, passphrase);
  keygen(badKey);
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(
    authorized,
    [clientKey, passKey, ...(opts.alsoAuthorize ?? [])].map((k) => readFileSync(`${k}.pub`, 'utf8')).join(''),
    {
      mode: 0o600,
    },
  );
  const port = await freeTcpPort();
  const logPath = path.join(dir, 'sshd.log');
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'AllowTcpForwarding yes',
      'PrintMotd no',
      `LogLevel ${opts.logLevel ?? 'VERBOSE'}`,
      ...Object.entries(opts.setEnv ?? {}).map(([k, v]) => `SetEnv ${k}=${v}`),
      '',
    ].join('\n'),
  );
  const proc = spawn(
    SSHD,
    ['-D', '-f', config, '-p', String(port), '-o', 'ListenAddress=127.0.0.1', '-E', logPath],
    {
      stdio: 'ignore',
    },
  );
  const kill = (): void => {
    for (const c of children(proc.pid ?? -1)) {
      try {
        process.kill(c, 'SIGKILL');
      } catch {
        // gone
      }
    }
    proc.kill('SIGKILL');
  };
  process.once('exit', kill);
  await listening(port, proc, logPath);
  const pub = (f: string): string =>
    readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const known = path.join(dir, 'known_hosts');
  writeFileSync(known, `[127.0.0.1]:${port} ${pub(hostKey)}\n`);
  const empty = path.join(dir, 'known_hosts.empty');
  writeFileSync(empty, '');
  const wrong = path.join(dir, 'known_hosts.wrong');
  writeFileSync(wrong, `[127.0.0.1]:${port} ${pub(otherHostKey)}\n`);
  return {
    host: '127.0.0.1',
    port,
    user: os.userInfo().username,
    clientKey,
    clientKeyWithPassphrase: { path: passKey, passphrase },
    unauthorizedKey: badKey,
    hostKeyFingerprint: fingerprintOfPub(`${hostKey}.pub`),
    knownHostsFile: known,
    emptyKnownHostsFile: empty,
    wrongKnownHostsFile: wrong,
    logPath,
    pid: proc.pid ?? -1,
    async dropSessions() {
      const kids = children(proc.pid ?? -1);
      for (const c of kids) {
        try {
          process.kill(c, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
    async stop() {
      process.off('exit', kill);
      const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
      kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
