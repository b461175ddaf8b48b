// A small HTTP + WebSocket client for one remote gateway: base URL and endpoints, credentials (token header,
// basic auth, extra headers), TLS (CA bundle, client cert, validation) through one keep-alive Agent, and the
// connect/request timeouts. It is the only place that talks to the upstream.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import WebSocket from 'ws';
import {
  DEFAULT_ENDPOINTS,
  type GatewayClusterConfig,
  type GatewayEndpoints,
  type GatewayTimeouts,
} from '../config';
import type { SecretLookup } from '../../secrets/secret-store';
import { GatewayError, describeNetError } from './errors';

export interface GatewayResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  body?: unknown;
  /** Overall time for the request (default: the cluster's request timeout). */
  timeoutMs?: number;
  /** Time to establish the connection (default: the cluster's connect timeout). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Upstream kernel model (§6 of the gateway API). */
export interface UpstreamKernelModel {
  id: string;
  name: string;
  last_activity?: string;
  execution_state?: string;
  connections?: number;
  reason?: string;
}

export const V1_PROTOCOL = 'v1.kernel.websocket.jupyter.org';

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new GatewayError(`cannot read the ${what} file ${file}: ${(e as Error).message}`, 'tls');
  }
}

/** The last informative line of a Python traceback ("FileNotFoundError: [Errno 2] … 'python9'"). */
function tracebackCause(tb: unknown): string {
  const lines = (Array.isArray(tb) ? tb.join('\n') : typeof tb === 'string' ? tb : '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.at(-1) ?? '';
}

/** The readable text of an HTML error page: its <title>, else its text without tags. */
function htmlText(text: string): string | null {
  if (!/^\s*(<!doctype html|<html)/i.test(text)) return null;
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1]?.trim();
  const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/i
    .exec(text)?.[1]
    ?.replace(/<[^>]*>/g, ' ')
    .trim();
  const named = [title, h1].filter(Boolean).join(': ');
  const plain = (named || text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' '))
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > 200 ? plain.slice(0, 200) + '…' : plain;
}

/**
 * The text of an upstream error body: {message, reason} of a JSON body (with the traceback's last line when
 * the message is only "Unhandled error", as Jupyter Server sends for a kernel that cannot start), the title
 * of an HTML page (never the page itself), or the raw body.
 */
export function upstreamErrorText(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const j = JSON.parse(text) as { message?: unknown; reason?: unknown; traceback?: unknown };
    const parts = [j.message, j.reason].filter((x): x is string => typeof x === 'string' && x.length > 0);
    const cause = tracebackCause(j.traceback);
    const generic = parts.length === 0 || /^(unhandled error|internal server error)$/i.test(parts.join(''));
    if (cause && generic) return cause;
    // {"message": "Forbidden", "reason": "Forbidden"} reads "Forbidden", not "Forbidden: Forbidden".
    if (parts.length === 2 && parts[0].trim().toLowerCase() === parts[1].trim().toLowerCase()) parts.pop();
    if (parts.length) return parts.join(': ');
  } catch {
    // not JSON
  }
  const html = htmlText(text);
  if (html !== null) return html;
  return text.length > 300 ? text.slice(0, 300) + '…' : text;
}

export class GatewayClient {
  readonly baseUrl: URL;
  readonly wsBaseUrl: URL;
  readonly endpoints: GatewayEndpoints;
  readonly timeouts: GatewayTimeouts;
  private readonly agent: http.Agent;
  private readonly tlsOptions: https.AgentOptions;

