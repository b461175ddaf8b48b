// The launch form of docker and swarm clusters: the Gateway Provisioners KERNEL_* variables a container kernel
// takes (image, CPUs, memory, GPUs, volumes, user, working directory), defaulting to the environment's and then
// the cluster's settings, checked by the same parsers the provisioner applies (provisioners/docker/resources.ts)
// and, before a start, against the engine: the image is there (or may be pulled).
import {
  KernelResourceError,
  parseCpus,
  parseGpus,
  parseMemory,
  parseVolumes,
} from '../../../../provisioners/docker/resources';
import { engineClient } from '../../../../provisioners/docker/engine';
import { launchParameter, type LaunchEnvironment, type LaunchParameter } from '../launch-parameters';
import type { FieldProblem } from '../types';
import { engineSettingsOf, type DockerEngineConfig } from './config';

/** A backend parser as a launch-form validator: the parser's own "what a valid value looks like". */
function byParser(parse: (value: string, variable: string) => unknown, variable: string) {
  return (value: string): string | null => {
    try {
      parse(value, variable);
      return null;
    } catch (err) {
      if (!(err instanceof KernelResourceError)) throw err;
      return `must be ${err.message.replace(/^.*? is not valid: /, '')}`;
    }
  };
}

const wholeId = (v: string): string | null =>
  /^\d+$/.test(v.trim()) && Number(v) <= 2 ** 31 - 1 ? null : 'must be a numeric id such as 1000';

/** The environment's settings as KERNEL_* defaults, then the cluster's. */
function settingsDefaults(c: DockerEngineConfig, envName: string): Record<string, string>[] {
  const e = c.environments?.find((x) => x.name === envName);
  const of = (s: {
    image?: string;
    cpus?: number;
    memory?: string;
    gpus?: string;
    workingDir?: string;
    uid?: number;
    gid?: number;
  }): Record<string, string> => {
    const out: Record<string, string> = {};
    if (s.image) out.KERNEL_IMAGE = s.image;
    if (s.cpus !== undefined) out.KERNEL_CPUS = String(s.cpus);
    if (s.memory) out.KERNEL_MEMORY = s.memory;
    if (s.gpus) out.KERNEL_GPUS = s.gpus;
    if (s.workingDir) out.KERNEL_WORKING_DIR = s.workingDir;
    if (s.uid !== undefined) out.KERNEL_UID = String(s.uid);
    if (s.gid !== undefined) out.KERNEL_GID = String(s.gid);
    return out;
  };
  return [e ? of(e) : {}, of(c)];
}

export function containerLaunchParameters(c: DockerEngineConfig, env: LaunchEnvironment): LaunchParameter[] {
  const d = [env.env, ...settingsDefaults(c, env.name)];
  return [
    launchParameter('KERNEL_IMAGE', d, { help: 'Image the kernel container runs' }),
    launchParameter('KERNEL_CPUS', d, { validate: byParser(parseCpus, 'KERNEL_CPUS') }),
    launchParameter('KERNEL_MEMORY', d, { validate: byParser(parseMemory, 'KERNEL_MEMORY') }),
    launchParameter('KERNEL_GPUS', d, { validate: byParser(parseGpus, 'KERNEL_GPUS') }),
    launchParameter('KERNEL_VOLUMES', d, {
      more: true,
      help: 'Extra mounts, comma-separated SOURCE:TARGET[:ro]',
      example: '/data:/home/jovyan/data:ro',
      validate: byParser(parseVolumes, 'KERNEL_VOLUMES'),
    }),
    launchParameter('KERNEL_WORKING_DIR', d, {
      more: true,
      validate: (v) => (v.startsWith('/') ? null : 'must be an absolute path inside the container'),
    }),
    launchParameter('KERNEL_UID', d, { more: true, example: '1000', validate: wholeId }),
    launchParameter('KERNEL_GID', d, { more: true, example: '100', validate: wholeId }),
    launchParameter('KERNEL_LAUNCH_TIMEOUT', d, { more: true }),
  ];
}

/**
 * What only the engine can tell: the image is there, or the cluster may pull it. (GPUs are not checked here:
 * an engine with the NVIDIA toolkit's hook need not list a runtime for them, so `docker info` cannot say no.)
 */
export async function checkContainerLaunch(
  c: DockerEngineConfig,
  env: LaunchEnvironment,
  values: Record<string, string>,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  const docker = engineClient(engineSettingsOf(c));
  const e = c.environments?.find((x) => x.name === env.name);
  const image = values.KERNEL_IMAGE ?? e?.image ?? c.image;
  const present = await docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => (err.statusCode === 404 ? false : null),
    );
  if (present === false && c.pull === 'never')
    problems.push({
      field: 'KERNEL_IMAGE',
      message: `KERNEL_IMAGE: the engine has no image ${image} and this cluster does not pull images`,
    });
  return problems;
}
