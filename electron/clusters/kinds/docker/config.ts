// The docker kind's stored settings: the TypeScript type, the JSON schema ajv checks it with (bound by
// JSONSchemaType), the defaults, and the checks beyond the schema. The engine's TLS files are paths (the key
// file stays where the user keeps it); nothing secret is stored here.
import type { JSONSchemaType } from 'ajv';
import {
  EngineAddressError,
  parseEngineHost,
  type EngineSettings,
} from '../../../../provisioners/docker/engine';
import {
  KernelResourceError,
  parseCpus,
  parseGpus,
  parseMemory,
  parseVolumes,
} from '../../../../provisioners/docker/resources';
import type { StoredCluster } from '../../config-base';
import { parsePortRange } from '../ssh/config';
import type { FieldProblem } from '../types';

/** A kernel environment of a Docker cluster: one kernelspec, its image and resources. */
export interface DockerEnvironment {
  name: string;
  displayName: string;
  language: string;
  /** Default: the cluster's image. */
  image?: string;
  /** The Python in the image with ipykernel (default the cluster's). */
  python?: string;
  /**
   * Any kernel argv with {connection_file} instead of `python -m ipykernel_launcher -f {connection_file}`; with
   * launcher `gateway-provisioners`, the container's command instead of the image's own (GP placeholders).
   */
  argv?: string[];
  /**
   * `gateway-provisioners`: the image carries Gateway Provisioners' bootstrap, run as the image's own command
   * with GP's env contract (Docker clusters only). Unset: our launcher runs the kernel.
   */
  launcher?: 'gateway-provisioners';
  cpus?: number;
  /** e.g. 2g, 512m */
  memory?: string;
  /** A count, or "all". */
  gpus?: string;
  /** SOURCE:TARGET[:ro] items, added to the cluster's. */
  volumes?: string[];
  uid?: number;
  gid?: number;
  workingDir?: string;
  launchTimeoutSec?: number;
  env?: Record<string, string>;
}

export type DockerPull = 'missing' | 'never';

/** Settings of the engine and defaults shared by the docker and swarm kinds. */
export interface DockerEngineConfig {
  /** unix:///path, tcp://host:port or ssh://user@host; unset: DOCKER_HOST, else the local socket. */
  host?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Private key for an ssh:// engine's host (default: ~/.ssh/config, ~/.ssh/id_*; the agent too). */
  identityFile?: string;
  /** The image kernels run in (an environment may name another). */
  image: string;
  /** The Python in the image that runs our launcher and ipykernel. */
  python: string;
  network?: string;
  /** Where this computer dials kernels (default per network mode; docs/docker-clusters.md). */
  kernelAddress?: string;
  cpus?: number;
  memory?: string;
  gpus?: string;
  volumes?: string[];
  pull?: DockerPull;
  launchTimeoutSec?: number;
  portRange?: string;
  environments?: DockerEnvironment[];
}

export interface DockerClusterConfig extends StoredCluster, DockerEngineConfig {
  kind: 'docker';
}

export const DEFAULT_DOCKER_IMAGE = 'quay.io/jupyter/base-notebook';
export const DEFAULT_DOCKER_PYTHON = 'python3';
export const DEFAULT_DOCKER_NETWORK = 'host';
export const DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC = 60;

const optStr = { type: 'string', minLength: 1, nullable: true } as const;
const strList = { type: 'array', items: { type: 'string', minLength: 1 }, nullable: true } as const;

const environmentSchema: JSONSchemaType<DockerEnvironment> = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    language: { type: 'string', minLength: 1 },
    image: optStr,
    python: optStr,
    argv: { ...strList, minItems: 1 },
    launcher: { type: 'string', enum: ['gateway-provisioners'], nullable: true },
    cpus: { type: 'number', exclusiveMinimum: 0, nullable: true },
    memory: optStr,
    gpus: optStr,
    volumes: strList,
    uid: { type: 'integer', minimum: 0, nullable: true },
    gid: { type: 'integer', minimum: 0, nullable: true },
    workingDir: optStr,
    launchTimeoutSec: { type: 'number', exclusiveMinimum: 0, nullable: true },
    env: { type: 'object', required: [], additionalProperties: { type: 'string' }, nullable: true },
  },
  required: ['name', 'displayName', 'language'],
  additionalProperties: false,
};

/** The engine settings' schema properties, for the docker kind and the swarm kind alike. */
export const dockerEngineProperties = {
  host: optStr,
  tlsCa: optStr,
  tlsCert: optStr,
  tlsKey: optStr,
  identityFile: optStr,
  image: { type: 'string', minLength: 1 },
  python: { type: 'string', minLength: 1 },
  network: optStr,
  kernelAddress: optStr,
  cpus: { type: 'number', exclusiveMinimum: 0, nullable: true },
  memory: optStr,
  gpus: optStr,
  volumes: strList,
  pull: { type: 'string', enum: ['missing', 'never'], nullable: true },
  launchTimeoutSec: { type: 'number', exclusiveMinimum: 0, nullable: true },
  portRange: optStr,
  environments: { type: 'array', items: environmentSchema, nullable: true },
} as const;

