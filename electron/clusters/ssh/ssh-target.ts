// An SSH cluster's settings + its secrets + ~/.ssh/config -> how to connect to one of its hosts. The cluster's
// own settings win over ~/.ssh/config, which wins over the defaults (the OS user, port 22, the agent).
import os from 'node:os';
import type { SecretLookup } from '../../secrets/secret-store';
import type { SshClusterConfig } from '../kinds/ssh/config';
import { resolveJump, resolveSshConfig } from '../../../provisioners/ssh/ssh-config';
import type { SshTarget } from '../../../provisioners/ssh/ssh-connection';

export interface SshTargetOptions {
  /** ~/.ssh/config by default. */
  sshConfigFile?: string;
  /** A host key fingerprint the user confirmed for this connect ("Trust this host"). */
  acceptHostKey?: string;
}

export function sshTargetFor(
  cfg: SshClusterConfig,
  alias: string,
  secrets: SecretLookup,
  opts: SshTargetOptions = {},
): SshTarget {
  const r = resolveSshConfig(alias, opts.sshConfigFile);
  const passphrase = cfg.passphraseSecret ? secrets.get(cfg.passphraseSecret) : undefined;
  const password = cfg.passwordSecret ? secrets.get(cfg.passwordSecret) : undefined;
  const keyFile = cfg.identityFile ?? r.identityFiles[0];
  const jumpText = cfg.jump ?? r.proxyJump;
  const port = cfg.port ?? r.port;
  return {
    host: r.host,
    ...(port ? { port } : {}),
    user: cfg.user ?? r.user ?? os.userInfo().username,
    auth: {
      useAgent: cfg.useAgent !== false,
      ...(keyFile ? { privateKeyFile: keyFile } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(password ? { password } : {}),
    },
    ...(jumpText ? { jump: resolveJump(jumpText, opts.sshConfigFile) } : {}),
    ...(cfg.knownHostsFile ? { knownHostsFiles: [cfg.knownHostsFile] } : {}),
    ...(opts.acceptHostKey ? { acceptHostKey: opts.acceptHostKey } : {}),
  };
}

/** The pool key of a host's shared connection: one per user@host:port (and jump). */
export function sshPoolKey(t: SshTarget): string {
  const jump = t.jump ? ` via ${t.jump.user ?? ''}@${t.jump.host}:${t.jump.port ?? 22}` : '';
  return `ssh:${t.user}@${t.host}:${t.port ?? 22}${jump}`;
}
