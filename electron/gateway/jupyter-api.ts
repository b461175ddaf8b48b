// The Jupyter Kernel Gateway REST API the proxy serves: /api, /api/status, /api/kernelspecs, the spec
// resources, /api/kernels (start, list, interrupt, restart, delete) and the direct-client /api/sessions.
// Requests reach it after the proxy checked the token, Host and Origin; it answers with `{reason, message}`
// errors by throwing GatewayErrors.
import type { RoutedKernelSpec } from '../clusters/directory';
import type { KernelRegistry } from '../kernels/registry';
import { GatewayError, KernelNotFoundError, KernelSpecNotFoundError, errorMessage } from '../kernels/errors';
import { V1_PROTOCOL } from './frames';
import {
  HttpError,
  isObject,
  notFound,
  readJson,
  safeSegment,
  sendJson,
  sendNoContent,
  type RequestContext,
} from './http-util';
import type { SessionTable } from './sessions';
import type { SpecDirectory } from './spec-directory';

/** Reported by GET /api. */
export const GATEWAY_VERSION = '0.1.0';

export interface JupyterApiDeps {
  registry: KernelRegistry;
  directory: SpecDirectory;
  sessions: SessionTable;
  startedAt: Date;
  maxBodyBytes: number | undefined;
  log: (message: string) => void;
}

export class JupyterApi {
  constructor(private readonly deps: JupyterApiDeps) {}

  /** Answer a request on a Jupyter API path (see GatewayProxy.isBuiltin). */
  async handle(ctx: RequestContext): Promise<void> {
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
    const kernels = this.deps.registry.list();
    const last = kernels.map((k) => k.lastActivity).sort();
    sendJson(ctx.res, 200, {
      started: this.deps.startedAt.toISOString().replace('Z', '000Z'),
      last_activity: last.length
        ? last[last.length - 1]
        : this.deps.startedAt.toISOString().replace('Z', '000Z'),
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
      const s = single ? await this.deps.directory.getSpec(single, { user }) : null;
      if (!s) throw new KernelSpecNotFoundError(single);
      return sendJson(res, 200, this.specModel(s));
    }
    const listing = await this.deps.directory.listKernelSpecs({ user });
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
    const found = await this.deps.directory.getResource(name, file.join('/'));
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
      if (method === 'GET') return sendJson(res, 200, this.deps.registry.models());
      const body = await readJson(ctx.req, this.deps.maxBodyBytes);
      const { name, env } = this.parseStartBody(body);
      const specName =
        name ?? (await this.deps.directory.listKernelSpecs({ user: env.KERNEL_USERNAME })).default;
      if (!specName) throw new KernelSpecNotFoundError('(default)');
      // A client that gives up (jupyter_server's request_timeout) must not leave a kernel it never learns of.
      const gaveUp = new AbortController();
      const onClose = () => {
        if (!res.writableEnded) gaveUp.abort(new Error('the client closed the request'));
      };
      res.on('close', onClose);
      let info;
      try {
        info = await this.deps.registry.start(specName, env, { signal: gaveUp.signal });
      } finally {
        res.off('close', onClose);
      }
      const model = this.deps.registry.model(info.id);
      return sendJson(res, 201, model, { Location: `/api/kernels/${encodeURIComponent(info.id)}` });
    }
    const id = seg[2];
    if (seg.length === 3) {
      allow('GET', 'DELETE');
      if (method === 'GET') {
        const m = this.deps.registry.model(id);
        if (!m) throw new KernelNotFoundError(id);
        return sendJson(res, 200, m);
      }
      await this.deps.registry.shutdown(id);
      return sendNoContent(res);
    }
    if (seg.length === 4) {
      switch (seg[3]) {
        case 'interrupt':
          allow('POST');
          await readJson(ctx.req, this.deps.maxBodyBytes).catch(() => ({}));
          await this.deps.registry.interrupt(id).catch((err: unknown) => {
            if (err instanceof GatewayError) throw err;
            throw new GatewayError(500, 'Interrupt failed', errorMessage(err));
          });
          return sendNoContent(res);
        case 'restart': {
          allow('POST');
          await readJson(ctx.req, this.deps.maxBodyBytes).catch(() => ({}));
          const model = await this.deps.registry.restart(id);
          return sendJson(res, 200, model);
        }
        case 'channels':
          if (!this.deps.registry.has(id)) throw new KernelNotFoundError(id);
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
    if (body.env !== undefined && body.env !== null) {
      if (!isObject(body.env)) throw new HttpError(400, 'Bad Request', '"env" must be an object of strings');
      for (const [k, v] of Object.entries(body.env)) {
        if (typeof v !== 'string') throw new HttpError(400, 'Bad Request', `env.${k} must be a string`);
        if (k.includes('\0') || v.includes('\0') || k.includes('=') || !k) {
          throw new HttpError(400, 'Bad Request', `env.${k.replace(/\0/g, '\\0')} is not a valid variable`);
        }
        env[k] = v;
      }
    }
    return { name, env };
  }

  private async serveSessions(ctx: RequestContext, allow: (...m: string[]) => void): Promise<void> {
    const { segments: seg, res, method } = ctx;
    if (seg.length === 2) {
      allow('GET', 'POST');
      if (method === 'GET') return sendJson(res, 200, this.deps.sessions.list());
      const model = await this.deps.sessions.create(await readJson(ctx.req, this.deps.maxBodyBytes));
      return sendJson(res, 201, model, { Location: `/api/sessions/${encodeURIComponent(model.id)}` });
    }
    if (seg.length === 3) {
      allow('GET', 'PATCH', 'DELETE');
      const id = seg[2];
      const missing = () => notFound(`Session not found: ${id}`);
      if (method === 'GET') {
        const m = this.deps.sessions.get(id);
        if (!m) throw missing();
        return sendJson(res, 200, m);
      }
      if (method === 'PATCH') {
        const m = await this.deps.sessions.update(id, await readJson(ctx.req, this.deps.maxBodyBytes));
        if (!m) throw missing();
        return sendJson(res, 200, m);
      }
      if (!(await this.deps.sessions.delete(id))) throw missing();
      return sendNoContent(res);
    }
    throw notFound(`No such endpoint: ${method} ${ctx.pathname.slice(0, 200)}`);
  }
}
