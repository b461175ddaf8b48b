// "Test connection" for a gateway cluster, in words a student understands. Used by the UI and by
// `npm run cluster -- test NAME`. Each step uses the cluster's real settings (token, headers, TLS, timeouts):
//   1. GET /api               reachability, TLS, version (DNS / refused / timeout / TLS told apart)
//   2. GET /api/kernelspecs   credentials (401/403), "is this a gateway at all" (404), kernelspec count
//   3. GET /api/kernels       whether the gateway lets clients list kernels (EG_LIST_KERNELS / KG_LIST_KERNELS)
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { GatewayClusterConfig } from './config';
import type { SecretLookup } from '../secrets/secret-store';
import { GatewayClient, upstreamErrorText, type GatewayResponse } from './gateway/client';
import { GatewayError } from './gateway/errors';

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
  | 'network';

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
  certificate?: CertificateInfo;
}

export interface DiagnoseOptions {
  /** Override the cluster's connect timeout (ms). */
  connectTimeoutMs?: number;
  /** Override the per-request timeout (ms); default min(request timeout, 15 s). */
  requestTimeoutMs?: number;
}

function certName(o: Record<string, string | string[] | undefined> | undefined): string {
  if (!o) return '?';
  const parts: string[] = [];
  for (const k of ['CN', 'O', 'OU']) {
    const v = o[k];
    if (v) parts.push(`${k}=${Array.isArray(v) ? v.join('+') : v}`);
  }
  return parts.join(', ') || '?';
}

