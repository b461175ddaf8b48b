// The ssh kind's host keys: which key of a cluster's hosts (or jump host) known_hosts does not vouch for yet, and
// trusting one the user confirmed. The cluster's "known_hosts file" setting is where it is written, else
// ~/.ssh/known_hosts (provisioners/ssh/host-key-trust.ts does the fetching, comparing and appending).
import type { HostKeyInfo } from '../../host-api/models';
import type { SecretLookup } from '../../secrets/secret-store';
import type { SshClusterConfig } from '../kinds/ssh/config';
import { firstUntrustedHostKey, trustHostKey } from '../../../provisioners/ssh/host-key-trust';
import { SshError } from '../../../provisioners/ssh/ssh-errors';
import { sshTargetFor, type SshTargetOptions } from './ssh-target';

export async function untrustedSshHostKey(
  cfg: SshClusterConfig,
  secrets: SecretLookup,
  opts: SshTargetOptions = {},
): Promise<HostKeyInfo | null> {
  for (const alias of cfg.hosts) {
    const s = await firstUntrustedHostKey(sshTargetFor(cfg, alias, secrets, opts));
    if (s && s.status !== 'known')
      return {
        host: s.host,
        port: s.port,
        fingerprint: s.fingerprint,
        keyType: s.keyType,
        status: s.status,
        ...(s.known ? { known: s.known } : {}),
      };
  }
  return null;
}

export async function trustSshHostKey(
  cfg: SshClusterConfig,
  secrets: SecretLookup,
  key: { host: string; port: number; fingerprint: string },
  opts: SshTargetOptions = {},
): Promise<string | null> {
  const targets = cfg.hosts.map((alias) => sshTargetFor(cfg, alias, secrets, opts));
  // The host may be one of the cluster's hosts or its jump host; the first target that reaches it fetches it.
  const target = targets.find(
    (t) =>
      (t.host === key.host && (t.port ?? 22) === key.port) ||
      (t.jump && t.jump.host === key.host && (t.jump.port ?? 22) === key.port),
  );
  if (!target)
    throw new SshError(
      'config',
      `${key.host}:${key.port} is not a host of ${cfg.name}`,
      'Test the connection again and trust the host it names.',
    );
  return trustHostKey(target, key);
}

/**
 * A failed start's words: an unknown host key says where to confirm it (a start never trusts a key by itself,
 * so the user sees the fingerprint first).
 */
export function startErrorText(err: Error, cluster: string): string {
  if (err instanceof SshError && err.code === 'host-key-unknown')
    return `${err.message} Confirm the key first: open the cluster "${cluster}", press Test connection and trust the host if the fingerprint is right (or run: npm run cluster -- test "${cluster}").`;
  return err.message;
}
