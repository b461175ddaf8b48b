// Cluster configuration: the shapes kept in clusters.json, their JSON schema (checked with ajv), defaults,
// and the rules that keep a gateway cluster's settings consistent (timeouts, KERNEL_* launch parameters).
// Secrets (tokens, passwords, key passphrases) are never stored here: a config names them by key and the
// secret store (electron/secrets) holds the values.
import { Ajv, type ErrorObject } from 'ajv';
import { userInfo } from 'node:os';

export type ClusterKind = 'local' | 'gateway';

interface ClusterBase {
  /** Stable id: lowercase letters, digits and '-' (used in pinned kernelspec names and secret keys). */
  id: string;
  /** Display name the user picked; unique (case-insensitive) within the store. */
  name: string;
  /** Disabled clusters are kept but not offered (their kernelspecs are not listed). Default true. */
  enabled?: boolean;
}

export interface LocalClusterConfig extends ClusterBase {
  kind: 'local';
  /** Extra kernelspec directories searched besides the standard Jupyter data paths. */
  kernelspecDirs?: string[];
}

export interface GatewayAuthConfig {
  /** Header that carries the token. Default `Authorization`. */
  headerName: string;
  /** Scheme written before the token. Default `token` (Kernel/Enterprise Gateway); `Bearer` for some proxies. */
  scheme: string;
  /** Key of the token in the secret store, when a token is set. */
  tokenSecret?: string;
}

export interface GatewayBasicAuthConfig {
  user: string;
  /** Key of the password in the secret store. */
  passwordSecret?: string;
}

export interface GatewayTlsConfig {
  /** Verify the server certificate (default true). Turning this off is the `--insecure` escape hatch. */
  validate: boolean;
  /** PEM bundle of extra certificate authorities to trust (a university's own CA, a self-signed server). */
  caFile?: string;
  /** Client certificate (PEM) for mutual TLS. */
  clientCertFile?: string;
  /** Client private key (PEM) for mutual TLS. */
  clientKeyFile?: string;
  /** Key of the client key's passphrase in the secret store. */
  keyPassphraseSecret?: string;
}

/** Timeouts in milliseconds. request >= launch + launchPad always holds (see normalizeTimeouts). */
export interface GatewayTimeouts {
  connectMs: number;
  requestMs: number;
  launchMs: number;
  launchPadMs: number;
}

export interface LaunchParam {
  name: string;
  value: string;
}

export interface GatewayEndpoints {
  kernels: string;
  kernelspecs: string;
  kernelspecResources: string;
}

export interface GatewayClusterConfig extends ClusterBase {
  kind: 'gateway';
  /** http(s) base URL of the gateway, possibly with a base path (`https://gw.example.edu/jupyter`). */
  url: string;
  /** ws(s) base URL when it differs from `url` with http→ws. */
  wsUrl?: string;
  auth: GatewayAuthConfig;
  basicAuth?: GatewayBasicAuthConfig;
  /** Extra headers sent with every request and on the WebSocket handshake. */
  headers: Record<string, string>;
  tls: GatewayTlsConfig;
  /**
   * KERNEL_USERNAME sent with every start (and `?user=` of the kernelspec listing); wins over the client's.
   * Unset: the client's, else the basic-auth user, else the OS user (gateway/username.ts).
   */
  kernelUsername?: string;
  timeouts: GatewayTimeouts;
  /** KERNEL_* variables sent with every kernel start. */
  launchParams: LaunchParam[];
  /** Other environment variable names a client may forward with a start (besides KERNEL_*). */
  forwardEnv: string[];
  endpoints?: GatewayEndpoints;
  /** Poll of the upstream /api/kernels in ms (status + kernels started by other clients). 0 turns it off. */
  pollIntervalMs?: number;
}

export type ClusterConfig = LocalClusterConfig | GatewayClusterConfig;

export interface ClustersFile {
  version: 1;
  activeClusterId: string;
  clusters: ClusterConfig[];
}

export const LOCAL_CLUSTER_ID = 'local';
export const LOCAL_CLUSTER_NAME = 'This computer';

export const DEFAULT_ENDPOINTS: GatewayEndpoints = {
  kernels: '/api/kernels',
  kernelspecs: '/api/kernelspecs',
  kernelspecResources: '/kernelspecs',
};

/** jupyter_server's GatewayClient defaults: connect 40 s, request 42 s, KERNEL_LAUNCH_TIMEOUT 40 s, pad 2 s. */
export const DEFAULT_TIMEOUTS: GatewayTimeouts = {
  connectMs: 20_000,
  requestMs: 42_000,
  launchMs: 40_000,
  launchPadMs: 2_000,
};

