// "Test connection" for a gateway cluster, in words a student understands. Used by the UI and by
// `npm run cluster -- test NAME`. Each step uses the cluster's real settings (token, headers, TLS, timeouts):
//   1. GET /api               reachability, TLS, version (DNS / refused / timeout / TLS told apart)
//   2. GET /api/kernelspecs?user=U  credentials (401/403), "is this a gateway at all" (404), kernelspec count,
//                             asked as the user the relay sends when the client sends none (username.ts)
//   3. GET /api/kernels       whether the gateway lets clients list kernels (EG_LIST_KERNELS / KG_LIST_KERNELS)
import type { GatewayClusterConfig } from './config';
import type { SecretLookup } from '../secrets/secret-store';
import { GatewayClient, upstreamErrorText, type GatewayResponse } from './gateway/client';
import { networkDiagnosis, speaksPlainHttpOnly } from './diagnose-network';
import { describeKernelUser, kernelUser, type UsernameSource } from './gateway/username';
import type { HostKeyInfo } from '../host-api/models';

export { fetchCertificate } from './diagnose-network';

export type DiagnosisCode =
  | 'ok'
  | 'list-forbidden'
  | 'config'
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'tls'
  | 'unauthorized'
  | 'forbidden'
  | 'not-a-gateway'
  | 'http-error'
  | 'network'
  // SSH clusters
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth'
  | 'no-python'
  | 'no-ipykernel'
  // Swarm clusters: the engine is not a Swarm manager
  | 'not-swarm';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  selfSigned: boolean;
}

export interface Diagnosis {
  /** True when kernels can be used through this cluster (possibly with a warning). */
  ok: boolean;
  severity: 'ok' | 'warning' | 'error';
  code: DiagnosisCode;
  /** One line: what happened. */
  title: string;
  /** What exactly was seen (status, server message, certificate, timings). */
  detail: string;
  /** What to do about it ('' when nothing). */
  hint: string;
  url: string;
  elapsedMs: number;
  httpStatus?: number;
  /** From GET /api: Enterprise Gateway's gateway_version, else the server's version. */
  gatewayVersion?: string;
  serverVersion?: string;
  kernelspecCount?: number;
  kernelspecNames?: string[];
  defaultKernelspec?: string | null;
  /** The user the kernelspecs were listed for (`?user=`), and why that one. */
  kernelUsername?: string;
  kernelUsernameSource?: UsernameSource;
  certificate?: CertificateInfo;
  /** The host key behind 'host-key-unknown' (to confirm) or 'host-key-changed' (refused). */
  hostKey?: HostKeyInfo;
}

export interface DiagnoseOptions {
  /** Override the cluster's connect timeout (ms). */
  connectTimeoutMs?: number;
  /** Override the per-request timeout (ms); default min(request timeout, 15 s). */
  requestTimeoutMs?: number;
}

