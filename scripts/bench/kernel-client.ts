// A plain Jupyter kernel client for the benchmark, over one of three transports: a WebSocket in the legacy
// protocol (what jupyter_server's gateway client speaks), a WebSocket in v1 (what JupyterLab offers), or a
// KernelPort straight on ZMQ. "Ordinary client": default `ws` options, no TCP tricks.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { KernelPort, WireMessage } from '../../provisioners/types';

export interface JMessage {
  channel: string;
  header: { msg_id: string; msg_type: string; session: string; [k: string]: unknown };
  parent_header: { msg_id?: string; msg_type?: string; [k: string]: unknown };
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

type Listener = (m: JMessage) => void;

export abstract class BenchKernelClient {
  readonly session = randomUUID();
  private listeners = new Set<Listener>();

  protected deliver(m: JMessage): void {
    for (const l of this.listeners) l(m);
  }

  protected abstract sendRaw(m: JMessage): void;
  abstract close(): void;

  onMessage(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  makeMessage(channel: string, msgType: string, content: Record<string, unknown>): JMessage {
    return {
      channel,
      header: {
        msg_id: randomUUID(),
        msg_type: msgType,
        session: this.session,
        username: 'bench',
        date: new Date().toISOString(),
        version: '5.3',
      },
      parent_header: {},
      metadata: {},
      content,
    };
  }

  /** Send a request and resolve when its reply arrived and (if waitIdle) the kernel went idle for it. */
  request(
    channel: string,
    msgType: string,
    content: Record<string, unknown>,
    opts: { waitIdle?: boolean; onIopub?: (m: JMessage) => void; timeoutMs?: number } = {},
  ): Promise<JMessage> {
    const msg = this.makeMessage(channel, msgType, content);
    const id = msg.header.msg_id;
    return new Promise<JMessage>((resolve, reject) => {
      let reply: JMessage | null = null;
      let idle = !opts.waitIdle;
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${msgType} timed out after ${opts.timeoutMs ?? 60000} ms`));
      }, opts.timeoutMs ?? 60000);
      const off = this.onMessage((m) => {
        if (m.parent_header?.msg_id !== id) return;
        if (m.channel === 'iopub') {
          if (m.header.msg_type === 'status' && m.content.execution_state === 'idle') idle = true;
          else opts.onIopub?.(m);
        } else if (m.header.msg_type.endsWith('_reply')) {
          reply = m;
        }
        if (reply && idle) {
          clearTimeout(timer);
          off();
          resolve(reply);
        }
      });
      this.sendRaw(msg);
    });
  }

  /**
   * Wait until the kernel answers kernel_info, resending every 500 ms: Jupyter Server 1.23's gateway relay
   * can drop the first message sent right after its WebSocket opens (JupyterLab copes the same way).
   */
  async ready(timeoutMs = 60000): Promise<JMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.request('shell', 'kernel_info_request', {}, { timeoutMs: 500 });
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
  }

  /** Execute code; resolves after execute_reply and idle. Calls onStream with each stream text. */
  async execute(code: string, onStream?: (text: string) => void, timeoutMs = 120000): Promise<JMessage> {
    const reply = await this.request(
      'shell',
      'execute_request',
      {
        code,
        silent: false,
        store_history: false,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      },
      {
        waitIdle: true,
        timeoutMs,
        onIopub: (m) => {
          if (m.header.msg_type === 'stream' && onStream) onStream(String(m.content.text));
        },
      },
    );
    if (reply.content.status !== 'ok') throw new Error(`execute failed: ${JSON.stringify(reply.content)}`);
    return reply;
  }
}

/** Parse a legacy-protocol frame (text JSON or the legacy binary container). */
function parseLegacy(data: Buffer, isBinary: boolean): JMessage {
  if (!isBinary) return JSON.parse(data.toString('utf8')) as JMessage;
  const n = data.readUInt32BE(0);
  const start = data.readUInt32BE(4);
  const end = n > 1 ? data.readUInt32BE(8) : data.length;
  return JSON.parse(data.subarray(start, end).toString('utf8')) as JMessage;
}

function parseV1(data: Buffer): JMessage {
  const n = Number(data.readBigUInt64LE(0));
  const offs: number[] = [];
  for (let i = 0; i < n; i++) offs.push(Number(data.readBigUInt64LE(8 * (i + 1))));
  const part = (i: number) => data.subarray(offs[i], i + 1 < n ? offs[i + 1] : data.length);
  return {
    channel: part(0).toString('utf8'),
    header: JSON.parse(part(1).toString('utf8')),
    parent_header: JSON.parse(part(2).toString('utf8')),
    metadata: JSON.parse(part(3).toString('utf8')),
    content: JSON.parse(part(4).toString('utf8')),
  };
}

function encodeV1(m: JMessage): Buffer {
  const parts = [
    Buffer.from(m.channel),
    Buffer.from(JSON.stringify(m.header)),
    Buffer.from(JSON.stringify(m.parent_header)),
    Buffer.from(JSON.stringify(m.metadata)),
    Buffer.from(JSON.stringify(m.content)),
  ];
  const n = parts.length + 1;
  const head = Buffer.alloc(8 * (n + 1));
  head.writeBigUInt64LE(BigInt(n), 0);
  let off = head.length;
  parts.forEach((p, i) => {
    head.writeBigUInt64LE(BigInt(off), 8 * (i + 1));
    off += p.length;
  });
  head.writeBigUInt64LE(BigInt(off), 8 * n);
  return Buffer.concat([head, ...parts]);
}

export class WsBenchClient extends BenchKernelClient {
  private constructor(
    private ws: WebSocket,
    readonly protocol: 'legacy' | 'v1',
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.deliver(this.protocol === 'v1' ? parseV1(data) : parseLegacy(data, isBinary));
    });
  }

  /** Connect to `<base>/api/kernels/<id>/channels`. `protocol` 'v1' offers the v1 subprotocol. */
  static connect(
    baseUrl: string,
    kernelId: string,
    token: string,
    protocol: 'legacy' | 'v1' = 'legacy',
  ): Promise<WsBenchClient> {
    const wsBase = baseUrl.replace(/^http/, 'ws').replace(/\/$/, '');
    const session = randomUUID();
    const url = `${wsBase}/api/kernels/${kernelId}/channels?session_id=${session}`;
    const ws = new WebSocket(url, protocol === 'v1' ? ['v1.kernel.websocket.jupyter.org'] : [], {
      headers: { Authorization: `token ${token}` },
      perMessageDeflate: false,
      maxPayload: 1 << 30,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        const chosen = ws.protocol === 'v1.kernel.websocket.jupyter.org' ? 'v1' : 'legacy';
        const c = new WsBenchClient(ws, chosen);
        Object.defineProperty(c, 'session', { value: session });
        resolve(c);
      });
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`WebSocket upgrade failed: ${res.statusCode}`)),
      );
    });
  }

  protected sendRaw(m: JMessage): void {
    if (this.protocol === 'v1') this.ws.send(encodeV1(m));
    else this.ws.send(JSON.stringify(m));
  }

  close(): void {
    this.ws.close();
  }
}

/** A client straight on the kernel's ZMQ sockets (through a KernelPort of the provisioner library). */
export class ZmqBenchClient extends BenchKernelClient {
  private port: KernelPort;
  constructor(openPort: (session: string, onMessage: (m: WireMessage) => void) => KernelPort) {
    super();
    this.port = openPort(this.session, (w) =>
      this.deliver({
        channel: w.channel,
        header: JSON.parse(w.header.toString('utf8')),
        parent_header: JSON.parse(w.parentHeader.toString('utf8')),
        metadata: JSON.parse(w.metadata.toString('utf8')),
        content: JSON.parse(w.content.toString('utf8')),
      }),
    );
  }

  protected sendRaw(m: JMessage): void {
    this.port.send({
      channel: m.channel as WireMessage['channel'],
      header: Buffer.from(JSON.stringify(m.header)),
      parentHeader: Buffer.from(JSON.stringify(m.parent_header)),
      metadata: Buffer.from(JSON.stringify(m.metadata)),
      content: Buffer.from(JSON.stringify(m.content)),
      buffers: [],
    });
  }

  close(): void {
    this.port.close();
  }
}
