// The gateway kind's stored settings: their shape (the TypeScript type, and the JSON schema ajv checks it with,
// bound to each other by ajv's JSONSchemaType so they cannot drift), defaults, the timeout rule and the
// semantic checks. Secrets are never stored here: a config names them by key (secretKeys).
import type { JSONSchemaType } from 'ajv';
import { userInfo } from 'node:os';
import { ConfigError, uniqueClusterId, type StoredCluster } from '../../config-base';
import type { FieldProblem } from '../types';
import { ENV_NAME, validateLaunchParam, type LaunchParam } from './launch-params';

export type { LaunchParam } from './launch-params';

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

export interface GatewayEndpoints {
  kernels: string;
  kernelspecs: string;
  kernelspecResources: string;
}

export interface GatewayClusterConfig extends StoredCluster {
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
/**
 * The timeouts as given, with defaults for the ones left out (request: at least launch + pad). Unlike
 * normalizeTimeouts, a request timeout that was given too small is kept, so checkGateway refuses it: the CLI
 * and the form give the same verdict on the same numbers.
 */
function timeoutsOf(t: Partial<GatewayTimeouts>): GatewayTimeouts {
  if (t.requestMs === undefined) return normalizeTimeouts(t);
  const n = normalizeTimeouts(t);
  return {
    ...n,
    requestMs: t.requestMs,
    connectMs: Math.min(t.connectMs ?? DEFAULT_TIMEOUTS.connectMs, t.requestMs),
  };
}

export function defaultKernelUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'jovyan';
  }
}

export const secretKeys = {
  token: (clusterId: string): string => `cluster/${clusterId}/token`,
  password: (clusterId: string): string => `cluster/${clusterId}/http-password`,
  keyPassphrase: (clusterId: string): string => `cluster/${clusterId}/key-passphrase`,
};

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
  opts: { check?: boolean } = {},
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
    timeouts: timeoutsOf(input.timeouts ?? {}),
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
  const problems = opts.check === false ? [] : checkGateway(cfg);
  if (problems.length)
    throw new ConfigError(problems.map((p) => `cluster "${cfg.name}": ${p.message}`).join('; '));
  return cfg;
}

const stringMap = {
  type: 'object',
  required: [],
  additionalProperties: { type: 'string' },
} as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const gatewaySchema: JSONSchemaType<GatewayClusterConfig> = {
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
};

/** What is wrong with a gateway URL, in words that say how to fix it. */
function urlProblems(raw: string): string[] {
  const url = raw.trim();
  if (!url) return ['Enter the gateway URL, e.g. https://gateway.example.edu'];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  const notUrl = `"${url}" is not a valid URL. It should look like https://gateway.example.edu:8888`;
  if (!scheme)
    return [
      /\s/.test(url)
        ? notUrl
        : `Start the URL with https:// (or http://), e.g. https://${url.replace(/^\/+/, '')}: a gateway URL must start with http:// or https://`,
    ];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [`"${url}" is not a valid URL (e.g. https://gateway.example.edu:8888)`];
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return ['The URL must start with http:// or https://'];
  if (!u.hostname) return ['The URL has no host name.'];
  if (u.search || u.hash) return ['Leave out ?query and #fragment; put the token in the token field.'];
  return [];
}

/** Semantic checks beyond the schema, each naming the settings field it is about. */
export function checkGateway(c: GatewayClusterConfig): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (field: string, message: string): void => void out.push({ field, message });
  for (const m of urlProblems(c.url)) add('url', m);
  if (c.wsUrl) {
    try {
      new URL(c.wsUrl);
    } catch {
      add('wsUrl', `"${c.wsUrl}" is not a valid WebSocket URL`);
    }
  }
  for (const [k, v] of Object.entries(c.headers)) {
    if (!HEADER_NAME.test(k)) add('extraHeaders', `header name "${k}" is not valid`);
    if (/[\r\n\0]/.test(v)) add('extraHeaders', `header "${k}" has a line break in its value`);
  }
  for (const p of c.launchParams) {
    const err = validateLaunchParam(p);
    if (err) add('launchParams', err);
  }
  for (const n of c.forwardEnv)
    if (!ENV_NAME.test(n)) add('envAllowlist', `"${n}" is not an environment variable name`);
  const t = c.timeouts;
  if (t.requestMs < t.launchMs + t.launchPadMs) {
    add(
      'requestTimeoutSec',
      `the request timeout must be at least the launch timeout plus the pad (${(t.launchMs + t.launchPadMs) / 1000} s)`,
    );
  }
  if ((c.tls.clientCertFile === undefined) !== (c.tls.clientKeyFile === undefined)) {
    add('clientKeyFile', 'a client certificate needs both the certificate and the key file');
  }
  if (c.kernelUsername !== undefined && /\s/.test(c.kernelUsername))
    add('kernelUsername', 'a user name has no spaces');
  if (/\s/.test(c.auth.scheme)) add('authScheme', 'the scheme is one word, e.g. token or Bearer');
  return out;
}
