// An in-test upstream that behaves like Enterprise Gateway where Debian's Jupyter Server cannot show it:
// kernelspecs filtered per `?user=`, unauthorized users (root by default) refused with 403 on start, a
// restart answered at once ("busy") while the kernel comes back only when the test says so, and a
// channels WebSocket (legacy protocol, as a stand-in for any gateway) that answers kernel_info once the
// kernel is ready. Everything it saw is recorded for assertions.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';

export interface StandInKernel {
  id: string;
  name: string;
  env: Record<string, string>;
  /** False between a restart and finishRestart(). */
  ready: boolean;
  /** kernel_info requests held while not ready. */
  held: { ws: WebSocket; msg: LegacyMsg }[];
  restarts: number;
}

export interface LegacyMsg {
  channel: string;
  header: { msg_id: string; msg_type: string; session: string; [k: string]: unknown };
  parent_header: Record<string, unknown>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

export interface StandInOptions {
  /** Which specs each user may see; users not listed see every spec. */
  specsByUser?: Record<string, string[]>;
  specs?: string[];
  unauthorizedUsers?: string[];
}

export function legacyMsg(
  channel: string,
  msgType: string,
  content: Record<string, unknown>,
  parent: Record<string, unknown> = {},
): LegacyMsg {
  return {
    channel,
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: 'stand-in',
      username: 'stand-in',
      date: new Date().toISOString(),
      version: '5.3',
    },
    parent_header: parent,
    metadata: {},
    content,
  };
}

export class EnterpriseGatewayStandIn extends EventEmitter {
  readonly kernels = new Map<string, StandInKernel>();
  /** Every request line with its query, e.g. "GET /api/kernelspecs?user=alice". */
  readonly requests: string[] = [];
  readonly sockets = new Set<WebSocket>();
  private server = http.createServer((req, res) => void this.handle(req, res));
  // Legacy protocol only (no subprotocol selected), like Kernel Gateway; the relay falls back to it.
  private wss = new WebSocketServer({ noServer: true, handleProtocols: () => false });
  port = 0;

  constructor(private readonly opts: StandInOptions = {}) {
    super();
    this.server.on('upgrade', (req, socket, head) => {
      const m = /^\/api\/kernels\/([^/]+)\/channels/.exec(req.url ?? '');
      const k = m ? this.kernels.get(decodeURIComponent(m[1])) : undefined;
      if (!k) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(k, ws));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The restarted kernel is back: answer the kernel_info requests held meanwhile. */
  finishRestart(id: string): void {
    const k = this.kernels.get(id);
    if (!k) throw new Error(`no kernel ${id}`);
    k.ready = true;
    for (const h of k.held.splice(0)) this.answerKernelInfo(h.ws, h.msg);
  }

  send(ws: WebSocket, msg: LegacyMsg): void {
    ws.send(JSON.stringify(msg));
  }

  private specsFor(user: string | null): string[] {
    const all = this.opts.specs ?? ['python3'];
    const allowed = user !== null ? this.opts.specsByUser?.[user] : undefined;
    return allowed ?? all;
  }

  private onSocket(k: StandInKernel, ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('pong', () => this.emit('pong', ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as LegacyMsg;
      this.emit('message', msg, ws, k);
      if (msg.header.msg_type !== 'kernel_info_request') return;
      if (k.ready) this.answerKernelInfo(ws, msg);
      else {
        k.held.push({ ws, msg });
        this.emit('held-kernel-info', k);
      }
    });
    this.emit('connection', ws, k);
  }

  private answerKernelInfo(ws: WebSocket, req: LegacyMsg): void {
    const parent = req.header;
    this.send(ws, legacyMsg('iopub', 'status', { execution_state: 'busy' }, parent));
    this.send(ws, legacyMsg('shell', 'kernel_info_reply', { status: 'ok', protocol_version: '5.3' }, parent));
    this.send(ws, legacyMsg('iopub', 'status', { execution_state: 'idle' }, parent));
  }

  private model(k: StandInKernel, state?: string): Record<string, unknown> {
    return {
      id: k.id,
      name: k.name,
      last_activity: new Date().toISOString(),
      execution_state: state ?? (k.ready ? 'idle' : 'busy'),
      connections: [...this.sockets].length,
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length
      ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>)
      : {};
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const seg = url.pathname.split('/').filter(Boolean);
    if (url.pathname === '/api') return json(200, { version: '2.14.0', gateway_version: '3.2.3' });
    if (url.pathname === '/api/kernelspecs') {
      const names = this.specsFor(url.searchParams.get('user'));
      const kernelspecs = Object.fromEntries(
        names.map((n) => [
          n,
          { name: n, spec: { display_name: n, language: 'python', argv: [] }, resources: {} },
        ]),
      );
      return json(200, { default: names[0] ?? null, kernelspecs });
    }
    if (seg[0] === 'api' && seg[1] === 'kernels') {
      if (seg.length === 2 && req.method === 'GET')
        return json(
          200,
          [...this.kernels.values()].map((k) => this.model(k)),
        );
      if (seg.length === 2 && req.method === 'POST') {
        const env = (body.env ?? {}) as Record<string, string>;
        const user = env.KERNEL_USERNAME ?? '';
        const name = String(body.name);
        if ((this.opts.unauthorizedUsers ?? ['root']).includes(user)) {
          return json(403, {
            reason: 'Forbidden',
            message: `User '${user}' is not authorized to start kernel '${name}'. Ensure KERNEL_USERNAME is set to an appropriate value and retry the request.`,
          });
        }
        if (!this.specsFor(user || null).includes(name)) {
          return json(404, { reason: 'Not Found', message: `No such kernel ${name}` });
        }
        const k: StandInKernel = {
          id: env.KERNEL_ID ?? randomUUID(),
          name,
          env,
          ready: true,
          held: [],
          restarts: 0,
        };
        this.kernels.set(k.id, k);
        return json(201, this.model(k, 'starting'));
      }
      const k = this.kernels.get(decodeURIComponent(seg[2] ?? ''));
      if (!k) return json(404, { reason: 'Not Found', message: 'Kernel does not exist' });
      if (seg.length === 3 && req.method === 'GET') return json(200, this.model(k));
      if (seg.length === 3 && req.method === 'DELETE') {
        this.kernels.delete(k.id);
        res.writeHead(204).end();
        return;
      }
      if (seg[3] === 'restart') {
        // Enterprise Gateway answers before the restarted kernel answers anything.
        k.ready = false;
        k.restarts++;
        this.emit('restart', k);
        return json(200, this.model(k, 'busy'));
      }
      if (seg[3] === 'interrupt') {
        res.writeHead(204).end();
        return;
      }
    }
    json(404, { reason: 'Not Found', message: `no ${url.pathname}` });
  }
}
