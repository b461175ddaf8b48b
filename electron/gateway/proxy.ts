// The local gateway proxy: the Jupyter Kernel Gateway REST + WebSocket API on 127.0.0.1, so JupyterLab,
// @jupyterlab/services and any jupyter_server started with `--gateway-url` can use the app's kernels.
//
// It depends only on the kernel registry and the cluster directory; it knows nothing of ZMQ or remote
// gateways. Every request needs the token (header `Authorization: token T` / `Bearer T`, `?token=T`, or the
// HttpOnly cookie set after a `?token=` page load), a Host header naming the proxy itself (DNS rebinding),
// and, when it has an Origin, the proxy's own origin or one from the allow-list.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KernelRegistry } from '../kernels/registry';
import { GatewayError, errorMessage } from '../kernels/errors';
import { allowedHostValues, ownOrigins, requestToken, tokensEqual } from './auth';
import { ChannelHub, CloseCodes } from './channels';
import { V1_PROTOCOL } from './frames';
import { decodeSegments, rejectUpgrade, sendError, sendNoContent, type RequestContext } from './http-util';
import type {
  GatewayProxyOptions,
  ProxyStartOptions,
  RouteHandler,
  RouteOptions,
  UpgradeHandler,
} from './proxy-options';
import { InflightBudget } from './inflight';
import { JupyterApi } from './jupyter-api';
import { SessionTable } from './sessions';
import type { SpecDirectory } from './spec-directory';

export { GATEWAY_VERSION } from './jupyter-api';
export { generateToken } from './auth';
export type {
  GatewayProxyOptions,
  ProxyStartOptions,
  RouteHandler,
  RouteOptions,
  UpgradeContext,
  UpgradeHandler,
} from './proxy-options';
export type { SpecDirectory } from './spec-directory';
export type { RequestContext } from './http-util';

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
  private readonly inflight: InflightBudget;
  private readonly api: JupyterApi;

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
    this.api = new JupyterApi({
      registry: opts.registry,
      directory: opts.directory,
      sessions: this.sessions,
      startedAt: this.startedAt,
      maxBodyBytes: opts.maxBodyBytes,
      log: (m) => this.log(m),
    });
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
        await this.api.handle(ctx);
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

  // -------------------------------------------------------------------------------------------------------
  // WebSocket upgrades

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    socket.on('error', () => undefined);

    const hostProblem = this.checkHost(req);
    if (hostProblem) return rejectUpgrade(socket, 403, hostProblem);
    const origin = req.headers.origin;
    if (origin && !this.originAllowed(origin)) {
      return rejectUpgrade(socket, 403, `Origin "${origin.slice(0, 100)}" is not allowed`);
    }
    if (!this.authorized(req, query).ok) {
      return rejectUpgrade(socket, 401, 'A valid token is required (Authorization header or ?token=)');
    }
    const seg = decodeSegments(pathname);
    if (seg && seg.length === 4 && seg[0] === 'api' && seg[1] === 'kernels' && seg[3] === 'channels') {
      const id = seg[2];
      const entry = this.registry.get(id);
      if (!entry) return rejectUpgrade(socket, 404, `Kernel does not exist: ${id}`);
      if (entry.executionState === 'dead') {
        return rejectUpgrade(socket, 404, `Kernel ${id} is dead: ${entry.reason ?? 'unknown reason'}`);
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
          rejectUpgrade(socket, status, message);
        },
      });
      return;
    }
    rejectUpgrade(socket, 404, `No WebSocket endpoint at ${pathname.slice(0, 200)}`);
  }
}
