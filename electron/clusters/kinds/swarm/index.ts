// The `swarm` cluster kind: one Swarm service per kernel, created through a manager's engine API
// (electron/clusters/swarm/, provisioners/docker/swarm-*.ts). Engine settings, image and resources are the
// docker kind's; a Swarm reserves CPUs, memory and GPUs on the node it places the kernel on.
import type { StoredCluster } from '../../config-base';
import { describeEngine } from '../../../../provisioners/docker/engine';
import { diagnoseSwarm } from '../../swarm/diagnose-swarm';
import { SwarmCluster } from '../../swarm/swarm-cluster';
import { parseSwarmKept } from '../../swarm/swarm-kept';
import { SWARM_PROVISIONER_NAME } from '../../../../provisioners/docker/swarm-provisioner';
import { engineSettingsOf } from '../docker/config';
import { dockerEnvironments } from '../docker/environments';
import { dockerFieldOfPath } from '../docker';
import { checkContainerLaunch, containerLaunchParameters } from '../docker/launch';
import type { ClusterKindDescriptor } from '../types';
import { checkSwarm, swarmSchema, type SwarmClusterConfig } from './config';
import { SWARM_FIELDS, swarmConfigOf, swarmValuesOf } from './fields';

export type { SwarmClusterConfig } from './config';

export const swarmKind: ClusterKindDescriptor<SwarmClusterConfig> = {
  kind: 'swarm',
  label: 'Docker Swarm',
  summary:
    'one Swarm service per kernel, placed by the Swarm on a node with the CPUs, memory and GPUs asked for',
  remote: true,
  addableFromForm: true,
  intro:
    "Each kernel runs as its own Swarm service on a node the Swarm picks (with the CPUs, memory and GPUs it asks for). Point the cluster at a manager's engine; the image needs Python with ipykernel.",
  schema: swarmSchema,
  // The launch section draws the Kernel defaults fields and the environments (renderer DockerEnvironments).
  customSections: { launch: 'docker-environments' },
  fields: SWARM_FIELDS,
  // The docker kind's editor: `npm run cluster -- env …`, and env import of docker-swarm-provisioner kernelspecs.
  environments: dockerEnvironments<SwarmClusterConfig>(SWARM_PROVISIONER_NAME),
  is: (cfg: StoredCluster): cfg is SwarmClusterConfig => cfg.kind === 'swarm',
  build: swarmConfigOf,
  values: swarmValuesOf,
  secretsSet: () => ({}),
  check: checkSwarm,
  fieldOfPath: (path) => (path.startsWith('/gpuResource') ? 'gpuResource' : dockerFieldOfPath(path)),
  secretKeys: () => [],
  where: (c) => `Swarm via ${describeEngine(engineSettingsOf(c)).replace(/^the /, '')}`,
  url: (c) => c.host ?? null,
  launchSettings: () => ({}),
  launchParameters: (c, env) => containerLaunchParameters(c, env),
  checkLaunchParameters: (c, env, values) => checkContainerLaunch(c, env, values),
  createRuntime: (cfg, opts) => {
    if (!opts.installId)
      throw new Error('Swarm clusters need the app install id (RuntimeFactoryOptions.installId)');
    return new SwarmCluster(cfg, { installId: opts.installId });
  },
  diagnose: (cfg) => diagnoseSwarm(cfg),
  // No drop: a service that could not be re-attached may hold work; the error says how to remove it.
  kept: { parse: parseSwarmKept },
};
