// Host keys in `npm run cluster -- add` and `test`: a key known_hosts does not vouch for is shown as ssh shows
// it, then trusted when --accept-new-host-key says so or the user answers "y" at a terminal; otherwise the
// command stops and names the flag. A changed key is refused with both fingerprints. Kinds without host keys
// (the descriptor has no `hostKeys`) never get here.
import type { StoredCluster } from '../clusters/config-base';
import type { Diagnosis } from '../clusters/diagnose';
import type { ClusterKindDescriptor } from '../clusters/kinds/types';
import {
  hostKeyHostName as hostName,
  hostKeyTypeName as keyTypeName,
  type HostKeyInfo,
} from '../host-api/models';
import type { SecretLookup } from '../secrets/secret-store';

export interface PromptIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** stdin is a terminal: the user can be asked. */
  isTTY?: boolean;
  /** Ask a question on the terminal; resolves with the answer line. */
  ask?: (question: string) => Promise<string>;
}

export const ACCEPT_FLAG = '--accept-new-host-key';

/** Each hop (jump host, then host) may be unknown in turn; more than this means something loops. */
const MAX_KEYS = 4;

/** Unknown: ask (or take the flag) and trust; changed: refuse. Resolves true when the key is now trusted. */
async function confirm(
  k: HostKeyInfo,
  accept: boolean,
  io: PromptIo,
  trust: () => Promise<string | null>,
): Promise<boolean> {
  if (k.status === 'changed') {
    io.err(
      `cluster: the host key of ${hostName(k)} has CHANGED: known_hosts expects ${(k.known ?? []).join(' or ')} ` +
        `but the host presented ${k.fingerprint}. Someone may be intercepting the connection.\n` +
        `  Ask the host's administrator whether its key was replaced; only then remove the old line ` +
        `(ssh-keygen -R "${hostName(k)}") and try again.\n`,
    );
    return false;
  }
  io.err(
    `The authenticity of host '${hostName(k)}' can't be established.\n` +
      `${keyTypeName(k.keyType)}key fingerprint is ${k.fingerprint}.\n`,
  );
  let yes = accept;
  if (!yes && io.isTTY && io.ask) yes = /^\s*y(es)?\s*$/i.test(await io.ask('Trust this host? [y/N] '));
  else if (!yes) {
    io.err(
      `cluster: not trusted. Check the fingerprint with the host's administrator, then run again with ` +
        `${ACCEPT_FLAG} (or in a terminal, to be asked).\n`,
    );
    return false;
  }
  if (!yes) {
    io.err('cluster: not trusted.\n');
    return false;
  }
  const file = await trust();
  io.err(file ? `Added ${hostName(k)} (${k.fingerprint}) to ${file}.\n` : `${hostName(k)} is trusted.\n`);
  return true;
}

/**
 * Before `add` saves a cluster: every host key trusted (asking as above). A host that cannot be reached now is
 * not a reason to refuse the cluster: its key is checked at the first connection. Resolves false to refuse.
 */
export async function confirmHostKeysForAdd(
  kind: ClusterKindDescriptor,
  cfg: StoredCluster,
  secrets: SecretLookup,
  accept: boolean,
  io: PromptIo,
): Promise<boolean> {
  const keys = kind.hostKeys;
  if (!keys) return true;
  for (let i = 0; i < MAX_KEYS; i++) {
    let k: HostKeyInfo | null;
    try {
      k = await keys.check(cfg, secrets);
    } catch (err) {
      io.err(
        `cluster: warning: host keys not checked now (${err instanceof Error ? err.message : String(err)}); ` +
          `run npm run cluster -- test "${cfg.name}" once the host is reachable.\n`,
      );
      return true;
    }
    if (!k) return true;
    const key = k;
    if (!(await confirm(key, accept, io, () => keys.trust(cfg, secrets, key)))) return false;
  }
  return true;
}

/** `test`: the diagnosis, past any host key the user trusts on the way. */
export async function diagnoseConfirmingKeys(
  kind: ClusterKindDescriptor,
  cfg: StoredCluster,
  secrets: SecretLookup,
  accept: boolean,
  io: PromptIo,
): Promise<Diagnosis> {
  let d = await kind.diagnose(cfg, secrets);
  const keys = kind.hostKeys;
  for (let i = 0; i < MAX_KEYS && keys && d.code === 'host-key-unknown' && d.hostKey; i++) {
    const key = d.hostKey;
    if (!(await confirm(key, accept, io, () => keys.trust(cfg, secrets, key)))) return d;
    d = await kind.diagnose(cfg, secrets);
  }
  return d;
}