/** Fetch the server certificate without validating it (to show the student what was rejected). */
export function fetchCertificate(
  url: URL,
  opts: { caFile?: string; timeoutMs: number },
): Promise<{ cert: CertificateInfo; authorizationError: string | null } | null> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 443);
    let ca: (string | Buffer)[] | undefined;
    try {
      if (opts.caFile) ca = [...tls.rootCertificates, readFileSync(opts.caFile)];
    } catch {
      ca = undefined;
    }
    const sock = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
      ...(ca ? { ca } : {}),
    });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, opts.timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const c = sock.getPeerCertificate();
      const authErr = sock.authorizationError ? String(sock.authorizationError) : null;
      sock.destroy();
      if (!c || !c.subject) {
        resolve(null);
        return;
      }
      const subject = certName(c.subject as unknown as Record<string, string>);
      const issuer = certName(c.issuer as unknown as Record<string, string>);
      resolve({
        cert: {
          subject,
          issuer,
          validFrom: c.valid_from,
          validTo: c.valid_to,
          fingerprint256: c.fingerprint256,
          selfSigned: subject === issuer,
        },
        authorizationError: authErr,
      });
    });
    sock.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
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
    try {
      api = await get('/api');
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

    // 2. kernelspecs: credentials and count.
    const ksPath = config.endpoints?.kernelspecs ?? '/api/kernelspecs';
    const ks = await get(ksPath);
    if (ks.status === 401 || ks.status === 403) return authDiagnosis(ks, hasToken, config, done);
    if (ks.status === 404) return notGateway(ks, client, done);
    if (ks.status !== 200) return httpError(ks, ksPath, done);
    let names: string[];
    let def: string | null = null;
    try {
      const j = JSON.parse(ks.body.toString('utf8')) as {
        default?: unknown;
        kernelspecs?: Record<string, unknown>;
      };
      if (!j.kernelspecs || typeof j.kernelspecs !== 'object') throw new Error('no kernelspecs');
      names = Object.keys(j.kernelspecs);
      def = typeof j.default === 'string' ? j.default : null;
    } catch {
      return done({
        ...base,
        code: 'not-a-gateway',
        httpStatus: ks.status,
        title: `${host} answers, but not like a Jupyter gateway`,
        detail: `GET ${client.url(ksPath).href} did not return a kernelspec list (got ${String(ks.headers['content-type'] ?? 'no content type')}).`,
        hint: 'Check the URL and its base path: it must be the gateway itself (what you would pass to --gateway-url), not a login page or JupyterHub.',
      });
    }

    // 3. kernels: listing allowed?
    const kPath = config.endpoints?.kernels ?? '/api/kernels';
    const kl = await get(kPath);
    const versionText = gatewayVersion
      ? `Enterprise Gateway ${gatewayVersion} (Jupyter Server ${serverVersion ?? '?'})`
      : serverVersion
        ? `version ${serverVersion}`
        : 'version unknown';
    const specsText = `${names.length} kernelspec${names.length === 1 ? '' : 's'}${names.length ? `: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : ''}`;
    const common = {
      gatewayVersion: gatewayVersion ?? serverVersion,
      serverVersion,
      kernelspecCount: names.length,
      kernelspecNames: names,
      defaultKernelspec: def,
    };
    if (kl.status === 403) {
      return done({
        ok: true,
        severity: 'warning',
        code: 'list-forbidden',
        httpStatus: 403,
        ...common,
        title: `Connected to ${config.name}, but the gateway forbids listing kernels`,
        detail: `Gateway ${versionText}, ${specsText}. GET ${kPath} answered 403: ${upstreamErrorText(kl.body) || 'Forbidden'}.`,
        hint: 'Kernels can be started, but kernels started elsewhere are not shown and a kernel that the gateway culls is noticed late. Ask the gateway admin to set EG_LIST_KERNELS=True (Enterprise Gateway) or KG_LIST_KERNELS=True (Kernel Gateway).',
      });
    }
    if (kl.status === 401) return authDiagnosis(kl, hasToken, config, done);
    if (kl.status !== 200) return httpError(kl, kPath, done);
    if (names.length === 0) {
      return done({
        ok: true,
        severity: 'warning',
        code: 'ok',
        ...common,
        title: `Connected to ${config.name}, but it offers no kernelspecs`,
        detail: `Gateway ${versionText}; GET ${ksPath} returned an empty list.`,
        hint: 'Ask the gateway admin which kernels you may use; with Enterprise Gateway, check KERNEL_USERNAME (some kernels are limited to some users).',
      });
    }
    return done({
      ok: true,
      severity: 'ok',
      code: 'ok',
      ...common,
      title: `Connected to ${config.name}`,
      detail: `Gateway ${versionText}, ${specsText}${def ? ` (default ${def})` : ''}.`,
      hint: '',
    });
  } catch (e) {
    return await networkDiagnosis(e, client, config, connectTimeoutMs, timeoutMs, done);
  } finally {
    client.dispose();
  }
}

type Done = (d: Omit<Diagnosis, 'elapsedMs' | 'url'>) => Diagnosis;

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
  const detail =
    `${config.name} answered ${res.status} ${res.status === 401 ? 'Unauthorized' : 'Forbidden'}` +
    (server ? `: ${server}` : '') +
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

async function networkDiagnosis(
  e: unknown,
  client: GatewayClient,
  config: GatewayClusterConfig,
  connectTimeoutMs: number,
  timeoutMs: number,
  done: Done,
): Promise<Diagnosis> {
  const host = client.baseUrl.host;
  const hostname = client.baseUrl.hostname;
  const err = e instanceof GatewayError ? e : new GatewayError(String(e), 'unknown');
  const base = { ok: false, severity: 'error' as const };
  switch (err.kind) {
    case 'dns':
      return done({
        ...base,
        code: 'dns',
        title: `The name "${hostname}" cannot be found (DNS)`,
        detail: `Looking up ${hostname} failed (${err.errno ?? 'ENOTFOUND'}).`,
        hint: 'Check the spelling of the host name. If the gateway is only reachable inside the university network, connect to the VPN first.',
      });
    case 'refused':
      return done({
        ...base,
        code: 'refused',
        title: `${host} refused the connection`,
        detail: `The computer ${hostname} answered, but nothing accepts connections on port ${client.baseUrl.port || (client.baseUrl.protocol === 'https:' ? 443 : 80)}.`,
        hint: 'Check the port number in the URL, and that the gateway is running (ask its admin).',
      });
    case 'timeout':
      return done({
        ...base,
        code: 'timeout',
        title: `No answer from ${host}`,
        detail: /connect/.test(err.message)
          ? `Could not open a connection within ${seconds(connectTimeoutMs)}.`
          : `The connection opened, but no answer came within ${seconds(timeoutMs)}.`,
        hint: 'A firewall may be blocking the port, or you may need the university VPN. Check the host and port, then try again.',
      });
    case 'unreachable':
      return done({
        ...base,
        code: 'unreachable',
        title: `${host} cannot be reached`,
        detail: err.message,
        hint: 'Check your network connection; if the gateway is inside the university network, connect to the VPN first.',
      });
    case 'tls': {
      const fetched =
        client.baseUrl.protocol === 'https:'
          ? await fetchCertificate(client.baseUrl, { caFile: config.tls.caFile, timeoutMs: connectTimeoutMs })
          : null;
      const reason = err.tlsReason ?? err.message;
      const cert = fetched?.cert;
      const certText = cert
        ? `The server's certificate (subject ${cert.subject}, issued by ${cert.issuer}, valid ${cert.validFrom} – ${cert.validTo}, SHA-256 ${cert.fingerprint256}) was rejected: ${reason}.`
        : `The secure connection was refused: ${reason}.`;
      let hint =
        'If your university gave you a CA certificate file, add it in the settings (CLI: --ca-file FILE). Turn certificate checks off (--insecure) only for a test server you control.';
      if (/hostname mismatch/.test(reason)) {
        hint = `Use the host name the certificate was made for (its subject: ${cert?.subject ?? '?'}) in the URL, or ask the admin for a certificate that covers "${hostname}".`;
      } else if (/expired|not yet valid/.test(reason)) {
        hint =
          "The gateway's certificate is out of date: tell the gateway admin. Check your computer's clock too.";
      } else if (/does not speak TLS/.test(reason)) {
        hint = 'Try the URL with http:// instead of https://.';
      }
      return done({
        ...base,
        code: 'tls',
        title: `TLS failure: ${reason}`,
        detail: certText,
        hint,
        certificate: cert,
      });
    }
    case 'reset':
    case 'protocol': {
      const httpsHint =
        client.baseUrl.protocol === 'http:'
          ? ' If the gateway uses TLS, the URL must start with https://.'
          : '';
      return done({
        ...base,
        code: 'network',
        title: `The connection to ${host} broke off`,
        detail: err.message,
        hint: `Check the URL and port.${httpsHint}`,
      });
    }
    default:
      return done({
        ...base,
        code: err.kind === 'bad-url' ? 'config' : 'network',
        title: `Could not talk to ${host}`,
        detail: err.message,
        hint: 'Check the URL and your network connection.',
      });
  }
}
