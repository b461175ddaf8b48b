// The local gateway proxy: the Jupyter Kernel Gateway REST + WebSocket API on 127.0.0.1, so JupyterLab,
// @jupyterlab/services and any jupyter_server started with `--gateway-url` can use the app's kernels.
//
// It depends only on the kernel registry and the cluster directory; it knows nothing of ZMQ or remote
// gateways. Every request needs the token (header `Authorization: token T` / `Bearer T`, `?token=T`, or the
// HttpOnly cookie set after a `?token=` page load), a Host header naming the proxy itself (DNS rebinding),
// and, when it has an Origin, the proxy's own origin or one from the allow-list.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClusterDirectory, RoutedKernelSpec } from '../clusters/directory';
import type { KernelRegistry } from '../kernels/registry';
import { GatewayError, KernelNotFoundError, KernelSpecNotFoundError, errorMessage } from '../kernels/errors';
import { allowedHostValues, ownOrigins, requestToken, tokensEqual } from './auth';
import { ChannelHub, CloseCodes } from './channels';
import { V1_PROTOCOL } from './frames';
import { isObject, readJson, sendError, sendJson, sendNoContent } from './http-util';
import { InflightBudget } from './inflight';
import { SessionTable } from './sessions';

/** Reported by GET /api. */
export const GATEWAY_VERSION = '0.1.0';

/** What the proxy needs from the cluster directory. */
export type SpecDirectory = Pick<ClusterDirectory, 'listKernelSpecs' | 'getSpec' | 'getResource'>;

export interface GatewayProxyOptions {
  registry: KernelRegistry;
  directory: SpecDirectory;
  /** Extra origins allowed for browsers (CORS + WebSocket), e.g. `http://localhost:8888`. */
  allowedOrigins?: string[];
  /** Extra Host header values accepted (e.g. `myhost:8888`). */
  allowedHosts?: string[];
  /** Largest WebSocket message accepted (bytes); larger closes the socket with 1009. Default 256 MB. */
  maxPayload?: number;
  /**
   * Bytes of incomplete client messages the proxy holds at once, over all kernel sockets (default 256 MB);
   * a big message that does not fit waits (backpressure) until earlier ones are through.
   */
  maxInflightBytes?: number;
  /** Where the user changes maxPayload, named in the close reason of an over-limit message. */
  maxPayloadHint?: string;
  /** Names besides KERNEL_* a client may set in a kernel's env on POST /api/kernels (default none). */
  envAllowlist?: string[];
  /** Largest REST request body (bytes). Default 1 MB. */
  maxBodyBytes?: number;
  /** Protocol-level WebSocket ping interval (ms). Default 30 s. */
  pingIntervalMs?: number;
  /** Replay buffer per disconnected session (bytes, age). Default 64 MB / 5 min. */
  replayMaxBytes?: number;
  replayMaxAgeMs?: number;
  /** Diagnostics sink (default console.warn). */
  log?: (message: string) => void;
}

export interface ProxyStartOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 or absent picks a free one. */
  port?: number;
  /** The token every request must carry (non-empty). */
  token: string;
}

/** A parsed request handed to route handlers. Auth, Host and Origin were already checked. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Raw path (percent-encoded as sent). */
  pathname: string;
  /** Decoded path segments (`/a/b%20c` → ['a', 'b c']). */
  segments: string[];
  query: URLSearchParams;
}

/** Handler for an extra HTTP route. Return false to fall through to a 404. */
export type RouteHandler = (ctx: RequestContext) => void | boolean | Promise<void | boolean>;

export interface RouteOptions {
  /** Require the token (default true). Static UI shells may opt out; Host/Origin checks still apply. */
  auth?: boolean;
}

/** Context of an extra WebSocket upgrade path (auth, Host and Origin already checked). */
export interface UpgradeContext {
  pathname: string;
  query: URLSearchParams;
  /** Complete the upgrade with the proxy's settings (no compression, maxPayload, Nagle off). */
  accept(): Promise<WebSocket>;
  /** Refuse the upgrade with an HTTP status and a JSON `{reason, message}` body. */
  reject(status: number, message: string): void;
}

export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: UpgradeContext,
) => void;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

class HttpError extends GatewayError {}

function notFound(message: string): HttpError {
  return new HttpError(404, 'Not Found', message);
}

