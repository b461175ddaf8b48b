// The swarm kind's stored settings: the docker kind's engine settings, environments and resources (one engine
// API, one way to describe a kernel's image and resources) plus what only a Swarm has: the generic resource
// kind GPUs are reserved as. The schema is bound to the type by JSONSchemaType, as for every kind.
import type { JSONSchemaType } from 'ajv';
import type { StoredCluster } from '../../config-base';
import { checkDockerEngine, dockerEngineProperties, type DockerEngineConfig } from '../docker/config';
import type { FieldProblem } from '../types';

export interface SwarmClusterConfig extends StoredCluster, DockerEngineConfig {
  kind: 'swarm';
  /** The nodes' generic resource kind for GPUs (dockerd's node-generic-resources), default NVIDIA-GPU. */
  gpuResource?: string;
}

export const swarmSchema: JSONSchemaType<SwarmClusterConfig> = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { type: 'string', const: 'swarm' },
    enabled: { type: 'boolean', nullable: true },
    ...dockerEngineProperties,
    gpuResource: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', nullable: true },
  },
  required: ['id', 'name', 'kind', 'image', 'python'],
  additionalProperties: false,
};

/** The docker kind's checks, and what a Swarm cannot do: reserve "all" GPUs (it reserves a count). */
export function checkSwarm(c: SwarmClusterConfig): FieldProblem[] {
  const out = checkDockerEngine(c);
  const all = (v: string | undefined): boolean => ['all', '-1'].includes((v ?? '').trim().toLowerCase());
  if (all(c.gpus))
    out.push({ field: 'gpus', message: 'a Swarm reserves a number of GPUs: give a count, e.g. 1' });
  (c.environments ?? []).forEach((e, i) => {
    if (all(e.gpus))
      out.push({
        field: `environments.${i}.gpus`,
        message: `environment "${e.name}": a Swarm reserves a number of GPUs: give a count, e.g. 1`,
      });
  });
  return out;
}
