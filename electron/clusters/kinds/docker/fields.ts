// The docker kind's settings fields (labels, help, defaults, CLI flags) and the conversions between their
// values and the stored config. `npm run cluster -- add docker NAME [--host URL] [--tls-ca F --tls-cert F
// --tls-key F] [--image IMG] [--python PATH]` comes from the cli entries here. The engine fields are exported
// for the swarm kind, which talks to an engine the same way.
import type { KindFieldInfo, SettingItem, SettingsValues } from '../../../host-api/models';
import { FieldError, type BuildContext } from '../types';
import {
  DEFAULT_DOCKER_IMAGE,
  DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC,
  DEFAULT_DOCKER_NETWORK,
  DEFAULT_DOCKER_PYTHON,
  type DockerClusterConfig,
  type DockerEngineConfig,
  type DockerEnvironment,
} from './config';
import { dockerEnvironmentItems } from './environments';

const field = (
  key: string,
  label: string,
  help: string,
  section: KindFieldInfo['section'],
  more: Partial<KindFieldInfo> = {},
): KindFieldInfo => ({ key, label, help, type: 'text', section, form: { id: `cf-docker-${key}` }, ...more });

/** The engine and defaults fields, in form order (the docker and swarm kinds share them). */
export const DOCKER_ENGINE_FIELDS: readonly KindFieldInfo[] = [
  field(
    'host',
    'Docker host',
    'engine address: unix:///var/run/docker.sock, tcp://HOST:2376 or ssh://USER@HOST (default: DOCKER_HOST, else the local socket)',
    'connection',
    {
      type: 'url',
      form: { id: 'cf-docker-host', placeholder: 'unix:///var/run/docker.sock' },
      cli: { flag: 'host', arg: 'URL' },
    },
  ),
  field(
    'tlsCa',
    'TLS CA file',
    "PEM file of the CA that signed the engine's certificate (tcp:// with TLS)",
    'connection',
    {
      type: 'path',
      cli: { flag: 'tls-ca', arg: 'F' },
    },
  ),
  field(
    'tlsCert',
    'TLS client certificate',
    'PEM client certificate the engine trusts (tcp:// with TLS)',
    'connection',
    {
      type: 'path',
      cli: { flag: 'tls-cert', arg: 'F' },
    },
  ),
  field('tlsKey', 'TLS client key', 'PEM key of the client certificate (stays in its file)', 'connection', {
    type: 'path',
    cli: { flag: 'tls-key', arg: 'F' },
  }),
  field(
    'identityFile',
    'SSH key file',
    "private key for an ssh:// engine's host (default: the SSH agent, ~/.ssh/config, ~/.ssh/id_*)",
    'connection',
    { type: 'path', cli: { flag: 'identity', arg: 'FILE' } },
  ),
  field('image', 'Image', 'image kernels run in (it needs Python with ipykernel)', 'connection', {
    default: DEFAULT_DOCKER_IMAGE,
    form: { id: 'cf-docker-image', placeholder: DEFAULT_DOCKER_IMAGE },
    cli: { flag: 'image', arg: 'IMG' },
  }),
  field(
    'python',
    'Python in the image',
    'Python inside the image with ipykernel (runs the launcher too)',
    'connection',
    {
      default: DEFAULT_DOCKER_PYTHON,
      form: { id: 'cf-docker-python', placeholder: '/opt/conda/bin/python' },
      cli: { flag: 'python', arg: 'PATH' },
    },
  ),
  field(
    'network',
    'Network',
    'network mode of kernel containers: host (default), bridge or a network name',
    'advanced',
    {
      default: DEFAULT_DOCKER_NETWORK,
      cli: { flag: 'network', arg: 'NAME' },
    },
  ),
  field(
    'kernelAddress',
    'Kernel address',
    "address this computer dials kernels at (default: 127.0.0.1 for a local engine's host network, an SSH tunnel for ssh://, the engine's host for tcp://, the container's IP on other networks)",
    'advanced',
    {
      cli: { flag: 'kernel-address', arg: 'HOST' },
    },
  ),
  field('cpus', 'CPUs', 'CPUs per kernel container (e.g. 2 or 0.5; default: no limit)', 'launch', {
    cli: { flag: 'cpus', arg: 'N' },
  }),
  field(
    'memory',
    'Memory',
    'memory limit per kernel container (e.g. 512m, 2g; default: no limit)',
    'launch',
    {
      cli: { flag: 'memory', arg: 'SIZE' },
    },
  ),
  field(
    'gpus',
    'GPUs',
    'GPUs per kernel container: a count or all (NVIDIA runtime on the engine)',
    'launch',
    {
      cli: { flag: 'gpus', arg: 'N|all' },
    },
  ),
  field(
    'volumes',
    'Volumes',
    'a volume for every kernel container, SOURCE:TARGET[:ro] (repeat for several)',
    'launch',
    {
      type: 'list',
      cli: { flag: 'volume', arg: 'SRC:DST[:ro]' },
    },
  ),
  field(
    // Edited by the kind's form section (customSections.launch) and `npm run cluster -- env ...`.
    'environments',
    'Kernel environments',
    "kernel environments besides the cluster's image: name, display name, image, Python, CPUs, memory, GPUs, volumes, user/group, working dir, launch timeout, variables",
    'launch',
    { type: 'items', default: [], form: { id: 'cf-docker-envs' } },
  ),
  field('pull', 'Pull images', 'missing (pull an image the engine lacks) or never', 'advanced', {
    default: 'missing',
    suggestions: [
      { value: 'missing', hint: 'pull an image the engine does not have' },
      { value: 'never', hint: 'only images already on the engine' },
    ],
    cli: { flag: 'pull', arg: 'missing|never' },
  }),
  field(
    'portRange',
    'Port range',
    'ports the kernel may use, LO..HI (when a firewall wants a range)',
    'advanced',
    {
      cli: { flag: 'port-range', arg: 'LO..HI' },
    },
  ),
  field('launchTimeoutSec', 'Launch timeout', 'seconds a kernel start may take (a pull counts)', 'advanced', {
    type: 'seconds',
    default: DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC,
    cli: { flag: 'launch-timeout', arg: 'S' },
  }),
];

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