export async function diagnoseGateway(
  config: GatewayClusterConfig,
  secrets: SecretLookup,
  opts: DiagnoseOptions = {},
): Promise<Diagnosis> {
  const t0 = Date.now();
  const url = config.url;
  const base = { url, severity: 'error' as const, ok: false };
  const done = (d: Omit<Diagnosis, 'elapsedMs' | 'url'>): Diagnosis => ({
    ...d,
    url,
    elapsedMs: Date.now() - t0,
  });

  let client: GatewayClient;
  try {
    client = new GatewayClient(config, secrets);
  } catch (e) {
    return done({
      ...base,
      code: 'config',
      title: 'The cluster settings cannot be used',
      detail: (e as Error).message,
      hint: 'Check the URL (e.g. https://gateway.example.edu:8888) and the certificate files in the settings.',
    });
  }
  const connectTimeoutMs = opts.connectTimeoutMs ?? config.timeouts.connectMs;
  const timeoutMs =
    opts.requestTimeoutMs ?? Math.max(connectTimeoutMs, Math.min(config.timeouts.requestMs, 15_000));
  const host = client.baseUrl.host;
  const hasToken = !!(config.auth.tokenSecret && secrets.get(config.auth.tokenSecret)?.trim());

  const get = async (path: string): Promise<GatewayResponse> =>
    client.request('GET', path, { timeoutMs, connectTimeoutMs });

  try {
    // 1. /api: reachability, TLS, version.
    let api: GatewayResponse;
    const apiRequest = get('/api');
    apiRequest.catch(() => undefined);
    if (client.baseUrl.protocol === 'https:') {
      // https against a plain http port: say so at once instead of waiting for the request to time out.
      const plainOnly = speaksPlainHttpOnly(client.baseUrl, Math.min(connectTimeoutMs, 5000));
      const first = await Promise.race([
        apiRequest.then(
          () => 'answered' as const,
          () => 'answered' as const,
        ),
        plainOnly.then((yes) => (yes ? ('plain' as const) : ('answered' as const))),
      ]);
      if (first === 'plain') {
        const plainUrl = url.replace(/^https:/i, 'http:');
        return done({
          ...base,
          code: 'tls',
          title: `${host} speaks http, not https`,
          detail: `The server on port ${client.baseUrl.port || 443} answers plain http requests, and a secure (TLS) connection to it gets no answer.`,
          hint: `Change the URL to ${plainUrl} (http:// instead of https://), or ask the gateway's admin for its https address.`,
        });
      }
    }
    try {
      api = await apiRequest;
    } catch (e) {
      return await networkDiagnosis(e, client, config, connectTimeoutMs, timeoutMs, done);
    }
    let serverVersion: string | undefined;
    let gatewayVersion: string | undefined;
    if (api.status === 200) {
      try {
        const j = JSON.parse(api.body.toString('utf8')) as { version?: unknown; gateway_version?: unknown };
        if (typeof j.version === 'string') serverVersion = j.version;
        if (typeof j.gateway_version === 'string') gatewayVersion = j.gateway_version;
      } catch {
        // checked below through kernelspecs
      }
    }
    if (api.status === 401 || api.status === 403) return authDiagnosis(api, hasToken, config, done);
    if (api.status === 404) return notGateway(api, client, done);

    // 2. kernelspecs: credentials and count, asked exactly as the relay asks when a client sends no user.
    const who = kernelUser(config);
    const ksBase = config.endpoints?.kernelspecs ?? '/api/kernelspecs';
    const ksPath = `${ksBase}?user=${encodeURIComponent(who.user)}`;
    const ks = await get(ksPath);
    if (ks.status === 401 || ks.status === 403) return authDiagnosis(ks, hasToken, config, done);
    if (ks.status === 404) return notGateway(ks, client, done);
    if (ks.status !== 200) return httpError(ks, ksPath, done);
    const listing = specNames(ks);
    if (!listing) {
      return done({
        ...base,
        code: 'not-a-gateway',
        httpStatus: ks.status,
        title: `${host} answers, but not like a Jupyter gateway`,
        detail: `GET ${client.url(ksPath).href} did not return a kernelspec list (got ${String(ks.headers['content-type'] ?? 'no content type')}).`,
        hint: 'Check the URL and its base path: it must be the gateway itself (what you would pass to --gateway-url), not a login page or JupyterHub.',
      });
    }
    const { names, def } = listing;

    // 3. kernels: listing allowed?
    const kPath = config.endpoints?.kernels ?? '/api/kernels';
    const kl = await get(kPath);
    const versionText = describeVersion(gatewayVersion, serverVersion);
    const userText = `listed for user ${describeKernelUser(who)}`;
    const specsText = `${names.length} kernelspec${names.length === 1 ? '' : 's'}${names.length ? `: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : ''} (${userText})`;
    const common = {
      gatewayVersion: gatewayVersion ?? serverVersion,
      serverVersion,
      kernelspecCount: names.length,
      kernelspecNames: names,
      defaultKernelspec: def,
      kernelUsername: who.user,
      kernelUsernameSource: who.source,
    };
    if (kl.status === 403) {
      const why = upstreamErrorText(kl.body);
      return done({
        ok: true,
        severity: 'warning',
        code: 'list-forbidden',
        httpStatus: 403,
        ...common,
        title: `Connected to ${config.name}, but the gateway forbids listing kernels`,
        detail: `${versionText}, ${specsText}. GET ${kPath} answered 403 Forbidden${why && why.toLowerCase() !== 'forbidden' ? `: ${why}` : ''}.`,
        hint: 'Kernels can be started, but kernels started elsewhere are not shown and a kernel that the gateway culls is noticed late. Ask the gateway admin to set EG_LIST_KERNELS=True (Enterprise Gateway) or KG_LIST_KERNELS=True (Kernel Gateway).',
      });
    }
    if (kl.status === 401) return authDiagnosis(kl, hasToken, config, done);
    if (kl.status !== 200) return httpError(kl, kPath, done);
    if (names.length === 0) {
      // Offered to others? Then it is this user (Enterprise Gateway refuses root by default).
      const anyone = await get(ksBase).then(specNames, () => null);
      const others = anyone?.names.length ?? 0;
      return done({
        ok: true,
        severity: 'warning',
        code: 'ok',
        ...common,
        title: `Connected to ${config.name}, but it offers no kernelspecs to user "${who.user}"`,
        detail: `${versionText}; GET ${ksPath} returned an empty list${others ? `, while without a user it lists ${others} (${anyone?.names.slice(0, 8).join(', ')})` : ''}.`,
        hint:
          who.source === 'cluster'
            ? `Check the username "${who.user}" in the cluster settings (KERNEL_USERNAME) with your gateway admin: the gateway offers kernels per user.`
            : `Set your user name on the gateway (your university account) as the cluster's username: in the app under KERNEL_USERNAME, or npm run cluster -- set ${JSON.stringify(config.name)} --username U. Without it the relay sends the user name the Jupyter client sends, else "${who.user}"${who.user === 'root' ? ', which Enterprise Gateway refuses by default' : ''}.`,
      });
    }
    return done({
      ok: true,
      severity: 'ok',
      code: 'ok',
      ...common,
      title: `Connected to ${config.name}`,
      detail: `${versionText}, ${specsText}${def ? ` (default ${def})` : ''}.`,
      hint: '',
    });
  } catch (e) {
    return await networkDiagnosis(e, client, config, connectTimeoutMs, timeoutMs, done);
  } finally {
    client.dispose();
  }
}

