// The Swarm service that runs one kernel: one replica, never restarted (a kernel that exits is gone, the app
// decides what comes next), our labels on the service and its container, the kernel environment's image, user,
// working dir and mounts, CPU and memory as limits and as reservations (so the Swarm places the task only on a
// node that has them), GPUs as generic resources, the host's network by default. The launcher's request (the
// kernel's key and env) is a per-launch Swarm secret mounted as a file; the launcher itself a Swarm config.
import type Docker from 'dockerode';
import { CONTAINER_LAUNCHER_FILE, CONTAINER_STATE_DIR } from './launcher-archive';
import { userOf, type KernelResources } from './resources';

/** Where the request secret appears in the task (a tmpfs the Swarm mounts; never in the service spec). */
export const REQUEST_FILE = '/run/secrets/gd-request';
/** The generic resource kind GPUs are reserved as, unless the cluster names another. */
export const DEFAULT_GPU_RESOURCE = 'NVIDIA-GPU';

export interface SwarmServiceInput {
  name: string;
  labels: Record<string, string>;
  resources: KernelResources & { image: string };
  /** The container's command: the launcher's `run` argv. */
  command: string[];
  /** Variables the service spec may show (never the key, never what a client sent). */
  env: Record<string, string>;
  secret: { id: string; name: string };
  config: { id: string; name: string };
  /** 'host' (default) or an overlay network's name. */
  network: string;
  gpuResource: string;
}

/** Raised for resources a Swarm cannot express (before anything is created). */
export class SwarmResourceError extends Error {
  override name = 'SwarmResourceError';
}

function mountsOf(r: KernelResources): Docker.MountSettings[] {
  // The launcher's state dir (connection file with the key, its log) on a tmpfs any user may write: nothing can
  // be copied in before a task starts, the image's /tmp may not be writable by the kernel's user, and the key
  // stays off the node's disk.
  const state: Docker.MountSettings = {
    Type: 'tmpfs',
    Source: '', // a tmpfs has none (the types want one)
    Target: CONTAINER_STATE_DIR,
    TmpfsOptions: { Mode: 0o1777, SizeBytes: 0 }, // 0: the engine's default size
  };
  return [
    state,
    ...(r.volumes ?? []).map(
      (v): Docker.MountSettings => ({
        // An absolute source is a directory of the node; anything else a named volume.
        Type: v.source.startsWith('/') ? 'bind' : 'volume',
        Source: v.source,
        Target: v.target,
        ReadOnly: v.readOnly,
      }),
    ),
  ];
}

/** The Engine API's shape (@types/dockerode flattens GenericResources wrongly: the API nests the spec). */
interface SwarmResources {
  NanoCPUs?: number;
  MemoryBytes?: number;
  GenericResources?: { DiscreteResourceSpec: { Kind: string; Value: number } }[];
}

function resourcesOf(
  r: KernelResources,
  gpuResource: string,
): { Limits?: SwarmResources; Reservations?: SwarmResources } | undefined {
  const cpu = r.cpus !== undefined ? { NanoCPUs: Math.round(r.cpus * 1e9) } : {};
  const mem = r.memoryBytes !== undefined ? { MemoryBytes: r.memoryBytes } : {};
  if (r.gpus === 'all')
    throw new SwarmResourceError(
      'KERNEL_GPUS=all: a Swarm reserves a number of GPUs (generic resources), give one, e.g. KERNEL_GPUS=1',
    );
  const gpus =
    r.gpus !== undefined && r.gpus > 0
      ? { GenericResources: [{ DiscreteResourceSpec: { Kind: gpuResource, Value: r.gpus } }] }
      : {};
  const limits = { ...cpu, ...mem };
  const reservations = { ...cpu, ...mem, ...gpus };
  if (!Object.keys(limits).length && !Object.keys(reservations).length) return undefined;
  return {
    ...(Object.keys(limits).length ? { Limits: limits } : {}),
    ...(Object.keys(reservations).length ? { Reservations: reservations } : {}),
  };
}

export function swarmServiceSpec(o: SwarmServiceInput): Docker.CreateServiceOptions {
  const r = o.resources;
  const user = userOf(r);
  // The secret is the kernel's user's only when that user is known; otherwise it runs as the image's user (root
  // or not, unknown here), so the file must be readable by any user of the task's own container.
  const owner = { UID: String(r.uid ?? 0), GID: String(r.gid ?? 0) };
  const resources = resourcesOf(r, o.gpuResource);
  return {
    Name: o.name,
    Labels: o.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: r.image,
        Labels: o.labels,
        Command: o.command,
        Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
        ...(user ? { User: user } : {}),
        ...(r.uid === undefined && r.gid !== undefined ? { Groups: [String(r.gid)] } : {}),
        ...(r.workingDir ? { Dir: r.workingDir } : {}),
        Mounts: mountsOf(r),
        Secrets: [
          {
            SecretID: o.secret.id,
            SecretName: o.secret.name,
            File: {
              Name: REQUEST_FILE.split('/').pop(),
              ...owner,
              Mode: r.uid !== undefined ? 0o400 : 0o444,
            },
          },
        ],
        Configs: [
          {
            ConfigID: o.config.id,
            ConfigName: o.config.name,
            File: { Name: CONTAINER_LAUNCHER_FILE, ...owner, Mode: 0o444 },
          },
        ],
        // `docker service rm` stops the launcher with SIGTERM; it takes the kernel along within its 5 s grace.
        StopGracePeriod: 10e9,
      },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Networks: [{ Target: o.network }],
      ...(resources ? { Resources: resources as Docker.ResourceRequirements } : {}),
    },
    Mode: { Replicated: { Replicas: 1 } },
  };
}