export const DEFAULT_POLL_INTERVAL_MS = 5_000;

export function defaultClustersFile(): ClustersFile {
  return {
    version: 1,
    activeClusterId: LOCAL_CLUSTER_ID,
    clusters: [{ id: LOCAL_CLUSTER_ID, name: LOCAL_CLUSTER_NAME, kind: 'local' }],
  };
}

// ---------------------------------------------------------------------------------------------------
// Launch parameters (KERNEL_* variables)

export interface KnownLaunchParam {
  name: string;
  description: string;
  /** Returns an error message, or null when the value is acceptable. */
  validate: (value: string) => string | null;
  example: string;
}

const positiveNumber = (v: string): string | null =>
  /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 ? null : 'must be a positive number';
const nonNegativeInt = (v: string): string | null => (/^\d+$/.test(v) ? null : 'must be a whole number');
const memory = (v: string): string | null =>
  /^\d+(\.\d+)?([KMGTP]i?)?$/i.test(v) ? null : 'must be an amount like 2G, 512Mi or 4096M';
const dnsLabel = (v: string): string | null =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)
    ? null
    : 'must be a lowercase name of letters, digits and "-" (a Kubernetes namespace)';
const nonEmpty = (v: string): string | null => (v.trim() ? null : 'must not be empty');
const jsonArray = (v: string): string | null => {
  try {
    return Array.isArray(JSON.parse(v)) ? null : 'must be a JSON list, e.g. [{"name": ...}]';
  } catch {
    return 'must be a JSON list, e.g. [{"name": ...}]';
  }
};
const absPath = (v: string): string | null => (v.startsWith('/') ? null : 'must be an absolute path');

