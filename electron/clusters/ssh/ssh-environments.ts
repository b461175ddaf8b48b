// An SSH cluster's kernel environments as the kernelspecs it lists, and what each one sets at start (launch
// timeout, remote port range). The per-environment settings travel in `metadata.kernel_provisioner.config`
// under Gateway Provisioners' names (launch_timeout, port_range, remote_hosts), so an imported GP kernelspec
// and one of ours read the same way.
import type { SshHostAccess } from '../../../provisioners/ssh/ssh-provisioner';
import { SSH_PROVISIONER_NAME } from '../../../provisioners/ssh/ssh-provisioner';
import type { KernelSpec, KernelSpecFile } from '../../../provisioners/types';
import {
  DEFAULT_SSH_LAUNCH_TIMEOUT_SEC,
  parsePortRange,
  type SshClusterConfig,
  type SshEnvironment,
} from '../kinds/ssh/config';
import { DEFAULT_SSH_ENVIRONMENT, isGpLauncherArgv } from '../kinds/ssh/environments';

/** Gateway Provisioners' SSH provisioner: runs a GP launcher argv (their protocol v1) on a remote host. */
export const GP_DISTRIBUTED_PROVISIONER = 'distributed-provisioner';

/** The kernelspecs an SSH cluster lists, from its settings: its Python first, then its own environments. */
export function sshKernelSpecs(cfg: SshClusterConfig): KernelSpec[] {
  const envs: SshEnvironment[] = [
    { name: DEFAULT_SSH_ENVIRONMENT, displayName: `Python 3 on ${cfg.name}`, language: 'python' },
    ...(cfg.environments ?? []),
  ];
  return envs.map((e) => {
    const python = e.python ?? cfg.python;
    const gp = e.argv !== undefined && isGpLauncherArgv(e.argv);
    const common = {
      ...(e.launchTimeoutSec !== undefined ? { launch_timeout: e.launchTimeoutSec } : {}),
      ...(e.portRange ? { port_range: e.portRange } : {}),
    };
    const spec: KernelSpecFile = {
      argv: e.argv ? [...e.argv] : [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
      display_name: e.displayName,
      language: e.language,
      ...(e.env ? { env: { ...e.env } } : {}),
      metadata: {
        kernel_provisioner: gp
          ? {
              provisioner_name: GP_DISTRIBUTED_PROVISIONER,
              config: { remote_hosts: [...(e.hosts ?? cfg.hosts)], ...common },
            }
          : {
              provisioner_name: SSH_PROVISIONER_NAME,
              config: { python, ...(e.hosts ? { hosts: [...e.hosts] } : {}), ...common },
            },
      },
    };
    return { name: e.name, resourceDir: '', spec, resources: {} };
  });
}

/** A start's deadline: KERNEL_LAUNCH_TIMEOUT from the client, else the environment's, else the cluster's. */
export function launchTimeoutMs(
  cfg: SshClusterConfig,
  spec: KernelSpec,
  env: Record<string, string | undefined>,
): number {
  const fromEnv = Number(env.KERNEL_LAUNCH_TIMEOUT);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv * 1000;
  const own = spec.spec.metadata?.kernel_provisioner?.config?.launch_timeout;
  if (typeof own === 'number' && own > 0) return own * 1000;
  return (cfg.launchTimeoutSec ?? DEFAULT_SSH_LAUNCH_TIMEOUT_SEC) * 1000;
}

/** The cluster's host access for one kernel, with its environment's port range when it has one. */
export function accessFor(access: SshHostAccess, config: Record<string, unknown>): SshHostAccess {
  const range = typeof config.port_range === 'string' ? parsePortRange(config.port_range) : null;
  return range ? { ...access, portRange: range } : access;
}