export const dockerSchema: JSONSchemaType<DockerClusterConfig> = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { type: 'string', const: 'docker' },
    enabled: { type: 'boolean', nullable: true },
    ...dockerEngineProperties,
  },
  required: ['id', 'name', 'kind', 'image', 'python'],
  additionalProperties: false,
};

/** A KernelResourceError's words without the KERNEL_* name (the field names the setting). */
function valueProblem(field: string, check: () => unknown): FieldProblem[] {
  try {
    check();
    return [];
  } catch (err) {
    if (err instanceof KernelResourceError) return [{ field, message: err.message }];
    throw err;
  }
}

/** Checks beyond the schema, each naming the field a user fixes (environments: environments.<i>.<prop>). */
export function checkDockerEngine(c: DockerEngineConfig): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (c.host) {
    try {
      const a = parseEngineHost(c.host, Boolean(c.tlsCa || c.tlsCert || c.tlsKey));
      if (a.kind !== 'tcp' && (c.tlsCa || c.tlsCert || c.tlsKey))
        out.push({ field: 'tlsCa', message: 'TLS files are for a tcp:// engine only' });
      if (a.kind !== 'ssh' && c.identityFile)
        out.push({ field: 'identityFile', message: 'a key file is for an ssh:// engine only' });
    } catch (err) {
      if (!(err instanceof EngineAddressError)) throw err;
      out.push({ field: 'host', message: err.message });
    }
  } else if (c.identityFile)
    out.push({ field: 'identityFile', message: 'a key file is for an ssh://USER@HOST engine only' });
  if (Boolean(c.tlsCert) !== Boolean(c.tlsKey))
    out.push({
      field: c.tlsCert ? 'tlsKey' : 'tlsCert',
      message: 'a client certificate needs its key file, and the key its certificate',
    });
  if (/\s/.test(c.image.trim()))
    out.push({ field: 'image', message: 'an image reference has no spaces, e.g. python:3.12' });
  if (c.memory) out.push(...valueProblem('memory', () => parseMemory(c.memory!, 'memory')));
  if (c.gpus) out.push(...valueProblem('gpus', () => parseGpus(c.gpus!, 'GPUs')));
  if (c.volumes?.length)
    out.push(...valueProblem('volumes', () => parseVolumes(c.volumes!.join(','), 'volumes')));
  if (c.portRange && !parsePortRange(c.portRange))
    out.push({
      field: 'portRange',
      message: `"${c.portRange}" is not a port range: write LO..HI, e.g. 40000..40100`,
    });
  (c.environments ?? []).forEach((e, i) => {
    const at = (prop: string, check: () => unknown): void => {
      for (const p of valueProblem(`environments.${i}.${prop}`, check))
        out.push({ ...p, message: `environment "${e.name}": ${p.message}` });
    };
    if (e.cpus !== undefined) at('cpus', () => parseCpus(String(e.cpus), 'cpus'));
    if (e.memory) at('memory', () => parseMemory(e.memory!, 'memory'));
    if (e.gpus) at('gpus', () => parseGpus(e.gpus!, 'gpus'));
    if (e.volumes?.length) at('volumes', () => parseVolumes(e.volumes!.join(','), 'volumes'));
    if (e.workingDir && !e.workingDir.startsWith('/'))
      out.push({
        field: `environments.${i}.workingDir`,
        message: `environment "${e.name}": the working dir is an absolute path in the container`,
      });
    if (e.argv && !e.launcher && !e.argv.some((a) => a.includes('{connection_file}')))
      out.push({
        field: `environments.${i}.argv`,
        message: `environment "${e.name}": the argv must contain {connection_file}`,
      });
    if (e.name === 'python3' || (c.environments ?? []).findIndex((o) => o.name === e.name) !== i)
      out.push({
        field: `environments.${i}.name`,
        message: `environment "${e.name}": the name is taken; pick another`,
      });
  });
  return out;
}

/** The engine settings in engine.ts's terms. */
export function engineSettingsOf(c: DockerEngineConfig): EngineSettings {
  const tls = c.tlsCa || c.tlsCert || c.tlsKey ? { ca: c.tlsCa, cert: c.tlsCert, key: c.tlsKey } : undefined;
  return {
    ...(c.host ? { host: c.host } : {}),
    ...(tls ? { tls } : {}),
    ...(c.identityFile ? { ssh: { identityFile: c.identityFile } } : {}),
  };
}
