// The swarm kind's settings fields: the docker kind's engine fields (so `npm run cluster -- add swarm NAME
// [--host URL] [--tls-ca F --tls-cert F --tls-key F] [--image IMG] [--python PATH] …` takes the docker flags)
// without the pull policy (a Swarm's nodes pull what they lack; nothing here can stop them), with the Swarm's
// words for network and resources, plus the GPU generic resource kind.
import type { KindFieldInfo, SettingsValues } from '../../../host-api/models';
import { DEFAULT_GPU_RESOURCE } from '../../../../provisioners/docker/swarm-spec';
import { FieldError, type BuildContext } from '../types';
import { DOCKER_ENGINE_FIELDS, dockerEngineConfigOf, dockerEngineValuesOf } from '../docker/fields';
import type { SwarmClusterConfig } from './config';

const SWARM_HELP: Record<string, string> = {
  host: "a Swarm manager's engine: unix:///var/run/docker.sock, tcp://HOST:2376 or ssh://USER@HOST (default: DOCKER_HOST, else the local socket)",
  network:
    'network of kernel services: host (default: the kernel listens on its node) or an overlay network this computer can route to',
  kernelAddress:
    "address this computer dials every kernel at (default: 127.0.0.1 on this computer's own one-node Swarm, else the address of the node that runs the kernel)",
  cpus: 'CPUs per kernel, reserved on a node and the limit (e.g. 2 or 0.5; default: none)',
  memory: 'memory per kernel, reserved on a node and the limit (e.g. 512m, 2g; default: none)',
  gpus: 'GPUs per kernel, reserved as generic resources of the node (a count)',
  launchTimeoutSec: 'seconds a kernel start may take (scheduling and a pull on the node count)',
};

export const SWARM_FIELDS: readonly KindFieldInfo[] = [
  ...DOCKER_ENGINE_FIELDS.filter((f) => f.key !== 'pull').map((f) => {
    const g = SWARM_HELP[f.key] ? { ...f, help: SWARM_HELP[f.key]! } : f;
    return f.key === 'gpus' && f.cli ? { ...g, cli: { ...f.cli, arg: 'N' } } : g;
  }),
  {
    key: 'gpuResource',
    label: 'GPU resource',
    help: `generic resource kind the nodes advertise GPUs as (dockerd node-generic-resources; default ${DEFAULT_GPU_RESOURCE})`,
    type: 'text',
    default: DEFAULT_GPU_RESOURCE,
    section: 'advanced',
    form: { id: 'cf-swarm-gpu-resource', placeholder: DEFAULT_GPU_RESOURCE },
    cli: { flag: 'gpu-resource', arg: 'KIND' },
  },
];

export function swarmConfigOf(values: SettingsValues, ctx: BuildContext): SwarmClusterConfig {
  const prev = ctx.prev as SwarmClusterConfig | null;
  const engine = dockerEngineConfigOf(values, prev);
  delete engine.pull; // not a Swarm setting (see above)
  const cfg: SwarmClusterConfig = {
    id: ctx.id,
    name: ctx.name,
    kind: 'swarm',
    enabled: prev?.enabled ?? true,
    ...engine,
  };
  const gpu = typeof values.gpuResource === 'string' ? values.gpuResource.trim() : '';
  if (gpu && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(gpu))
    throw new FieldError('gpuResource', `"${gpu}" is not a resource kind, e.g. NVIDIA-GPU`);
  if (gpu && gpu !== DEFAULT_GPU_RESOURCE) cfg.gpuResource = gpu;
  return cfg;
}

export function swarmValuesOf(c: SwarmClusterConfig): SettingsValues {
  const { pull: _pull, ...values } = dockerEngineValuesOf(c);
  return { ...values, gpuResource: c.gpuResource ?? DEFAULT_GPU_RESOURCE };
}