  constructor(
    readonly config: GatewayClusterConfig,
    private readonly secrets: SecretLookup,
  ) {
    let base: URL;
    try {
      base = new URL(config.url.replace(/\/*$/, '/'));
    } catch {
      throw new GatewayError(`"${config.url}" is not a valid gateway URL`, 'bad-url');
    }
    this.baseUrl = base;
    this.wsBaseUrl = config.wsUrl
      ? new URL(config.wsUrl.replace(/\/*$/, '/'))
      : new URL(base.href.replace(/^http/, 'ws'));
    this.endpoints = config.endpoints ?? DEFAULT_ENDPOINTS;
    this.timeouts = config.timeouts;
    const tlsOptions: https.AgentOptions = { rejectUnauthorized: config.tls.validate };
    if (config.tls.caFile)
      tlsOptions.ca = [...rootCertificates, readPem(config.tls.caFile, 'CA bundle').toString()];
    if (config.tls.clientCertFile) tlsOptions.cert = readPem(config.tls.clientCertFile, 'client certificate');
    if (config.tls.clientKeyFile) tlsOptions.key = readPem(config.tls.clientKeyFile, 'client key');
    if (config.tls.keyPassphraseSecret) {
      const p = secrets.get(config.tls.keyPassphraseSecret);
      if (p !== undefined) tlsOptions.passphrase = p;
    }
    this.tlsOptions = tlsOptions;
    this.agent =
      base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ...tlsOptions })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Absolute URL of a path under the gateway base (path starts with '/'). */
  url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.baseUrl);
  }

  /** Credentials and extra headers sent with every request and the WebSocket handshake. */
  headers(): Record<string, string> {
    const h: Record<string, string> = { ...this.config.headers };
    const token = this.config.auth.tokenSecret ? this.secrets.get(this.config.auth.tokenSecret) : undefined;
    if (token && token.trim()) {
      const scheme = this.config.auth.scheme.trim();
      h[this.config.auth.headerName] = scheme ? `${scheme} ${token}` : token;
    }
    if (this.config.basicAuth) {
      const pwd = this.config.basicAuth.passwordSecret
        ? (this.secrets.get(this.config.basicAuth.passwordSecret) ?? '')
        : '';
      const basic = 'Basic ' + Buffer.from(`${this.config.basicAuth.user}:${pwd}`).toString('base64');
      // A token on the Authorization header wins; basic auth then cannot be sent as well.
      if (!h.Authorization && !h.authorization) h.Authorization = basic;
    }
    return h;
  }

  /** Plain HTTP request with the connect and overall timeouts enforced. Never throws on HTTP status. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<GatewayResponse> {
    const target = this.url(path);
    const timeoutMs = opts.timeoutMs ?? this.timeouts.requestMs;
    const connectMs = Math.min(opts.connectTimeoutMs ?? this.timeouts.connectMs, timeoutMs);
    const headers: Record<string, string> = { Accept: 'application/json', ...this.headers() };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const mod = target.protocol === 'https:' ? https : http;
    return new Promise<GatewayResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown, limitMs?: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(overall);
        clearTimeout(connectTimer);
        reject(describeNetError(err, target.href, limitMs));
      };
      const req = mod.request(target, { method, headers, agent: this.agent });
      const overall = setTimeout(() => {
        fail(
          new GatewayError(`no answer from ${target.host} within ${timeoutMs / 1000} s`, 'timeout'),
          timeoutMs,
        );
        req.destroy();
      }, timeoutMs);
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (sock) => {
        if (!sock.connecting) return;
        connectTimer = setTimeout(() => {
          fail(
            new GatewayError(`could not connect to ${target.host} within ${connectMs / 1000} s`, 'timeout'),
            connectMs,
          );
          req.destroy();
        }, connectMs);
        sock.once('connect', () => clearTimeout(connectTimer));
      });
      const onAbort = (): void => {
        fail(new GatewayError('request cancelled', 'unknown'));
        req.destroy();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => fail(err, timeoutMs));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(err));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(overall);
          clearTimeout(connectTimer);
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(payload);
    });
  }

  /** Request expecting one of `ok` statuses; any other status becomes a GatewayError with the upstream text. */
  async call(
    method: string,
    path: string,
    ok: number[],
    opts: RequestOptions = {},
  ): Promise<GatewayResponse> {
    const res = await this.request(method, path, opts);
    if (!ok.includes(res.status)) {
      const text = upstreamErrorText(res.body);
      throw new GatewayError(
        `gateway answered ${res.status} to ${method} ${path}${text ? `: ${text}` : ''}`,
        'http',
        res.status,
        undefined,
        undefined,
        text,
      );
    }
    return res;
  }

  async json<T>(method: string, path: string, ok: number[], opts: RequestOptions = {}): Promise<T> {
    const res = await this.call(method, path, ok, opts);
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new GatewayError(
        `the gateway's answer to ${method} ${path} is not JSON (is the URL a gateway?)`,
        'protocol',
        res.status,
      );
    }
  }

  kernelPath(id?: string, suffix = ''): string {
    return id ? `${this.endpoints.kernels}/${encodeURIComponent(id)}${suffix}` : this.endpoints.kernels;
  }

  /**
   * Open the channels WebSocket for an upstream kernel. Offers v1 when `offerV1`; the caller falls back to
   * legacy when the upstream does not select it (ws rejects "Server sent no subprotocol").
   */
  openChannels(upstreamId: string, sessionId: string, offerV1: boolean): WebSocket {
    const u = new URL(
      `${this.endpoints.kernels}/${encodeURIComponent(upstreamId)}/channels`.replace(/^\//, ''),
      this.wsBaseUrl,
    );
    u.searchParams.set('session_id', sessionId);
    return new WebSocket(u, offerV1 ? [V1_PROTOCOL] : [], {
      headers: this.headers(),
      agent: this.agent,
      handshakeTimeout: this.timeouts.connectMs,
      perMessageDeflate: false,
      maxPayload: 0,
      ...(u.protocol === 'wss:' ? this.tlsOptions : {}),
    });
  }

  dispose(): void {
    this.agent.destroy();
  }
}
