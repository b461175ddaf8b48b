// Import gateway settings a user already has for jupyter_server's GatewayClient:
//   - environment: JUPYTER_GATEWAY_URL, JUPYTER_GATEWAY_AUTH_TOKEN, JUPYTER_GATEWAY_HTTP_USER/_PWD,
//     JUPYTER_GATEWAY_HEADERS, and the other JUPYTER_GATEWAY_* variables (gateway API §3.1);
//   - c.GatewayClient.* in jupyter_server_config.py / .json (and jupyter_notebook_config.*) in the Jupyter
//     config dirs (JUPYTER_CONFIG_DIR or ~/.jupyter, JUPYTER_CONFIG_PATH, the system dirs).
// Precedence follows traitlets: config files override environment defaults; the user dir overrides system
// dirs; in one dir the .json file overrides the .py file. The .py file is read, never run: only plain
// literal assignments are understood, anything else is reported as a warning.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  makeGatewayConfig,
  secretKeys,
  uniqueClusterId,
  type GatewayClusterConfig,
  type GatewayInput,
} from './config';
import type { ClusterStore } from './store';
import type { SecretStore } from '../secrets/secret-store';

export type PyValue = string | number | boolean | null;

export interface ImportedGateway {
  /** Settings for makeGatewayConfig (name still to choose; secrets separate). */
  input: Omit<GatewayInput, 'name'>;
  token?: string;
  httpPassword?: string;
  /** Where each setting came from, e.g. "url: ~/.jupyter/jupyter_server_config.py:12". */
  sources: Record<string, string>;
  /** Settings that could not be read or are not supported, in words. */
  warnings: string[];
}

export interface ImportOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Config dirs in increasing precedence (default: system dirs, JUPYTER_CONFIG_PATH, the user dir). */
  configDirs?: string[];
}

/** GatewayClient trait -> environment variable (jupyter_server 1.x/2.x names). */
const ENV_FOR: Record<string, string> = {
  url: 'JUPYTER_GATEWAY_URL',
  ws_url: 'JUPYTER_GATEWAY_WS_URL',
  kernels_endpoint: 'JUPYTER_GATEWAY_KERNELS_ENDPOINT',
  kernelspecs_endpoint: 'JUPYTER_GATEWAY_KERNELSPECS_ENDPOINT',
  kernelspecs_resource_endpoint: 'JUPYTER_GATEWAY_KERNELSPECS_RESOURCE_ENDPOINT',
  connect_timeout: 'JUPYTER_GATEWAY_CONNECT_TIMEOUT',
  request_timeout: 'JUPYTER_GATEWAY_REQUEST_TIMEOUT',
  launch_timeout_pad: 'JUPYTER_GATEWAY_LAUNCH_TIMEOUT_PAD',
  auth_header_key: 'JUPYTER_GATEWAY_AUTH_HEADER_KEY',
  auth_scheme: 'JUPYTER_GATEWAY_AUTH_SCHEME',
  auth_token: 'JUPYTER_GATEWAY_AUTH_TOKEN',
  headers: 'JUPYTER_GATEWAY_HEADERS',
  http_user: 'JUPYTER_GATEWAY_HTTP_USER',
  http_pwd: 'JUPYTER_GATEWAY_HTTP_PWD',
  client_cert: 'JUPYTER_GATEWAY_CLIENT_CERT',
  client_key: 'JUPYTER_GATEWAY_CLIENT_KEY',
  ca_certs: 'JUPYTER_GATEWAY_CA_CERTS',
  validate_cert: 'JUPYTER_GATEWAY_VALIDATE_CERT',
  allowed_envs: 'JUPYTER_GATEWAY_ALLOWED_ENVS',
  env_whitelist: 'JUPYTER_GATEWAY_ENV_WHITELIST',
};