/** Decode path segments; null when a segment is not valid percent-encoding. */
function decodeSegments(pathname: string): string[] | null {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop(); // one trailing slash is fine
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

function safeSegment(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\\') && !s.includes('\0');
}

/** The gateway proxy (REST + kernel WebSockets) on one node:http server. */
export class GatewayProxy {
  readonly registry: KernelRegistry;
  readonly directory: SpecDirectory;
  /** The channel layer (kernel WebSockets). */
  readonly channels: ChannelHub;
  /** The case-B session table (/api/sessions). */
  readonly sessions: SessionTable;
  private readonly opts: GatewayProxyOptions;
  private server: Server | null = null;
  private readonly kernelWss: WebSocketServer;
  private readonly plainWss: WebSocketServer;
  private readonly routes: Array<{ prefix: string; handler: RouteHandler; auth: boolean }> = [];
  private readonly upgrades: Array<{ path: string; handler: UpgradeHandler }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly extraSockets = new Set<WebSocket>();
  private token = '';
  private hosts = new Set<string>();
  private origins = new Set<string>();
  private readonly extraOrigins: Set<string>;
  private address: { host: string; port: number } | null = null;
  private readonly startedAt = new Date();
  /** Bounds the memory all clients' incoming messages hold together. */
  readonly inflight: InflightBudget;
  private readonly envAllowlist: Set<string>;

  constructor(opts: GatewayProxyOptions) {
    this.opts = opts;
    this.registry = opts.registry;
    this.directory = opts.directory;
    this.extraOrigins = new Set((opts.allowedOrigins ?? []).map((o) => o.replace(/\/+$/, '').toLowerCase()));
    this.channels = new ChannelHub({
      registry: opts.registry,
      pingIntervalMs: opts.pingIntervalMs,
      replayMaxBytes: opts.replayMaxBytes,
      replayMaxAgeMs: opts.replayMaxAgeMs,
      log: opts.log,
    });
    this.sessions = new SessionTable(
      opts.registry,
      async () => (await opts.directory.listKernelSpecs()).default,
    );
    this.envAllowlist = new Set(opts.envAllowlist ?? []);
    const maxPayload = opts.maxPayload ?? 256 * 1024 * 1024;
    this.inflight = new InflightBudget({
      totalBytes: opts.maxInflightBytes ?? 256 * 1024 * 1024,
      messageBytes: maxPayload,
      messageSettingHint: opts.maxPayloadHint,
    });
    const wsOpts = { noServer: true, perMessageDeflate: false, maxPayload };
    this.kernelWss = new WebSocketServer({
      ...wsOpts,
      handleProtocols: (protocols: Set<string>) => (protocols.has(V1_PROTOCOL) ? V1_PROTOCOL : false),
    });
    this.plainWss = new WebSocketServer(wsOpts);
  }

  /** Base URL (`http://127.0.0.1:P/`), once started. */
  get url(): string {
    if (!this.address) throw new Error('proxy not started');
    const h = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${h}:${this.address.port}/`;
  }

  /** Bound port, once started. */
  get port(): number {
    if (!this.address) throw new Error('proxy not started');
    return this.address.port;
  }

  /** The underlying HTTP server (null before start). */
  get httpServer(): Server | null {
    return this.server;
  }

  /** Name of the HttpOnly cookie that carries the token after a `?token=` page load. */
  get cookieName(): string {
    return `gateway-desktop-token-${this.address?.port ?? 0}`;
  }

  /** Bind and listen. Resolves once requests are accepted. */
  async start(opts: ProxyStartOptions): Promise<{ url: string; host: string; port: number }> {
    if (this.server) throw new Error('proxy already started');
    if (!opts.token || !opts.token.trim()) throw new Error('a non-empty token is required');
    this.token = opts.token.trim();
    const host = opts.host ?? '127.0.0.1';
    const server = createServer({ keepAliveTimeout: 30_000 });
    server.on('connection', (socket: Socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handleRequest(req, res).catch((err: unknown) => {
        this.log(`request ${req.method} ${req.url} failed: ${errorMessage(err)}`);
        sendError(res, 500, 'Internal Server Error', errorMessage(err));
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(req, socket, head),
    );
    server.on('clientError', (_err, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.address = { host, port: addr.port };
    this.hosts = allowedHostValues(host, addr.port, this.opts.allowedHosts);
    this.origins = ownOrigins(this.hosts);
    return { url: this.url, host, port: addr.port };
  }

  /** Close every socket and the server. Kernels are not touched (the registry owns them). */
  async stop(): Promise<void> {
    this.channels.dispose();
    for (const ws of this.extraSockets) ws.close(CloseCodes.goingAway, 'gateway shutting down');
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => {
      for (const s of this.sockets) s.destroy();
      server.closeAllConnections();
    }, 500).unref();
    await closed;
    this.kernelWss.close();
    this.plainWss.close();
  }

  /**
   * Register an extra HTTP route under `prefix` (e.g. `/host-api` or `/` for a static UI). Built-in Jupyter
   * routes (`/api`, `/api/kernels…`, `/api/kernelspecs…`, `/api/sessions…`, `/api/status`, `/kernelspecs/…`)
   * always win; among extra routes the longest prefix wins. Returns a function that unregisters it.
   */
  addRoute(prefix: string, handler: RouteHandler, opts: RouteOptions = {}): () => void {
    if (!prefix.startsWith('/')) throw new Error(`route prefix must start with "/": ${prefix}`);
    const r = {
      prefix: prefix === '/' ? '/' : prefix.replace(/\/+$/, ''),
      handler,
      auth: opts.auth !== false,
    };
    this.routes.push(r);
    this.routes.sort((a, b) => b.prefix.length - a.prefix.length);
    return () => {
      const i = this.routes.indexOf(r);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  /**
   * Register an extra WebSocket upgrade path (exact path match, e.g. `/host-api/ws`). Token, Host and Origin
   * are checked before the handler runs. Returns a function that unregisters it.
   */
  addUpgrade(path: string, handler: UpgradeHandler): () => void {
    const u = { path, handler };
    this.upgrades.push(u);
    return () => {
      const i = this.upgrades.indexOf(u);
      if (i >= 0) this.upgrades.splice(i, 1);
    };
  }

  private log(message: string): void {
    (this.opts.log ?? ((m: string) => console.warn(`[gateway] ${m}`)))(message);
  }

  // -------------------------------------------------------------------------------------------------------
  // checks

  private checkHost(req: IncomingMessage): string | null {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!host) return 'Host header is missing';
    if (!this.hosts.has(host)) return `Host "${host.slice(0, 100)}" is not this gateway's address`;
    return null;
  }

  private originAllowed(origin: string): boolean {
    const o = origin.replace(/\/+$/, '').toLowerCase();
    return this.origins.has(o) || this.extraOrigins.has(o) || this.extraOrigins.has('*');
  }

  private authorized(req: IncomingMessage, query: URLSearchParams): { ok: boolean; viaQuery: boolean } {
    const t = requestToken(req, query, this.cookieName);
    if (!t) return { ok: false, viaQuery: false };
    return { ok: tokensEqual(t.token, this.token), viaQuery: t.source === 'query' };
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin || !this.extraOrigins.size) return {};
    const o = origin.replace(/\/+$/, '').toLowerCase();
    if (!this.extraOrigins.has(o) && !this.extraOrigins.has('*')) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-XSRFToken',
      'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
      'Access-Control-Expose-Headers': 'Location',
      Vary: 'Origin',
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // HTTP

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');

    const hostProblem = this.checkHost(req);
    if (hostProblem) return sendError(res, 403, 'Forbidden', hostProblem);
    const origin = req.headers.origin;
    if (origin && !this.originAllowed(origin)) {
      return sendError(res, 403, 'Forbidden', `Origin "${origin.slice(0, 100)}" is not allowed`);
    }
    for (const [k, v] of Object.entries(this.corsHeaders(req))) res.setHeader(k, v);
    if (method === 'OPTIONS') return sendNoContent(res);

    const auth = this.authorized(req, query);
    const unauthorized = () =>
      sendError(
        res,
        401,
        'Unauthorized',
        'A valid token is required: send "Authorization: token <token>" or add ?token=<token>',
      );
    const segments = decodeSegments(pathname);
    if (!segments || !pathname.startsWith('/')) {
      return auth.ok ? sendError(res, 404, 'Not Found', 'Malformed path') : unauthorized();
    }
    const ctx: RequestContext = { req, res, method, pathname, segments, query };
    const builtin = this.isBuiltin(segments);
    const route = builtin ? undefined : this.findRoute(pathname);

    if (!auth.ok && (builtin || !route || route.auth)) return unauthorized();
    if (auth.ok && auth.viaQuery && method === 'GET' && !builtin) {
      res.setHeader(
        'Set-Cookie',
        `${this.cookieName}=${encodeURIComponent(this.token)}; HttpOnly; SameSite=Strict; Path=/`,
      );
    }

    try {
      if (builtin) {
        await this.handleBuiltin(ctx);
        return;
      }
      if (route) {
        const handled = await route.handler(ctx);
        if (handled !== false) return;
      }
      if (res.headersSent) return;
      // Without the token nothing says what exists: an unknown path answers 401, as every API path does.
      if (!auth.ok) return unauthorized();
      sendError(res, 404, 'Not Found', `No such endpoint: ${method} ${pathname.slice(0, 200)}`);
    } catch (err) {
      if (err instanceof GatewayError) return sendError(res, err.status, err.reason, err.message);
      throw err;
    }
  }

  private isBuiltin(seg: string[]): boolean {
    if (seg[0] === 'kernelspecs') return true;
    if (seg[0] !== 'api') return false;
    return seg.length === 1 || ['kernels', 'kernelspecs', 'sessions', 'status'].includes(seg[1]);
  }

  private findRoute(pathname: string): { prefix: string; handler: RouteHandler; auth: boolean } | undefined {
    return this.routes.find(
      (r) => r.prefix === '/' || pathname === r.prefix || pathname.startsWith(r.prefix + '/'),
    );
  }

  private async handleBuiltin(ctx: RequestContext): Promise<void> {
    const { method, segments: seg, res } = ctx;
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) {
        res.setHeader('Allow', methods.join(', '));
        throw new HttpError(
          405,
          'Method Not Allowed',
          `${method} is not allowed on ${ctx.pathname.slice(0, 200)}`,
        );
      }
    };

    if (seg[0] === 'kernelspecs') {
      allow('GET', 'HEAD');
      return this.serveResource(ctx);
    }
    if (seg.length === 1) {
      allow('GET');
      return sendJson(res, 200, {
        version: GATEWAY_VERSION,
        gateway_version: GATEWAY_VERSION,
        gateway: 'gateway-desktop',
        kernel_ws_protocols: [V1_PROTOCOL, 'legacy'],
      });
    }
    switch (seg[1]) {
      case 'status':
        allow('GET');
        return this.serveStatus(ctx);
      case 'kernelspecs':
        allow('GET');
        return this.serveKernelSpecs(ctx);
      case 'kernels':
        return this.serveKernels(ctx, allow);
      case 'sessions':
        return this.serveSessions(ctx, allow);
    }
    throw notFound(`No such endpoint: ${method} ${ctx.pathname.slice(0, 200)}`);
  }

  private serveStatus(ctx: RequestContext): void {
    const kernels = this.registry.list();
    const last = kernels.map((k) => k.lastActivity).sort();
    sendJson(ctx.res, 200, {
      started: this.startedAt.toISOString().replace('Z', '000Z'),
      last_activity: last.length ? last[last.length - 1] : this.startedAt.toISOString().replace('Z', '000Z'),
      connections: kernels.reduce((n, k) => n + k.connections, 0),
      kernels: kernels.length,
    });
  }

  private specModel(s: RoutedKernelSpec): Record<string, unknown> {
    const base = `/kernelspecs/${encodeURIComponent(s.name)}/`;
    const resources: Record<string, string> = {};
    for (const [k, f] of Object.entries(s.resources)) {
      resources[k] = /^[a-z]+:\/\//i.test(f) ? f : base + f.split('/').map(encodeURIComponent).join('/');
    }
    return {
      name: s.name,
      spec: {
        argv: Array.isArray(s.spec.argv) ? s.spec.argv : [],
        env: s.spec.env ?? {},
        display_name: s.spec.display_name,
        language: s.spec.language,
        interrupt_mode: s.spec.interrupt_mode ?? 'signal',
        metadata: s.spec.metadata ?? {},
      },
      resources,
    };
  }

  private async serveKernelSpecs(ctx: RequestContext): Promise<void> {
    const { segments: seg, res, query } = ctx;
    let single: string | null = null;
    if (seg.length === 3) single = seg[2];
    else if (seg.length > 3) throw notFound(`No such endpoint: ${ctx.pathname.slice(0, 200)}`);
    // jupyter_server quirk: with KERNEL_USERNAME set it asks for `/api/kernelspecs?user=<u>/<name>`.
    // The user goes on to clusters that list kernelspecs per user (Enterprise Gateway).
    let user = query.get('user') ?? undefined;
    if (single === null && user && user.includes('/')) {
      single = user.slice(user.lastIndexOf('/') + 1);
      user = user.slice(0, user.lastIndexOf('/'));
    }
    if (single !== null) {
      const s = single ? await this.directory.getSpec(single, { user }) : null;
      if (!s) throw new KernelSpecNotFoundError(single);
      return sendJson(res, 200, this.specModel(s));
    }
    const listing = await this.directory.listKernelSpecs({ user });
    const kernelspecs: Record<string, unknown> = {};
    for (const s of listing.specs) if (!(s.name in kernelspecs)) kernelspecs[s.name] = this.specModel(s);
    sendJson(res, 200, { default: listing.default, kernelspecs });
  }

  private async serveResource(ctx: RequestContext): Promise<void> {
    const { segments: seg, res } = ctx;
    const miss = () => notFound(`No such kernelspec resource: ${ctx.pathname.slice(0, 200)}`);
    if (seg.length < 3) throw miss();
    const [, name, ...file] = seg;
    if (!safeSegment(name) || !file.every(safeSegment)) throw miss();
    const found = await this.directory.getResource(name, file.join('/'));
    if (!found) throw miss();
    res.writeHead(200, {
      'Content-Type': found.contentType,
      'Content-Length': found.body.length,
      'Cache-Control': 'max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(ctx.method === 'HEAD' ? undefined : found.body);
  }

  private async serveKernels(ctx: RequestContext, allow: (...m: string[]) => void): Promise<void> {
    const { segments: seg, res, method } = ctx;
    if (seg.length === 2) {
      allow('GET', 'POST');
      if (method === 'GET') return sendJson(res, 200, this.registry.models());
      const body = await readJson(ctx.req, this.opts.maxBodyBytes);
      const { name, env } = this.parseStartBody(body);
      const specName = name ?? (await this.directory.listKernelSpecs({ user: env.KERNEL_USERNAME })).default;
      if (!specName) throw new KernelSpecNotFoundError('(default)');
      // A client that gives up (jupyter_server's request_timeout) must not leave a kernel it never learns of.
      const gaveUp = new AbortController();
      const onClose = () => {
        if (!res.writableEnded) gaveUp.abort(new Error('the client closed the request'));
      };
      res.on('close', onClose);
      let info;
      try {
        info = await this.registry.start(specName, env, { signal: gaveUp.signal });
      } finally {
        res.off('close', onClose);
      }
      const model = this.registry.model(info.id);
      return sendJson(res, 201, model, { Location: `/api/kernels/${encodeURIComponent(info.id)}` });
    }
    const id = seg[2];
    if (seg.length === 3) {
      allow('GET', 'DELETE');
      if (method === 'GET') {
        const m = this.registry.model(id);
        if (!m) throw new KernelNotFoundError(id);
        return sendJson(res, 200, m);
      }
      await this.registry.shutdown(id);
      return sendNoContent(res);
    }
    if (seg.length === 4) {
      switch (seg[3]) {
        case 'interrupt':
          allow('POST');
          await readJson(ctx.req, this.opts.maxBodyBytes).catch(() => ({}));
          await this.registry.interrupt(id).catch((err: unknown) => {
            if (err instanceof GatewayError) throw err;
            throw new GatewayError(500, 'Interrupt failed', errorMessage(err));
          });
          return sendNoContent(res);
        case 'restart': {
          allow('POST');
          await readJson(ctx.req, this.opts.maxBodyBytes).catch(() => ({}));
          const model = await this.registry.restart(id);
          return sendJson(res, 200, model);
        }
        case 'channels':
          if (!this.registry.has(id)) throw new KernelNotFoundError(id);
          throw new HttpError(400, 'Bad Request', 'This endpoint needs a WebSocket upgrade');
      }
    }
    throw notFound(`No such endpoint: ${method} ${ctx.pathname.slice(0, 200)}`);
  }

  private parseStartBody(body: unknown): { name: string | null; env: Record<string, string> } {
    if (!isObject(body)) throw new HttpError(400, 'Bad Request', 'Request body must be a JSON object');
    let name: string | null = null;
    if (body.name !== undefined && body.name !== null) {
      if (typeof body.name !== 'string') throw new HttpError(400, 'Bad Request', '"name" must be a string');
      name = body.name || null;
    }
    const env: Record<string, string> = {};
    const dropped: string[] = [];
    if (body.env !== undefined && body.env !== null) {
      if (!isObject(body.env)) throw new HttpError(400, 'Bad Request', '"env" must be an object of strings');
      for (const [k, v] of Object.entries(body.env)) {
        if (typeof v !== 'string') throw new HttpError(400, 'Bad Request', `env.${k} must be a string`);
        if (k.includes('\0') || v.includes('\0') || k.includes('=') || !k) {
          throw new HttpError(400, 'Bad Request', `env.${k.replace(/\0/g, '\\0')} is not a valid variable`);
        }
        // As Kernel Gateway: a client passes KERNEL_* variables and the allow-listed names, nothing else (not
        // PATH or LD_PRELOAD into a kernel on this computer).
        if (!k.startsWith('KERNEL_') && !this.envAllowlist.has(k)) {
          dropped.push(k);
          continue;
        }
        env[k] = v;
      }
    }
    if (dropped.length)
      this.log(
        `kernel start: ignored env ${dropped.slice(0, 10).join(', ')} (only KERNEL_* and allow-listed)`,
      );
    return { name, env };
  }

  private async serveSessions(ctx: RequestContext, allow: (...m: string[]) => void): Promise<void> {
    const { segments: seg, res, method } = ctx;
    if (seg.length === 2) {
      allow('GET', 'POST');
      if (method === 'GET') return sendJson(res, 200, this.sessions.list());
      const model = await this.sessions.create(await readJson(ctx.req, this.opts.maxBodyBytes));
      return sendJson(res, 201, model, { Location: `/api/sessions/${encodeURIComponent(model.id)}` });
    }
    if (seg.length === 3) {
      allow('GET', 'PATCH', 'DELETE');
      const id = seg[2];
      const missing = () => notFound(`Session not found: ${id}`);
      if (method === 'GET') {
        const m = this.sessions.get(id);
        if (!m) throw missing();
        return sendJson(res, 200, m);
      }
      if (method === 'PATCH') {
        const m = await this.sessions.update(id, await readJson(ctx.req, this.opts.maxBodyBytes));
        if (!m) throw missing();
        return sendJson(res, 200, m);
      }
      if (!(await this.sessions.delete(id))) throw missing();
      return sendNoContent(res);
    }
    throw notFound(`No such endpoint: ${method} ${ctx.pathname.slice(0, 200)}`);
  }

  // -------------------------------------------------------------------------------------------------------
  // WebSocket upgrades

  private rejectUpgrade(socket: Duplex, status: number, message: string): void {
    const body = JSON.stringify({ reason: STATUS_TEXT[status] ?? 'Error', message });
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
          'Content-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    socket.on('error', () => undefined);

    const hostProblem = this.checkHost(req);
    if (hostProblem) return this.rejectUpgrade(socket, 403, hostProblem);
    const origin = req.headers.origin;
    if (origin && !this.originAllowed(origin)) {
      return this.rejectUpgrade(socket, 403, `Origin "${origin.slice(0, 100)}" is not allowed`);
    }
    if (!this.authorized(req, query).ok) {
      return this.rejectUpgrade(socket, 401, 'A valid token is required (Authorization header or ?token=)');
    }
    const seg = decodeSegments(pathname);
    if (seg && seg.length === 4 && seg[0] === 'api' && seg[1] === 'kernels' && seg[3] === 'channels') {
      const id = seg[2];
      const entry = this.registry.get(id);
      if (!entry) return this.rejectUpgrade(socket, 404, `Kernel does not exist: ${id}`);
      if (entry.executionState === 'dead') {
        return this.rejectUpgrade(socket, 404, `Kernel ${id} is dead: ${entry.reason ?? 'unknown reason'}`);
      }
      const sessionId = query.get('session_id');
      this.kernelWss.handleUpgrade(req, socket, head, (ws) => {
        this.inflight.watch(ws, socket);
        const protocol = ws.protocol === V1_PROTOCOL ? 'v1' : 'legacy';
        // `socket` is the TCP socket `ws` now writes to; the hub corks it to batch a burst of frames.
        this.channels.attach(ws, id, sessionId, protocol, socket);
      });
      return;
    }
    const extra = this.upgrades.find((u) => u.path === pathname);
    if (extra) {
      let settled = false;
      extra.handler(req, socket, head, {
        pathname,
        query,
        accept: () =>
          new Promise<WebSocket>((resolve) => {
            settled = true;
            this.plainWss.handleUpgrade(req, socket, head, (ws) => {
              this.extraSockets.add(ws);
              ws.on('close', () => this.extraSockets.delete(ws));
              resolve(ws);
            });
          }),
        reject: (status, message) => {
          if (settled) return;
          settled = true;
          this.rejectUpgrade(socket, status, message);
        },
      });
      return;
    }
    this.rejectUpgrade(socket, 404, `No WebSocket endpoint at ${pathname.slice(0, 200)}`);
  }
}

/** A random token (URL-safe) for proxies started without one. */
export function generateToken(): string {
  return randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
}