export const KNOWN_LAUNCH_PARAMS: readonly KnownLaunchParam[] = [
  {
    name: 'KERNEL_IMAGE',
    description: 'Container image of the kernel',
    validate: nonEmpty,
    example: 'elyra/kernel-py:3.2.3',
  },
  {
    name: 'KERNEL_EXECUTOR_IMAGE',
    description: 'Container image of Spark executors',
    validate: nonEmpty,
    example: 'elyra/kernel-spark-py:3.2.3',
  },
  {
    name: 'KERNEL_CPUS',
    description: 'CPUs requested for the kernel',
    validate: positiveNumber,
    example: '2',
  },
  { name: 'KERNEL_MEMORY', description: 'Memory requested for the kernel', validate: memory, example: '4G' },
  {
    name: 'KERNEL_GPUS',
    description: 'GPUs requested for the kernel',
    validate: nonNegativeInt,
    example: '1',
  },
  {
    name: 'KERNEL_CPUS_LIMIT',
    description: 'CPU limit of the kernel',
    validate: positiveNumber,
    example: '4',
  },
  { name: 'KERNEL_MEMORY_LIMIT', description: 'Memory limit of the kernel', validate: memory, example: '8G' },
  {
    name: 'KERNEL_GPUS_LIMIT',
    description: 'GPU limit of the kernel',
    validate: nonNegativeInt,
    example: '1',
  },
  {
    name: 'KERNEL_NAMESPACE',
    description: 'Kubernetes namespace of the kernel pod',
    validate: dnsLabel,
    example: 'alice-kernels',
  },
  {
    name: 'KERNEL_SERVICE_ACCOUNT_NAME',
    description: 'Kubernetes service account of the kernel pod',
    validate: dnsLabel,
    example: 'default',
  },
  {
    name: 'KERNEL_LAUNCH_TIMEOUT',
    description:
      'Seconds the gateway waits for the kernel to start (kept consistent with the request timeout)',
    validate: positiveNumber,
    example: '40',
  },
  {
    name: 'KERNEL_VOLUMES',
    description: 'Volumes for the kernel pod (JSON list)',
    validate: jsonArray,
    example: '[{"name": "data", "hostPath": {"path": "/data"}}]',
  },
  {
    name: 'KERNEL_VOLUME_MOUNTS',
    description: 'Volume mounts for the kernel container (JSON list)',
    validate: jsonArray,
    example: '[{"name": "data", "mountPath": "/data"}]',
  },
  {
    name: 'KERNEL_UID',
    description: 'User id the kernel runs as',
    validate: nonNegativeInt,
    example: '1000',
  },
  {
    name: 'KERNEL_GID',
    description: 'Group id the kernel runs as',
    validate: nonNegativeInt,
    example: '100',
  },
  {
    name: 'KERNEL_WORKING_DIR',
    description: 'Working directory of the kernel on the gateway side',
    validate: absPath,
    example: '/home/alice/work',
  },
  {
    name: 'KERNEL_REMOTE_HOST',
    description: 'Host the kernel should run on (overrides load balancing)',
    validate: nonEmpty,
    example: 'node7',
  },
  {
    name: 'KERNEL_EXTRA_SPARK_OPTS',
    description: 'Extra spark-submit options',
    validate: nonEmpty,
    example: '--conf spark.executor.instances=2',
  },
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Enterprise Gateway rejects values with these characters (and values longer than 4096). */
const FORBIDDEN_VALUE = /[$`\r\n\0]/;

/** Validate one launch parameter; returns an error message or null. */
export function validateLaunchParam(p: LaunchParam): string | null {
  if (!/^KERNEL_[A-Z0-9_]+$/.test(p.name)) {
    return `${p.name}: launch parameters are KERNEL_* variables (upper case); use "forward env" for other names`;
  }
  if (p.name === 'KERNEL_USERNAME') {
    return "KERNEL_USERNAME: set it as the cluster's username instead (the KERNEL_USERNAME field of the cluster settings; CLI: --username U, or npm run cluster -- set NAME --username U)";
  }
  if (p.name === 'KERNEL_ID') return "KERNEL_ID: set by the app (it is the kernel's id, one per kernel)";
  if (p.value.length > 4096) return `${p.name}: value is longer than 4096 characters`;
  if (FORBIDDEN_VALUE.test(p.value))
    return `${p.name}: value must not contain $, a backtick, a line break or NUL`;
  const known = KNOWN_LAUNCH_PARAMS.find((k) => k.name === p.name);
  if (known) {
    const err = known.validate(p.value);
    if (err) return `${p.name} ${err} (e.g. ${known.example})`;
  }
  return null;
}

/**
 * Keep the three gateway timeouts consistent the way jupyter_server's GatewayClient does:
 * request >= launch + pad. A request timeout that is too small is raised; launch and pad stay as asked.
 * connect is capped at request.
 */
export function normalizeTimeouts(t: Partial<GatewayTimeouts>): GatewayTimeouts {
  const launchPadMs = t.launchPadMs ?? DEFAULT_TIMEOUTS.launchPadMs;
  const launchMs = t.launchMs ?? DEFAULT_TIMEOUTS.launchMs;
  let requestMs = t.requestMs ?? Math.max(DEFAULT_TIMEOUTS.requestMs, launchMs + launchPadMs);
  if (requestMs < launchMs + launchPadMs) requestMs = launchMs + launchPadMs;
  const connectMs = Math.min(t.connectMs ?? DEFAULT_TIMEOUTS.connectMs, requestMs);
  return { connectMs, requestMs, launchMs, launchPadMs };
}

export function defaultKernelUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'jovyan';
  }
}

// ---------------------------------------------------------------------------------------------------
// Ids and names

/** A cluster id from a display name: lowercase letters, digits and '-', never empty. */
export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return s || 'cluster';
}

export function uniqueClusterId(name: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const base = slugify(name);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

export const secretKeys = {
  token: (clusterId: string): string => `cluster/${clusterId}/token`,
  password: (clusterId: string): string => `cluster/${clusterId}/http-password`,
  keyPassphrase: (clusterId: string): string => `cluster/${clusterId}/key-passphrase`,
};

// ---------------------------------------------------------------------------------------------------
// Building a gateway config from user input

export interface GatewayInput {
  id?: string;
  name: string;
  url: string;
  wsUrl?: string;
  authHeaderName?: string;
  authScheme?: string;
  tokenSecret?: string;
  httpUser?: string;
  passwordSecret?: string;
  headers?: Record<string, string>;
  validateCert?: boolean;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  keyPassphraseSecret?: string;
  kernelUsername?: string;
  timeouts?: Partial<GatewayTimeouts>;
  launchParams?: LaunchParam[];
  forwardEnv?: string[];
  endpoints?: Partial<GatewayEndpoints>;
  pollIntervalMs?: number;
}

export function makeGatewayConfig(
  input: GatewayInput,
  takenIds: Iterable<string> = [],
): GatewayClusterConfig {
  const cfg: GatewayClusterConfig = {
    id: input.id ?? uniqueClusterId(input.name, takenIds),
    name: input.name.trim(),
    kind: 'gateway',
    enabled: true,
    url: input.url.trim().replace(/\/+$/, ''),
    auth: {
      headerName: input.authHeaderName ?? 'Authorization',
      scheme: input.authScheme ?? 'token',
      ...(input.tokenSecret ? { tokenSecret: input.tokenSecret } : {}),
    },
    headers: input.headers ?? {},
    tls: {
      validate: input.validateCert ?? true,
      ...(input.caFile ? { caFile: input.caFile } : {}),
      ...(input.clientCertFile ? { clientCertFile: input.clientCertFile } : {}),
      ...(input.clientKeyFile ? { clientKeyFile: input.clientKeyFile } : {}),
      ...(input.keyPassphraseSecret ? { keyPassphraseSecret: input.keyPassphraseSecret } : {}),
    },
    timeouts: normalizeTimeouts(input.timeouts ?? {}),
    launchParams: input.launchParams ?? [],
    forwardEnv: input.forwardEnv ?? [],
  };
  if (input.wsUrl) cfg.wsUrl = input.wsUrl.trim().replace(/\/+$/, '');
  if (input.httpUser) {
    cfg.basicAuth = {
      user: input.httpUser,
      ...(input.passwordSecret ? { passwordSecret: input.passwordSecret } : {}),
    };
  }
  if (input.kernelUsername) cfg.kernelUsername = input.kernelUsername;
  if (input.endpoints) cfg.endpoints = { ...DEFAULT_ENDPOINTS, ...input.endpoints };
  if (input.pollIntervalMs !== undefined) cfg.pollIntervalMs = input.pollIntervalMs;
  const problems = checkCluster(cfg);
  if (problems.length) throw new ConfigError(problems.join('; '));
  return cfg;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------------
// Schema (structure) + semantic checks (URL, launch params, headers, uniqueness)

const stringMap = {
  type: 'object',
  required: [],
  additionalProperties: { type: 'string' },
} as const;

const localSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { type: 'string', const: 'local' },
    enabled: { type: 'boolean', nullable: true },
    kernelspecDirs: { type: 'array', items: { type: 'string', minLength: 1 }, nullable: true },
  },
  required: ['id', 'name', 'kind'],
  additionalProperties: false,
} as const;

const gatewaySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { type: 'string', const: 'gateway' },
    enabled: { type: 'boolean', nullable: true },
    url: { type: 'string', pattern: '^https?://' },
    wsUrl: { type: 'string', pattern: '^wss?://', nullable: true },
    auth: {
      type: 'object',
      properties: {
        headerName: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
        scheme: { type: 'string' },
        tokenSecret: { type: 'string', nullable: true },
      },
      required: ['headerName', 'scheme'],
      additionalProperties: false,
    },
    basicAuth: {
      type: 'object',
      properties: {
        user: { type: 'string', minLength: 1 },
        passwordSecret: { type: 'string', nullable: true },
      },
      required: ['user'],
      additionalProperties: false,
      nullable: true,
    },
    headers: stringMap,
    tls: {
      type: 'object',
      properties: {
        validate: { type: 'boolean' },
        caFile: { type: 'string', nullable: true },
        clientCertFile: { type: 'string', nullable: true },
        clientKeyFile: { type: 'string', nullable: true },
        keyPassphraseSecret: { type: 'string', nullable: true },
      },
      required: ['validate'],
      additionalProperties: false,
    },
    kernelUsername: { type: 'string', nullable: true },
    timeouts: {
      type: 'object',
      properties: {
        connectMs: { type: 'integer', minimum: 100 },
        requestMs: { type: 'integer', minimum: 100 },
        launchMs: { type: 'integer', minimum: 100 },
        launchPadMs: { type: 'integer', minimum: 0 },
      },
      required: ['connectMs', 'requestMs', 'launchMs', 'launchPadMs'],
      additionalProperties: false,
    },
    launchParams: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, value: { type: 'string' } },
        required: ['name', 'value'],
        additionalProperties: false,
      },
    },
    forwardEnv: { type: 'array', items: { type: 'string' } },
    endpoints: {
      type: 'object',
      properties: {
        kernels: { type: 'string', pattern: '^/' },
        kernelspecs: { type: 'string', pattern: '^/' },
        kernelspecResources: { type: 'string', pattern: '^/' },
      },
      required: ['kernels', 'kernelspecs', 'kernelspecResources'],
      additionalProperties: false,
      nullable: true,
    },
    pollIntervalMs: { type: 'integer', minimum: 0, nullable: true },
  },
  required: ['id', 'name', 'kind', 'url', 'auth', 'headers', 'tls', 'timeouts', 'launchParams', 'forwardEnv'],
  additionalProperties: false,
} as const;

const fileSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer', const: 1 },
    activeClusterId: { type: 'string' },
    clusters: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { type: 'string', enum: ['local', 'gateway'] } },
        discriminator: { propertyName: 'kind' },
        oneOf: [localSchema, gatewaySchema],
      },
    },
  },
  required: ['version', 'activeClusterId', 'clusters'],
  additionalProperties: false,
};

const ajv = new Ajv({ allErrors: true, discriminator: true, strict: false });
const validateFile = ajv.compile(fileSchema);

function describeAjvError(e: ErrorObject, data: unknown): string {
  // instancePath like /clusters/1/url -> clusters[1].url; name the cluster when we can.
  const parts = e.instancePath.split('/').filter(Boolean);
  let where = '';
  for (const p of parts) where += /^\d+$/.test(p) ? `[${p}]` : where ? `.${p}` : p;
  const m = /^\/clusters\/(\d+)/.exec(e.instancePath);
  let cluster = '';
  if (m && typeof data === 'object' && data !== null) {
    const list = (data as { clusters?: unknown }).clusters;
    const item = Array.isArray(list) ? (list[Number(m[1])] as { name?: unknown } | undefined) : undefined;
    if (item && typeof item.name === 'string') cluster = ` (cluster "${item.name}")`;
  }
  let msg = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties')
    msg = `has an unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'required') msg = `is missing the field "${String(e.params.missingProperty)}"`;
  if (e.keyword === 'pattern' && where.endsWith('url')) msg = 'must start with http:// or https://';
  if (e.keyword === 'pattern' && where.endsWith('wsUrl')) msg = 'must start with ws:// or wss://';
  return `${where || 'the file'}${cluster} ${msg}`;
}