/** Read a Python literal: '…', "…", r'…', numbers, True/False/None. Returns undefined when it is not one. */
export function parsePyLiteral(src: string): PyValue | undefined {
  const s = src.trim();
  if (s === 'True') return true;
  if (s === 'False') return false;
  if (s === 'None') return null;
  if (/^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const m = /^([rRuUbB]?)('''|"""|'|")([\s\S]*)\2$/.exec(s);
  if (!m) return undefined;
  const raw = m[1].toLowerCase() === 'r';
  const body = m[3];
  if (m[2].length === 1 && new RegExp(`(^|[^\\\\])${m[2]}`).test(body)) return undefined; // 'a' + 'b'
  if (raw) return body;
  return body.replace(/\\(n|t|r|\\|'|"|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/g, (_, e: string) => {
    if (e === 'n') return '\n';
    if (e === 't') return '\t';
    if (e === 'r') return '\r';
    if (e[0] === 'x' || e[0] === 'u') return String.fromCharCode(parseInt(e.slice(1), 16));
    return e;
  });
}

/** c.GatewayClient.<trait> = <literal> lines of a jupyter_*_config.py (read, never executed). */
export function readPyConfig(
  text: string,
  file: string,
): { values: Record<string, PyValue>; lines: Record<string, number>; warnings: string[] } {
  const values: Record<string, PyValue> = {};
  const lines: Record<string, number> = {};
  const warnings: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*c\.GatewayClient\.(\w+)\s*=\s*(.+?)\s*$/.exec(line);
    if (!m) return;
    let expr = m[2];
    // Drop a trailing comment outside quotes.
    const hash = expr.search(/#(?=(?:[^'"]*['"][^'"]*['"])*[^'"]*$)/);
    if (hash >= 0) expr = expr.slice(0, hash).trim();
    const v = parsePyLiteral(expr);
    if (v === undefined) {
      warnings.push(
        `${file}:${i + 1}: c.GatewayClient.${m[1]} is not a plain value (${expr}); set it by hand`,
      );
      return;
    }
    values[m[1]] = v;
    lines[m[1]] = i + 1;
  });
  return { values, lines, warnings };
}

export function defaultConfigDirs(env: NodeJS.ProcessEnv, home: string): string[] {
  const dirs = ['/usr/share/jupyter', '/usr/local/etc/jupyter', '/etc/jupyter'];
  if (env.CONDA_PREFIX) dirs.push(path.join(env.CONDA_PREFIX, 'etc', 'jupyter'));
  if (env.VIRTUAL_ENV) dirs.push(path.join(env.VIRTUAL_ENV, 'etc', 'jupyter'));
  // JUPYTER_CONFIG_PATH: first entry has the highest precedence.
  const extra = (env.JUPYTER_CONFIG_PATH ?? '').split(path.delimiter).filter(Boolean).reverse();
  dirs.push(...extra);
  dirs.push(env.JUPYTER_CONFIG_DIR || path.join(home, '.jupyter'));
  return dirs;
}

/** Collect GatewayClient settings; null when no gateway URL is configured anywhere. */
export function importGatewaySettings(opts: ImportOptions = {}): ImportedGateway | null {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? homedir();
  const values: Record<string, PyValue> = {};
  const sources: Record<string, string> = {};
  const warnings: string[] = [];
  const tilde = (p: string): string => (p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p);

  for (const [trait, name] of Object.entries(ENV_FOR)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      values[trait] = v;
      sources[trait] = `environment ${name}`;
    }
  }
  for (const dir of opts.configDirs ?? defaultConfigDirs(env, home)) {
    for (const base of ['jupyter_notebook_config', 'jupyter_server_config']) {
      const py = path.join(dir, `${base}.py`);
      if (existsSync(py)) {
        const r = readPyConfig(readFileSync(py, 'utf8'), tilde(py));
        warnings.push(...r.warnings);
        for (const [k, v] of Object.entries(r.values)) {
          values[k] = v;
          sources[k] = `${tilde(py)}:${r.lines[k]}`;
        }
      }
      const json = path.join(dir, `${base}.json`);
      if (existsSync(json)) {
        try {
          const j = JSON.parse(readFileSync(json, 'utf8')) as { GatewayClient?: Record<string, unknown> };
          for (const [k, v] of Object.entries(j.GatewayClient ?? {})) {
            if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) {
              values[k] = v as PyValue;
              sources[k] = tilde(json);
            } else
              warnings.push(`${tilde(json)}: GatewayClient.${k} has an unsupported value; set it by hand`);
          }
        } catch (e) {
          warnings.push(`${tilde(json)} is not valid JSON (${(e as Error).message}); skipped`);
        }
      }
    }
  }
  const str = (k: string): string | undefined =>
    typeof values[k] === 'string' && values[k] ? String(values[k]) : undefined;
  const num = (k: string): number | undefined => {
    const v = values[k];
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const url = str('url');
  if (!url) return null;

  let headers: Record<string, string> | undefined;
  const rawHeaders = str('headers');
  if (rawHeaders) {
    try {
      const h = JSON.parse(rawHeaders) as Record<string, unknown>;
      headers = {};
      for (const [k, v] of Object.entries(h)) headers[k] = String(v);
    } catch {
      warnings.push(`headers (${sources.headers}) is not a JSON object; skipped`);
    }
  }
  const validate = values.validate_cert;
  const validateCert =
    validate === undefined ? undefined : !(validate === false || /^(no|false|0)$/i.test(String(validate)));
  const allowed = str('allowed_envs') ?? str('env_whitelist');
  const connect = num('connect_timeout');
  const request = num('request_timeout');
  const pad = num('launch_timeout_pad');
  const launchEnv = Number(env.KERNEL_LAUNCH_TIMEOUT);
  const input: Omit<GatewayInput, 'name'> = {
    url,
    ...(str('ws_url') ? { wsUrl: str('ws_url') } : {}),
    ...(str('auth_header_key') ? { authHeaderName: str('auth_header_key') } : {}),
    ...(str('auth_scheme') ? { authScheme: str('auth_scheme') } : {}),
    ...(str('http_user') ? { httpUser: str('http_user') } : {}),
    ...(headers ? { headers } : {}),
    ...(validateCert !== undefined ? { validateCert } : {}),
    ...(str('ca_certs') ? { caFile: str('ca_certs') } : {}),
    ...(str('client_cert') ? { clientCertFile: str('client_cert') } : {}),
    ...(str('client_key') ? { clientKeyFile: str('client_key') } : {}),
    ...(allowed
      ? {
          forwardEnv: allowed
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    timeouts: {
      ...(connect ? { connectMs: Math.round(connect * 1000) } : {}),
      ...(request ? { requestMs: Math.round(request * 1000) } : {}),
      ...(pad ? { launchPadMs: Math.round(pad * 1000) } : {}),
      ...(launchEnv > 0 ? { launchMs: Math.round(launchEnv * 1000) } : {}),
    },
  };
  const endpoints: NonNullable<GatewayInput['endpoints']> = {};
  if (str('kernels_endpoint')) endpoints.kernels = str('kernels_endpoint');
  if (str('kernelspecs_endpoint')) endpoints.kernelspecs = str('kernelspecs_endpoint');
  if (str('kernelspecs_resource_endpoint'))
    endpoints.kernelspecResources = str('kernelspecs_resource_endpoint');
  if (Object.keys(endpoints).length) input.endpoints = endpoints;
  if (env.KERNEL_USERNAME) input.kernelUsername = env.KERNEL_USERNAME;
  for (const k of ['gateway_token_renewer_class', 'accept_cookies', 'gateway_retry_max']) {
    if (k in values)
      warnings.push(`${k} (${sources[k]}) is not supported by Gateway Desktop and was ignored`);
  }
  return {
    input,
    ...(str('auth_token') ? { token: str('auth_token') } : {}),
    ...(str('http_pwd') ? { httpPassword: str('http_pwd') } : {}),
    sources,
    warnings,
  };
}

/** Add an imported gateway to the store (secrets into the secret store). */
export function addImportedGateway(
  store: ClusterStore,
  secrets: SecretStore,
  imported: ImportedGateway,
  name: string,
): GatewayClusterConfig {
  const id = uniqueClusterId(
    name,
    store.list().map((c) => c.id),
  );
  const cfg = makeGatewayConfig({
    ...imported.input,
    id,
    name,
    ...(imported.token ? { tokenSecret: secretKeys.token(id) } : {}),
    ...(imported.httpPassword ? { passwordSecret: secretKeys.password(id) } : {}),
  });
  if (imported.token) secrets.set(secretKeys.token(id), imported.token);
  if (imported.httpPassword) secrets.set(secretKeys.password(id), imported.httpPassword);
  try {
    store.add(cfg);
  } catch (e) {
    secrets.deletePrefix(`cluster/${id}/`);
    throw e;
  }
  return cfg;
}