function positive(key: string, v: unknown, what: string): number | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || n <= 0) throw new FieldError(key, `"${String(v)}" is not ${what}`);
  return n;
}

const NUMBERS: Record<string, [what: string, integer: boolean]> = {
  cpus: ['a number of CPUs above 0 (e.g. 2 or 0.5)', false],
  uid: ['a user id (a whole number)', true],
  gid: ['a group id (a whole number)', true],
  launchTimeoutSec: ['a positive number of seconds', false],
};

/** One form/CLI value of an environment as stored: trimmed text, numbers, lists without blank lines. */
function envValue(i: number, k: string, val: unknown): unknown {
  if (typeof val === 'string') val = val.trim();
  if (val === '' || val === undefined || val === null) return undefined;
  const num = NUMBERS[k];
  if (num && typeof val === 'string') {
    const n = Number(val);
    const ok = Number.isFinite(n) && (num[1] ? Number.isInteger(n) && n >= 0 : n > 0);
    if (!ok) throw new FieldError(`environments.${i}.${k}`, `"${val}" is not ${num[0]}`);
    return n;
  }
  if (Array.isArray(val)) {
    const list = val.map((x) => (typeof x === 'string' ? x.trim() : x)).filter((x) => x !== '');
    return list.length ? list : undefined;
  }
  if (k === 'env' && typeof val === 'object') {
    const env = Object.fromEntries(Object.entries(val).filter(([name]) => name.trim() !== ''));
    return Object.keys(env).length ? env : undefined;
  }
  return val;
}

/** Form/CLI records -> environments (the schema and checks judge them as built). */
function environmentsOf(v: unknown): DockerEnvironment[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v
    .filter((x): x is SettingItem => typeof x === 'object' && x !== null && !Array.isArray(x))
    .map((item, i) => {
      const e: Record<string, unknown> = { language: 'python' };
      for (const [k, val] of Object.entries(item)) {
        const out = envValue(i, k, val);
        if (out !== undefined) e[k] = out;
      }
      return e as unknown as DockerEnvironment;
    });
}

/** Field values -> the engine settings (shared with the swarm kind). */
export function dockerEngineConfigOf(
  values: SettingsValues,
  prev: DockerEngineConfig | null,
): DockerEngineConfig {
  const c: DockerEngineConfig = {
    image: str(values.image) ?? DEFAULT_DOCKER_IMAGE,
    python: str(values.python) ?? DEFAULT_DOCKER_PYTHON,
  };
  for (const k of [
    'host',
    'tlsCa',
    'tlsCert',
    'tlsKey',
    'identityFile',
    'kernelAddress',
    'memory',
    'gpus',
    'portRange',
  ] as const) {
    const v = str(values[k]);
    if (v) c[k] = v;
  }
  const network = str(values.network);
  if (network && network !== DEFAULT_DOCKER_NETWORK) c.network = network;
  const cpus = positive('cpus', values.cpus, 'a number of CPUs above 0 (e.g. 2 or 0.5)');
  if (cpus !== undefined) c.cpus = cpus;
  const vols = Array.isArray(values.volumes)
    ? values.volumes.filter((x): x is string => typeof x === 'string' && x.trim() !== '')
    : [];
  if (vols.length) c.volumes = vols.map((x) => x.trim());
  const pull = str(values.pull);
  if (pull === 'never') c.pull = 'never';
  else if (pull && pull !== 'missing') throw new FieldError('pull', `"${pull}": choose missing or never`);
  const t = positive('launchTimeoutSec', values.launchTimeoutSec, 'a positive number of seconds');
  if (t !== undefined) c.launchTimeoutSec = t;
  // Input without the field (an older form, `cluster add`) keeps the saved environments; a list replaces them.
  const envs = environmentsOf(values.environments) ?? prev?.environments?.map((e) => ({ ...e }));
  if (envs?.length) c.environments = envs;
  return c;
}

export function dockerConfigOf(values: SettingsValues, ctx: BuildContext): DockerClusterConfig {
  const prev = ctx.prev as DockerClusterConfig | null;
  return {
    id: ctx.id,
    name: ctx.name,
    kind: 'docker',
    enabled: prev?.enabled ?? true,
    ...dockerEngineConfigOf(values, prev),
  };
}

/** Stored engine settings -> field values. */
export function dockerEngineValuesOf(c: DockerEngineConfig): SettingsValues {
  return {
    host: c.host ?? '',
    tlsCa: c.tlsCa ?? '',
    tlsCert: c.tlsCert ?? '',
    tlsKey: c.tlsKey ?? '',
    identityFile: c.identityFile ?? '',
    image: c.image,
    python: c.python,
    network: c.network ?? DEFAULT_DOCKER_NETWORK,
    kernelAddress: c.kernelAddress ?? '',
    cpus: c.cpus !== undefined ? String(c.cpus) : '',
    memory: c.memory ?? '',
    gpus: c.gpus ?? '',
    volumes: [...(c.volumes ?? [])],
    pull: c.pull ?? 'missing',
    portRange: c.portRange ?? '',
    launchTimeoutSec: c.launchTimeoutSec ?? DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC,
    // The form's launch section (DockerEnvironments) and `npm run cluster -- env ...` edit them here.
    environments: dockerEnvironmentItems(c.environments),
  };
}
