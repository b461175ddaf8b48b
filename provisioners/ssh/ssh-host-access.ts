// What an SSH provisioner gets from its cluster (hosts, the shared links, the launcher) and from its
// environment's kernelspec (`metadata.kernel_provisioner.config`). Apart from ssh-provisioner.ts to keep it short.
import type { PoolLease } from '../context';
import type { SshConnection } from './ssh-connection';
import type { SshLink } from './ssh-link';

/** What the cluster gives each of its kernels: hosts, links to them, and where the launcher lives there. */
export interface SshHostAccess {
  /** Where kernels run, for messages ("Lab servers"). */
  readonly where: string;
  /** Choose a host for a new kernel (KERNEL_REMOTE_HOST pins it); release() when the kernel is gone. */
  chooseHost(pinned?: string, among?: readonly string[]): { host: string; release(): void };
  /** A lease on the shared link to `host` (one SSH connection per host, reconnecting). */
  link(host: string, signal?: AbortSignal): Promise<PoolLease<SshLink>>;
  /** The launcher's path on the host (relative paths are from the login's home), uploaded when missing. */
  ensureLauncher(conn: SshConnection, signal?: AbortSignal): Promise<string>;
  /** The remote Python that runs the launcher when the environment names none. */
  readonly python: string;
  readonly portRange?: { lo: number; hi: number };
  /** Seconds without a poll after which the launcher stops the kernel (0: never). */
  readonly leaseSeconds: number;
  log(message: string): void;
}

/** Per-environment settings, from the kernelspec's `metadata.kernel_provisioner.config`. */
export interface SshProvisionerConfig {
  python?: string;
  hosts?: string[];
}

export function readConfig(config: Record<string, unknown>): SshProvisionerConfig {
  const out: SshProvisionerConfig = {};
  if (typeof config.python === 'string' && config.python) out.python = config.python;
  if (Array.isArray(config.hosts)) out.hosts = config.hosts.filter((h): h is string => typeof h === 'string');
  return out;
}