/** "Enterprise Gateway 3.2.3 on Jupyter Server 2.14.0", or the server version alone (Kernel Gateway 2.5
 * reports only the notebook server's version on /api, never its own). */
function describeVersion(gatewayVersion?: string, serverVersion?: string): string {
  if (gatewayVersion)
    return `Enterprise Gateway ${gatewayVersion}${serverVersion ? ` on Jupyter Server ${serverVersion}` : ''}`;
  return serverVersion ? `Jupyter server version ${serverVersion}` : 'Server version unknown';
}

function specNames(res: GatewayResponse): { names: string[]; def: string | null } | null {
  try {
    const j = JSON.parse(res.body.toString('utf8')) as { default?: unknown; kernelspecs?: unknown };
    if (!j.kernelspecs || typeof j.kernelspecs !== 'object') return null;
    return { names: Object.keys(j.kernelspecs), def: typeof j.default === 'string' ? j.default : null };
  } catch {
    return null;
  }
}

export type Done = (d: Omit<Diagnosis, 'elapsedMs' | 'url'>) => Diagnosis;

function authDiagnosis(
  res: GatewayResponse,
  hasToken: boolean,
  config: GatewayClusterConfig,
  done: Done,
): Diagnosis {
  const server = upstreamErrorText(res.body);
  const header = `${config.auth.headerName}: ${config.auth.scheme} …`;
  const title = hasToken
    ? `The gateway did not accept your token (${res.status})`
    : `The gateway needs a token, and none is set (${res.status})`;
  const statusText = res.status === 401 ? 'Unauthorized' : 'Forbidden';
  const detail =
    `${config.name} answered ${res.status} ${statusText}` +
    (server && server.toLowerCase() !== statusText.toLowerCase() ? `: ${server}` : '') +
    (hasToken ? `. The token was sent as "${header}".` : '. No token was sent.');
  let hint = hasToken
    ? 'Check the token: copy it again from your university or gateway admin (tokens can expire), and store it with the cluster settings (CLI: --token-env VAR).'
    : 'Add the token your university gave you to the cluster settings (CLI: set it in an environment variable and pass --token-env VAR).';
  if (res.status === 403 && hasToken) {
    hint +=
      ' A 403 can also mean the token is right but your user may not do this: check the kernel username (KERNEL_USERNAME) with your gateway admin.';
  }
  if (config.auth.scheme.toLowerCase() !== 'token') {
    hint += ` Kernel/Enterprise Gateway expect the scheme "token", this cluster uses "${config.auth.scheme}".`;
  }
  return done({
    ok: false,
    severity: 'error',
    code: 'unauthorized',
    httpStatus: res.status,
    title,
    detail,
    hint,
  });
}

function notGateway(res: GatewayResponse, client: GatewayClient, done: Done): Diagnosis {
  const path = client.baseUrl.pathname;
  return done({
    ok: false,
    severity: 'error',
    code: 'not-a-gateway',
    httpStatus: 404,
    title: 'This URL is not a Jupyter gateway (404 Not Found)',
    detail: `${client.baseUrl.href} answered 404 for the gateway API${upstreamErrorText(res.body) ? `: ${upstreamErrorText(res.body).slice(0, 120)}` : ''}.`,
    hint:
      path && path !== '/'
        ? `Check the base path "${path}": it must be the gateway's own base URL (for Enterprise Gateway usually just https://host:8888, or the path your admin gave you).`
        : 'Check the base path: if the gateway is served under a path (e.g. https://host/gateway), include it in the URL.',
  });
}

function httpError(res: GatewayResponse, path: string, done: Done): Diagnosis {
  const text = upstreamErrorText(res.body);
  return done({
    ok: false,
    severity: 'error',
    code: 'http-error',
    httpStatus: res.status,
    title: `The gateway answered ${res.status} to ${path}`,
    detail: text || `HTTP ${res.status} without an explanation.`,
    hint:
      res.status >= 500
        ? 'The gateway has a problem of its own; try again later or tell its admin (include this message).'
        : 'Check the URL and settings; tell the gateway admin if it persists (include this message).',
  });
}
