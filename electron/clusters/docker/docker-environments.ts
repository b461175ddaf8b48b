// A Docker cluster's kernel environments as the kernelspecs it lists: the cluster's image first (`python3`),
// then its own environments. Each names the docker-provisioner; the environment's image and resources travel
// in `metadata.kernel_provisioner.config` (readDockerConfig reads them; `image_name` is Gateway Provisioners').
import { DOCKER_PROVISIONER_NAME } from '../../../provisioners/docker/docker-provisioner';
import type { KernelSpec, KernelSpecFile } from '../../../provisioners/types';
import {
  DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC,
  type DockerEngineConfig,
  type DockerEnvironment,
} from '../kinds/docker/config';

export const DEFAULT_DOCKER_ENVIRONMENT = 'python3';

export function dockerKernelSpecs(
  cfg: DockerEngineConfig & { name: string },
  provisionerName = DOCKER_PROVISIONER_NAME,
): KernelSpec[] {
  const envs: DockerEnvironment[] = [
    { name: DEFAULT_DOCKER_ENVIRONMENT, displayName: `Python 3 on ${cfg.name}`, language: 'python' },
    ...(cfg.environments ?? []),
  ];
  return envs.map((e) => {
    const python = e.python ?? cfg.python;
    const config: Record<string, unknown> = { image: e.image ?? cfg.image, python };
    for (const k of ['cpus', 'memory', 'gpus', 'volumes', 'uid', 'gid', 'workingDir'] as const)
      if (e[k] !== undefined) config[k] = e[k];
    if (e.launchTimeoutSec !== undefined) config.launch_timeout = e.launchTimeoutSec;
    if (e.launcher) config.launcher = e.launcher;
    // A Gateway Provisioners image runs its own command: no argv of ours (an empty one means the image's).
    const ours = e.launcher ? [] : [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'];
    const spec: KernelSpecFile = {
      argv: e.argv ? [...e.argv] : ours,
      display_name: e.displayName,
      language: e.language,
      ...(e.env ? { env: { ...e.env } } : {}),
      metadata: { kernel_provisioner: { provisioner_name: provisionerName, config } },
    };
    return { name: e.name, resourceDir: '', spec, resources: {} };
  });
}

/** A start's deadline: KERNEL_LAUNCH_TIMEOUT from the client, else the environment's, else the cluster's. */
export function dockerLaunchTimeoutMs(
  cfg: DockerEngineConfig,
  spec: KernelSpec,
  env: Record<string, string | undefined>,
): number {
  const fromEnv = Number(env.KERNEL_LAUNCH_TIMEOUT);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv * 1000;
  const own = spec.spec.metadata?.kernel_provisioner?.config?.launch_timeout;
  if (typeof own === 'number' && own > 0) return own * 1000;
  return (cfg.launchTimeoutSec ?? DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC) * 1000;
}
