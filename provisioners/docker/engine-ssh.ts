// How an ssh:// engine's host is logged in to: one SshTarget, built as the SSH cluster kind builds its own (the
// URL's user and port, then ~/.ssh/config, then the OS user and port 22; the cluster's key file, else
// ~/.ssh/config's IdentityFile, else ~/.ssh/id_*; the agent). The engine API (docker-modem) and the link that
// carries the kernel's ports both use it, so they log in alike and check the same known_hosts.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkHostKey, defaultKnownHostsFiles } from '../ssh/known-hosts';
import { resolveSshConfig } from '../ssh/ssh-config';
import type { SshTarget } from '../ssh/ssh-connection';
import type { EngineAddress } from './engine';

export interface EngineSshSettings {
  /** The cluster's private key file; unset: ~/.ssh/config's IdentityFile, else ~/.ssh/id_*. */
  identityFile?: string;
  /** Default ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
  /** Default ~/.ssh/config. */
  sshConfigFile?: string;
}

const expandHome = (p: string): string =>
  p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;

/** The first of ~/.ssh/id_{ed25519,ecdsa,rsa} that exists (what `ssh` and the docker CLI try). */
function defaultIdentity(): string | undefined {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa']
    .map((n) => path.join(os.homedir(), '.ssh', n))
    .find((f) => existsSync(f));
}

/** The login to an ssh:// engine's host. */
export function engineSshTarget(
  a: Extract<EngineAddress, { kind: 'ssh' }>,
  s: EngineSshSettings = {},
): SshTarget {
  const r = resolveSshConfig(a.host, s.sshConfigFile);
  const key = s.identityFile ?? r.identityFiles[0] ?? defaultIdentity();
  return {
    host: r.host,
    // The URL always names a port (22 when it wrote none); ~/.ssh/config's Port applies only to the default.
    port: a.port !== 22 ? a.port : (r.port ?? 22),
    user: a.user ?? r.user ?? os.userInfo().username,
    auth: { useAgent: true, ...(key ? { privateKeyFile: expandHome(key) } : {}) },
    ...(s.knownHostsFiles?.length ? { knownHostsFiles: s.knownHostsFiles } : {}),
  };
}

/** docker-modem's ssh options for the same login (ssh2's settings; the host key checked as `ssh` does). */
export function dockerModemSsh(t: SshTarget): {
  host: string;
  port: number;
  username: string;
  sshOptions: { agent?: string; privateKey?: Buffer; hostVerifier: (key: Buffer) => boolean };
} {
  const files = (t.knownHostsFiles ?? defaultKnownHostsFiles()).map(expandHome);
  const port = t.port ?? 22;
  const agent = t.auth.useAgent !== false ? process.env.SSH_AUTH_SOCK : undefined;
  let privateKey: Buffer | undefined;
  try {
    if (t.auth.privateKeyFile) privateKey = readFileSync(t.auth.privateKeyFile);
  } catch {
    // Unreadable: the engine's login fails, and Test connection / the tunnel's openSsh say why.
  }
  return {
    host: t.host,
    port,
    username: t.user,
    sshOptions: {
      ...(agent ? { agent } : {}),
      ...(privateKey ? { privateKey } : {}),
      hostVerifier: (key: Buffer) => checkHostKey(files, t.host, port, key) === 'match',
    },
  };
}
