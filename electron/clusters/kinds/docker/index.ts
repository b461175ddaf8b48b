// The `docker` cluster kind: one container per kernel on a Docker Engine (electron/clusters/docker/,
// provisioners/docker/), from the cluster's or an environment's image, with CPUs, memory, GPUs and volumes.
import type { StoredCluster } from '../../config-base';
import { DockerCluster } from '../../docker/docker-cluster';
import { diagnoseDocker } from '../../docker/diagnose-docker';
import { parseDockerKept } from '../../docker/docker-kept';
import { describeEngine } from '../../../../provisioners/docker/engine';
import { checkContainerLaunch, containerLaunchParameters } from './launch';
import type { ClusterKindDescriptor } from '../types';
import { checkDockerEngine, dockerSchema, engineSettingsOf, type DockerClusterConfig } from './config';
import { DOCKER_ENGINE_FIELDS, dockerConfigOf, dockerEngineValuesOf } from './fields';
import { dockerEnvironments } from './environments';
import { DOCKER_PROVISIONER_NAME } from '../../../../provisioners/docker/docker-provisioner';

export type { DockerClusterConfig } from './config';

/** Schema paths -> field keys (environments.<i>.<property> for an environment). */
export function dockerFieldOfPath(path: string): string {
  const env = /^\/environments\/(\d+)(?:\/([A-Za-z]+))?/.exec(path);
  if (env) return `environments.${env[1]}.${env[2] ?? 'name'}`;
  const top = /^\/([A-Za-z]+)/.exec(path)?.[1];
  return top && DOCKER_ENGINE_FIELDS.some((f) => f.key === top) ? top : 'host';
}

export const dockerKind: ClusterKindDescriptor<DockerClusterConfig> = {
  kind: 'docker',
  label: 'Docker',
  summary: 'one container per kernel on a Docker Engine (local, tcp:// with TLS, ssh://)',
  remote: true,
  addableFromForm: true,
  intro:
    "Each kernel runs in its own container on a Docker Engine: this computer's, or a lab server's. The image needs Python with ipykernel; the app copies its small launcher into each container.",
  schema: dockerSchema,
  // The launch section draws the Kernel defaults fields and the environments (renderer DockerEnvironments).
  customSections: { launch: 'docker-environments' },
  fields: DOCKER_ENGINE_FIELDS,
  environments: dockerEnvironments<DockerClusterConfig>(DOCKER_PROVISIONER_NAME),
  is: (cfg: StoredCluster): cfg is DockerClusterConfig => cfg.kind === 'docker',
  build: dockerConfigOf,
  values: dockerEngineValuesOf,
  secretsSet: () => ({}),
  check: checkDockerEngine,
  fieldOfPath: dockerFieldOfPath,
  secretKeys: () => [],
  where: (c) => describeEngine(engineSettingsOf(c)).replace(/^the /, ''),
  url: (c) => c.host ?? null,
  launchSettings: () => ({}),
  launchParameters: (c, env) => containerLaunchParameters(c, env),
  checkLaunchParameters: (c, env, values) => checkContainerLaunch(c, env, values),
  createRuntime: (cfg, opts) => {
    if (!opts.installId)
      throw new Error('Docker clusters need the app install id (RuntimeFactoryOptions.installId)');
    return new DockerCluster(cfg, { installId: opts.installId });
  },
  diagnose: (cfg) => diagnoseDocker(cfg),
  // No drop: a container that could not be re-attached may hold work; the error says how to remove it.
  kept: { parse: (d) => parseDockerKept(d) },
};
