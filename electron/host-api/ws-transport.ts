// The WebSocket transport of the host API (serve mode): `ws://HOST/host-api?token=T`, subprotocol
// gateway-desktop.host-api.v1. Same token as the proxy (compared in constant time), Host must be one of the
// server's own names (DNS rebinding), and a browser's Origin must be the server itself.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HOST_WS_PATH, HOST_WS_PROTOCOL, type HostCallMessage, type HostEventMessage } from './contract';
import { dispatch } from './dispatch';
import type { HostService } from './service';

export interface HostWsOptions {
  service: HostService;
  token: string;
  /** Host header values accepted (e.g. `127.0.0.1:8888`, `localhost:8888`). */
  allowedHosts: string[];
  /** Largest accepted frame. Default 4 MiB. */
  maxPayload?: number;
}

export interface HostWsTransport {
  /** Handles an upgrade on HOST_WS_PATH (checks Host, Origin, token); returns false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Serves the host API on a socket someone else accepted after checking Host, Origin and token. */
  attach(ws: WebSocket): void;
  readonly clientCount: number;
  close(): Promise<void>;
}

function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.write(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  );
  socket.destroy();
}

/** Host names a loopback server answers to, for a port. */
export function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

export function createHostWsTransport(opts: HostWsOptions): HostWsTransport {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayload ?? 4 * 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has(HOST_WS_PROTOCOL) ? HOST_WS_PROTOCOL : false),
  });
  const clients = new Set<WebSocket>();
  const allowed = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));

  const offEvents = opts.service.onAny((event, payload) => {
    if (clients.size === 0) return;
    const text = JSON.stringify({ t: 'event', event, payload } satisfies HostEventMessage);
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  function onConnection(ws: WebSocket): void {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.close(1003, 'binary frames are not accepted');
        return;
      }
      let m: Partial<HostCallMessage>;
      try {
        m = JSON.parse(data.toString()) as Partial<HostCallMessage>;
      } catch {
        ws.close(1007, 'frames must be JSON');
        return;
      }
      if (m?.t !== 'call' || typeof m.id !== 'number') {
        ws.close(1008, 'expected a call message');
        return;
      }
      const id = m.id;
      void dispatch(opts.service, m.method, m.args).then((r) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(
          JSON.stringify(
            r.ok
              ? { t: 'result', id, ok: true, value: r.value }
              : { t: 'result', id, ok: false, error: r.error },
          ),
        );
      });
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://placeholder');
      if (url.pathname !== HOST_WS_PATH) return false;
      const host = (req.headers.host ?? '').toLowerCase();
      if (!allowed.has(host)) {
        reject(socket, 403, 'Forbidden host');
        return true;
      }
      const origin = req.headers.origin;
      if (origin !== undefined) {
        let originHost = '';
        try {
          originHost = new URL(origin).host.toLowerCase();
        } catch {
          originHost = '';
        }
        if (!allowed.has(originHost)) {
          reject(socket, 403, 'Forbidden origin');
          return true;
        }
      }
      const auth = req.headers.authorization;
      const given =
        url.searchParams.get('token') ?? (auth?.startsWith('token ') ? auth.slice(6).trim() : null);
      if (!tokenMatches(given, opts.token)) {
        // A browser cannot read an HTTP 401 from a failed upgrade; finish it and close with 4401 so the UI
        // can say "wrong token" instead of retrying forever. Nothing is served on this socket.
        wss.handleUpgrade(req, socket, head, (ws) => ws.close(4401, 'invalid token'));
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
      return true;
    },
    attach(ws) {
      if (ws.protocol && ws.protocol !== HOST_WS_PROTOCOL) {
        ws.close(1002, 'unsupported subprotocol');
        return;
      }
      onConnection(ws);
    },
    get clientCount() {
      return clients.size;
    },
    async close() {
      offEvents();
      for (const ws of clients) ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