/** Semantic checks for one cluster beyond the schema. Returns a list of problems in words. */
export function checkCluster(c: ClusterConfig): string[] {
  const out: string[] = [];
  if (c.kind !== 'gateway') return out;
  const label = `cluster "${c.name}"`;
  try {
    const u = new URL(c.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      out.push(`${label}: the URL must start with http:// or https://`);
    if (u.search || u.hash) out.push(`${label}: the URL must not have a ?query or #fragment`);
  } catch {
    out.push(`${label}: "${c.url}" is not a valid URL (e.g. https://gateway.example.edu:8888)`);
  }
  if (c.wsUrl) {
    try {
      new URL(c.wsUrl);
    } catch {
      out.push(`${label}: "${c.wsUrl}" is not a valid WebSocket URL`);
    }
  }
  for (const [k, v] of Object.entries(c.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) out.push(`${label}: header name "${k}" is not valid`);
    if (/[\r\n\0]/.test(v)) out.push(`${label}: header "${k}" has a line break in its value`);
  }
  for (const p of c.launchParams) {
    const err = validateLaunchParam(p);
    if (err) out.push(`${label}: ${err}`);
  }
  for (const n of c.forwardEnv)
    if (!ENV_NAME.test(n)) out.push(`${label}: "${n}" is not an environment variable name`);
  const t = c.timeouts;
  if (t.requestMs < t.launchMs + t.launchPadMs) {
    out.push(`${label}: the request timeout must be at least the launch timeout plus the pad`);
  }
  if ((c.tls.clientCertFile === undefined) !== (c.tls.clientKeyFile === undefined)) {
    out.push(`${label}: a client certificate needs both the certificate and the key file`);
  }
  return out;
}

/**
 * Validate parsed clusters.json content. Returns the typed file or a list of problems in words
 * (paths like `clusters[1].url`, naming the cluster).
 */
export function validateClustersFile(
  data: unknown,
): { ok: true; value: ClustersFile } | { ok: false; problems: string[] } {
  if (!validateFile(data)) {
    const errs = (validateFile.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
    const problems = [...new Set(errs.map((e) => describeAjvError(e, data)))];
    return {
      ok: false,
      problems: problems.length ? problems : ['the file does not have the expected structure'],
    };
  }
  const file = data as unknown as ClustersFile;
  const problems: string[] = [];
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const c of file.clusters) {
    if (ids.has(c.id)) problems.push(`two clusters have the id "${c.id}"`);
    if (names.has(c.name.toLowerCase())) problems.push(`two clusters are named "${c.name}"`);
    ids.add(c.id);
    names.add(c.name.toLowerCase());
    problems.push(...checkCluster(c));
  }
  if (!ids.has(file.activeClusterId))
    problems.push(`activeClusterId "${file.activeClusterId}" is not one of the clusters`);
  return problems.length ? { ok: false, problems } : { ok: true, value: file };
}
