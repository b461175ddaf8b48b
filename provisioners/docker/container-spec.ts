// The engine's create options for one kernel container: image, its command (our launcher, or the image's own
// Gateway Provisioners bootstrap), labels, env, user, working dir, volumes, CPU/memory limits and GPUs. Plain
// data, so tests can check what is asked of the engine.
import type Docker from 'dockerode';
import { kernelLabels } from './labels';
import { containerLauncherArgv } from './launcher-archive';
import { userOf, type KernelResources } from './resources';

export interface KernelContainerOptions {
  kernelId: string;
  installId: string;
  resources: KernelResources & { image: string };
  command: OurLauncherCommand | ImageCommand;
  networkMode: string;
  /** The kernel's environment (never its key: that travels on stdin, or the kernel makes it). */
  env: Record<string, string>;
}

/** Our launcher (copied in) as the main process; the request line comes on the attached stdin. */
export interface OurLauncherCommand {
  kind: 'launcher';
  /** The Python in the image that runs the launcher. */
  python: string;
  /** The kernel's argv (`{connection_file}` replaced by the launcher). */
  argv: string[];
  /** Address the kernel binds inside the container. */
  bindIp: string;
  portRange?: { lo: number; hi: number };
}

/** The image's own command (a Gateway Provisioners bootstrap reads the env contract), or a given argv. */
export interface ImageCommand {
  kind: 'image';
  /** Replaces the image's entrypoint and CMD; absent: the image's own. */
  argv?: string[];
}

/** One name per kernel id: a launch cut short is found and removed by name even if create's answer was lost. */
export function containerName(kernelId: string): string {
  return `gd-kernel-${kernelId}`;
}

export function kernelContainerOptions(o: KernelContainerOptions): Docker.ContainerCreateOptions {
  const r = o.resources;
  const user = userOf(r);
  const gpus = r.gpus === 'all' ? -1 : (r.gpus ?? 0);
  return {
    name: containerName(o.kernelId),
    Image: r.image,
    ...commandOptions(o.kernelId, o.command),
    Labels: kernelLabels(o.kernelId, o.installId),
    Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
    ...(user ? { User: user } : {}),
    ...(r.workingDir ? { WorkingDir: r.workingDir } : {}),
    Tty: false,
    HostConfig: {
      NetworkMode: o.networkMode,
      ...(r.cpus ? { NanoCpus: Math.round(r.cpus * 1e9) } : {}),
      ...(r.memoryBytes ? { Memory: r.memoryBytes } : {}),
      ...(gpus !== 0 ? { DeviceRequests: [{ Driver: 'nvidia', Count: gpus, Capabilities: [['gpu']] }] } : {}),
      ...(r.volumes?.length
        ? { Binds: r.volumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`) }
        : {}),
      // A gid without a uid cannot be `User` (resources.ts): a supplementary group instead.
      ...(r.gid !== undefined && r.uid === undefined ? { GroupAdd: [String(r.gid)] } : {}),
      AutoRemove: false, // cleanup removes it, after reading its logs if the launch failed
    },
  };
}

function commandOptions(
  kernelId: string,
  c: OurLauncherCommand | ImageCommand,
): Docker.ContainerCreateOptions {
  if (c.kind === 'image') return c.argv ? { Entrypoint: [], Cmd: c.argv } : {};
  return {
    // The image's entrypoint (a Gateway Provisioners bootstrap, a shell) would take our command as arguments.
    Entrypoint: [],
    Cmd: containerLauncherArgv({
      python: c.python,
      kernelId,
      ip: c.bindIp,
      argv: c.argv,
      ...(c.portRange ? { portRange: c.portRange } : {}),
    }),
    // The request line (key + env) is written on stdin once; the engine closes stdin when we detach.
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  };
}
