// What a Docker cluster gives each of its kernels' provisioners: the engine client, this install's id, the
// network mode and how this computer reaches a kernel on it, the launcher's Python, and default resources.
// A kernelspec's `metadata.kernel_provisioner.config` (an environment's settings, or Gateway Provisioners'
// `image_name`) refines the defaults.
import type Docker from 'dockerode';
import type { PoolLease } from '../context';
import type { SshTarget } from '../ssh/ssh-connection';
import type { SshLink } from '../ssh/ssh-link';
import type { V1ResponseListener } from '../remote/response-listener';
import type { EngineAddress } from './engine';
import type { PullPolicy } from './container-io';
import { resourcesFromLaunchEnv, type KernelResources } from './resources';

export interface DockerKernelHost {
  /** The cluster's name, for messages. */
  where: string;
  docker: Docker;
  /** describeEngine() of the cluster's engine settings. */
  engine: string;
  /** The engine's address (how to reach a kernel on the host network depends on it). */
  address: EngineAddress;
  installId: string;
  /** `host` (the default), `bridge`, or a user-defined network. */
  networkMode: string;
  /** Overrides where this computer dials the kernel's ports (a name or IP of the engine's host). */
  kernelAddress?: string;
  /**
   * Set for an ssh:// engine with host networking (and no kernel address): kernels bind the host's 127.0.0.1 and
   * are reached through this SSH login's shared link (kernel-reach.ts). The Swarm kind never sets it.
   */
  ssh?: DockerSshAccess;
  /** The Python in the image that runs the launcher. */
  python: string;
  resources: KernelResources;
  portRange?: { lo: number; hi: number };
  pull: PullPolicy;
  /**
   * The cluster's response listener (started on first use) for images with Gateway Provisioners' bootstrap;
   * absent where the cluster offers none (then such an environment fails its start with why).
   */
  responses?: () => Promise<V1ResponseListener>;
  log(message: string): void;
}

/** The SSH login to an ssh:// engine's host and its shared, reconnecting link (the cluster's pool). */
export interface DockerSshAccess {
  target: SshTarget;
  link(signal?: AbortSignal): Promise<PoolLease<SshLink>>;
}

/**
 * The address the kernel binds in its container. On the host network of a local engine: 127.0.0.1 (nothing
 * else on the network reaches it); on an ssh:// engine's, reached over SSH, too. Elsewhere the app dials it
 * from outside the container: all interfaces.
 */
export function kernelBindIp(h: DockerKernelHost): string {
  const loopback = h.address.kind === 'unix' || (h.address.kind === 'ssh' && h.ssh !== undefined);
  return h.networkMode === 'host' && loopback && !h.kernelAddress ? '127.0.0.1' : '0.0.0.0';
}

/** Where this computer dials the kernel: 127.0.0.1, the engine's host, or the container's IP on its network. */
export async function dialAddress(h: DockerKernelHost, container: Docker.Container): Promise<string> {
  if (h.kernelAddress) return h.kernelAddress;
  if (h.networkMode === 'host') {
    if (h.address.kind === 'unix') return '127.0.0.1';
    if (h.address.kind === 'tcp') return h.address.host;
    throw new Error(
      `kernels on ${h.where}'s ssh:// engine are carried over SSH only for a Docker cluster's host network: set ` +
        "the cluster's kernel address (the host name this computer dials) or use a tcp:// engine",
    );
  }
  const info = await container.inspect();
  const nets = info.NetworkSettings.Networks ?? {};
  // The engine's legacy top-level IPAddress (the default bridge) is not in the types.
  const legacy = (info.NetworkSettings as { IPAddress?: string }).IPAddress;
  const ip = nets[h.networkMode]?.IPAddress || legacy || Object.values(nets)[0]?.IPAddress;
  if (!ip)
    throw new Error(
      `the kernel's container has no IP address on network "${h.networkMode}" (inspect shows none)`,
    );
  return ip;
}

export interface DockerProvisionerConfig {
  python: string;
  resources: KernelResources;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const num = (v: unknown): string | undefined =>
  typeof v === 'number' ? String(v) : typeof v === 'string' && v.trim() ? v : undefined;

/**
 * A kernelspec's provisioner config over the cluster's defaults. Its values use the KERNEL_* formats (cpus "2",
 * memory "2g", volumes "src:dst:ro" items), so one parser checks both; `image_name` is Gateway Provisioners'.
 */
export function readDockerConfig(
  config: Record<string, unknown>,
  h: DockerKernelHost,
): DockerProvisionerConfig {
  const vols = Array.isArray(config.volumes)
    ? config.volumes.filter((v) => typeof v === 'string').join(',')
    : str(config.volumes);
  const vars: Record<string, string> = {};
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined) vars[k] = v;
  };
  set('KERNEL_IMAGE', str(config.image) ?? str(config.image_name));
  set('KERNEL_CPUS', num(config.cpus));
  set('KERNEL_MEMORY', num(config.memory));
  set('KERNEL_GPUS', num(config.gpus));
  set('KERNEL_VOLUMES', vols);
  set('KERNEL_UID', num(config.uid));
  set('KERNEL_GID', num(config.gid));
  set('KERNEL_WORKING_DIR', str(config.workingDir));
  const resources = resourcesFromLaunchEnv(vars, h.resources);
  const env = config.env && typeof config.env === 'object' && !Array.isArray(config.env) ? config.env : {};
  const own = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  if (Object.keys(own).length) resources.env = { ...(h.resources.env ?? {}), ...own };
  return { python: str(config.python) ?? h.python, resources };
}
