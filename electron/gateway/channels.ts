// The kernel WebSocket channel layer: one session per (kernel id, session_id), which owns a KernelPort.
//
// * A reconnect with the same key replaces the stale socket and replays what was buffered while no socket
//   was open (bounded by bytes and age; past either bound the buffer is discarded and the port closed).
// * iopub goes to every socket of the kernel and replies only to the session that asked (the backend's
//   port routing does that).
// * Frames pass through without JSON re-encoding (v1) or with only the header parsed (legacy).
// * Malformed frames close THAT socket with 1007 and a reason; oversized ones are closed 1009 by `ws`.
// * The gateway tells clients about automatic restarts (iopub status `restarting`) and deaths (status `dead`, then
//   close 1011 so Lab re-reads the model, sees `dead` and marks the kernel dead).
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { WireMessage } from '../../provisioners/types';
import { FrameWriter } from './frame-writer';
import { ChannelSession, type CorkableSocket, type SessionHost, type SocketState } from './channel-session';
import type { KernelRegistry } from '../kernels/registry';
import { FrameError, decodeClientFrame, statusMessage, type Decoded, type WsProtocol } from './frames';

export type { CorkableSocket } from './channel-session';

export interface ChannelHubOptions {
  registry: KernelRegistry;
  /** Max bytes buffered for a session with no socket (default 64 MB). */
  replayMaxBytes?: number;
  /** Max time a session waits for its socket to come back (default 5 min). */
  replayMaxAgeMs?: number;
  /**
   * Sessions waiting for their socket to come back keep their kernel sockets open (three per session, in the
   * proxy and in the kernel). Past these counts the oldest waiting session is released (default 16 per
   * kernel, 64 in all).
   */
  maxOrphanedSessionsPerKernel?: number;
  maxOrphanedSessions?: number;
  /** Protocol-level ping interval (default 30 s; 0 disables). */
  pingIntervalMs?: number;
  /** A socket that has not answered pings for this long is terminated (default max(3 × interval, 30 s)). */
  pingTimeoutMs?: number;
  /** A socket whose unsent output exceeds this is terminated (slow consumer; default 512 MB). */
  maxBufferedAmount?: number;
  /** Diagnostics sink (default console.warn). */
  log?: (message: string) => void;
}

/** Close codes the channel layer uses. */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  invalidData: 1007,
  tooBig: 1009,
  kernelDied: 1011,
  internalError: 1011,
} as const;

/** Counts for diagnostics and tests. */
export interface ChannelStats {
  sessions: number;
  sockets: number;
  orphanedSessions: number;
  malformedFrames: number;
  droppedMessages: number;
  /** Open sockets per protocol. */
  protocols: { v1: number; legacy: number };
}

/** Owns every kernel WebSocket and its session. The proxy hands it sockets after the upgrade. */
export class ChannelHub implements SessionHost {
  readonly replayMaxBytes: number;
  readonly replayMaxAgeMs: number;
  private readonly registry: KernelRegistry;
  private readonly sessions = new Map<string, ChannelSession>();
  private readonly byKernel = new Map<string, Set<ChannelSession>>();
  private readonly synthSession = new Map<string, string>();
  /** Sessions waiting for their socket, oldest first (Map keeps insertion order). */
  private readonly orphans = new Map<string, ChannelSession>();
  private readonly maxOrphansPerKernel: number;
  private readonly maxOrphans: number;
  private readonly pingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private readonly writer: FrameWriter;
  private readonly logFn: (m: string) => void;
  private readonly unsubscribe: Array<() => void> = [];
  private pingTimer: NodeJS.Timeout | null = null;

  private malformed = 0;
  private dropped = 0;

  constructor(opts: ChannelHubOptions) {
    this.registry = opts.registry;
    this.replayMaxBytes = opts.replayMaxBytes ?? 64 * 1024 * 1024;
    this.replayMaxAgeMs = opts.replayMaxAgeMs ?? 5 * 60_000;
    this.maxOrphansPerKernel = opts.maxOrphanedSessionsPerKernel ?? 16;
    this.maxOrphans = opts.maxOrphanedSessions ?? 64;
    this.pingIntervalMs = opts.pingIntervalMs ?? 30_000;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? Math.max(3 * this.pingIntervalMs, 30_000);
    this.writer = new FrameWriter(opts.maxBufferedAmount ?? 512 * 1024 * 1024, (m) => this.log(m));
    this.logFn = opts.log ?? ((m) => console.warn(`[gateway] ${m}`));
    const r = this.registry;
    this.unsubscribe.push(
      // As Jupyter Server: only an automatic restart is announced on iopub. After one a client asked for,
      // `@jupyterlab/services` would take the status for an automatic restart and reconnect again.
      r.on('kernel-restarted', ({ id, requested }) => {
        if (!requested) this.broadcastStatus(id, 'restarting');
      }),
      r.on('kernel-dead', ({ id, reason }) => this.kernelDied(id, reason)),
      r.on('kernel-removed', ({ id, reason }) =>
        this.closeKernel(id, CloseCodes.normal, reason === 'shutdown' ? 'kernel shut down' : reason),
      ),
    );
    if (this.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.pingAll(), this.pingIntervalMs);
      this.pingTimer.unref();
    }
  }

  log(message: string): void {
    this.logFn(message);
  }

  /** Counts of sessions, sockets and rejected frames. */
  stats(): ChannelStats {
    let sockets = 0;
    let orphaned = 0;
    const protocols = { v1: 0, legacy: 0 };
    for (const s of this.sessions.values()) {
      if (s.socket) {
        sockets++;
        protocols[s.socket.protocol]++;
      } else orphaned++;
    }
    return {
      sessions: this.sessions.size,
      sockets,
      orphanedSessions: orphaned,
      malformedFrames: this.malformed,
      droppedMessages: this.dropped,
      protocols,
    };
  }

  /** Whether a (kernel, session_id) session exists, and whether a socket is attached to it. */
  session(kernelId: string, sessionId: string): { connected: boolean; bufferedBytes: number } | null {
    const s = this.sessions.get(`${kernelId}:${sessionId}`);
    return s ? { connected: s.socket !== null, bufferedBytes: s.queuedBytes } : null;
  }

  /**
   * Take over an upgraded socket for a kernel. `sessionId` null means the client sent none (a random one is
   * used; such a session cannot be resumed).
   */
  attach(
    ws: WebSocket,
    kernelId: string,
    sessionId: string | null,
    protocol: WsProtocol,
    raw: CorkableSocket | null = null,
  ): void {
    const entry = this.registry.get(kernelId);
    if (!entry || entry.executionState === 'dead') {
      ws.close(CloseCodes.kernelDied, entry ? 'kernel is dead' : 'no such kernel');
      return;
    }
    const sid = sessionId || randomUUID();
    const key = `${kernelId}:${sid}`;
    let session = this.sessions.get(key);
    if (session?.socket) {
      const stale = session.socket;
      session.socket = null;
      this.detachSocket(session, stale);
      stale.ws.close(CloseCodes.normal, 'replaced by a newer connection with the same session id');
    }
    if (!session) {
      const s = new ChannelSession(this, kernelId, sid, Boolean(sessionId));
      try {
        s.port = entry.backend.openPort(
          sid,
          (m) => s.deliver(m),
          (reason) => this.portLost(s, reason),
        );
      } catch (err) {
        // Nothing a client sends may take the proxy down: this client's socket closes with the reason.
        const reason = `cannot connect to the kernel: ${err instanceof Error ? err.message : String(err)}`;
        this.log(`session ${s.key}: ${reason}`);
        ws.close(CloseCodes.internalError, truncateReason(reason));
        return;
      }
      session = s;
      this.sessions.set(key, s);
      let set = this.byKernel.get(kernelId);
      if (!set) {
        set = new Set();
        this.byKernel.set(kernelId, set);
      }
      set.add(s);
    }
    this.orphans.delete(key);
    if (session.orphanTimer) {
      clearTimeout(session.orphanTimer);
      session.orphanTimer = null;
    }
    const state: SocketState = {
      ws,
      protocol,
      lastPong: Date.now(),
      counted: true,
      raw,
      inTick: false,
      corked: false,
    };
    session.socket = state;
    this.registry.connectionOpened(kernelId);
    const s = session;
    ws.on('pong', () => {
      state.lastPong = Date.now();
    });
    ws.on('message', (data, isBinary) => this.onClientFrame(s, state, data as Buffer, isBinary));
    ws.on('close', () => this.onSocketClosed(s, state));
    ws.on('error', (err) => this.log(`session ${s.key}: socket error: ${err.message}`));
    s.flush();
  }

  /** Close every socket and port of a kernel (it was shut down, or died). */
  closeKernel(kernelId: string, code: number, reason: string): void {
    const set = this.byKernel.get(kernelId);
    if (!set) return;
    for (const s of [...set]) {
      const sock = s.socket;
      this.dropSession(s);
      if (sock) sock.ws.close(code, truncateReason(reason));
    }
    this.byKernel.delete(kernelId);
    this.synthSession.delete(kernelId);
  }

  /** Close everything (proxy stop). */
  closeAll(code: number = CloseCodes.goingAway, reason = 'gateway shutting down'): void {
    for (const id of [...this.byKernel.keys()]) this.closeKernel(id, code, reason);
  }

  /** Stop timers and listeners, close everything. */
  dispose(): void {
    this.closeAll();
    for (const u of this.unsubscribe) u();
    if (this.pingTimer) clearInterval(this.pingTimer);
  }

  /** @internal Send one kernel message to one socket in its protocol. */
  sendTo(s: SocketState, msg: WireMessage): void {
    this.writer.send(s, msg);
  }

  /** @internal Forget a session and close its port (socket, if any, is left to the caller). */
  dropSession(s: ChannelSession): void {
    if (s.closed) return;
    s.closed = true;
    if (s.orphanTimer) clearTimeout(s.orphanTimer);
    s.orphanTimer = null;
    s.queue = [];
    s.queuedBytes = 0;
    if (s.socket) {
      this.detachSocket(s, s.socket);
      s.socket = null;
    }
    s.port?.close();
    s.port = null;
    this.sessions.delete(s.key);
    this.orphans.delete(s.key);
    const set = this.byKernel.get(s.kernelId);
    set?.delete(s);
    if (set && set.size === 0) this.byKernel.delete(s.kernelId);
  }

  private detachSocket(s: ChannelSession, state: SocketState): void {
    state.ws.removeAllListeners('message');
    state.ws.removeAllListeners('close');
    state.ws.removeAllListeners('pong');
    state.ws.on('error', () => undefined);
    if (state.counted) {
      state.counted = false;
      this.registry.connectionClosed(s.kernelId);
    }
  }

  private onSocketClosed(s: ChannelSession, state: SocketState): void {
    if (state.counted) {
      state.counted = false;
      this.registry.connectionClosed(s.kernelId);
    }
    if (s.socket !== state || s.closed) return;
    s.socket = null;
    if (!s.resumable) {
      // No session_id (jupyter_server 1.x's gateway relay sends none): nobody can resume it.
      this.dropSession(s);
      return;
    }
    // Keep the port and buffer output for a while: the same session may come back (network blip, reload).
    this.orphans.set(s.key, s);
    this.releaseOldOrphans(s.kernelId);
    if (s.closed) return;
    s.orphanTimer = setTimeout(() => {
      s.orphanTimer = null;
      if (!s.socket) {
        this.log(`session ${s.key}: no reconnect within ${this.replayMaxAgeMs} ms; buffer discarded`);
        this.dropSession(s);
      }
    }, this.replayMaxAgeMs);
    s.orphanTimer.unref();
  }

  /** Keep the waiting sessions within their bounds, releasing the oldest first. */
  private releaseOldOrphans(kernelId: string): void {
    let ofKernel = 0;
    for (const o of this.orphans.values()) if (o.kernelId === kernelId) ofKernel++;
    for (const o of [...this.orphans.values()]) {
      const overTotal = this.orphans.size > this.maxOrphans;
      if (!overTotal && ofKernel <= this.maxOrphansPerKernel) break;
      const ofThisKernel = o.kernelId === kernelId;
      if (!overTotal && !ofThisKernel) continue;
      if (ofThisKernel) ofKernel--;
      this.log(`session ${o.key}: released while waiting for its client (too many abandoned sessions)`);
      this.dropSession(o);
    }
  }

  /** The backend closed a session's port on its own (it could not reopen it after a restart). */
  private portLost(s: ChannelSession, reason: string): void {
    s.port = null;
    const sock = s.socket;
    this.dropSession(s);
    sock?.ws.close(CloseCodes.internalError, truncateReason(reason));
  }

  private onClientFrame(s: ChannelSession, state: SocketState, data: Buffer, isBinary: boolean): void {
    if (s.socket !== state || !s.port) return;
    let decoded: Decoded;
    try {
      decoded = decodeClientFrame(state.protocol, data, isBinary);
    } catch (err) {
      const reason = err instanceof FrameError ? err.message : `bad frame: ${String(err)}`;
      this.malformed++;
      this.log(`session ${s.key}: malformed frame, closing socket: ${reason}`);
      state.ws.close(CloseCodes.invalidData, truncateReason(`malformed message: ${reason}`));
      return;
    }
    if ('drop' in decoded) {
      this.dropped++;
      this.log(`session ${s.key}: message dropped: ${decoded.drop}`);
      return;
    }
    s.port.send(decoded.msg);
  }

  private broadcastStatus(kernelId: string, state: 'restarting' | 'dead'): void {
    const set = this.byKernel.get(kernelId);
    if (!set) return;
    let session = this.synthSession.get(kernelId);
    if (!session) {
      session = `gateway-desktop-${randomUUID()}`;
      this.synthSession.set(kernelId, session);
    }
    const msg = statusMessage(state, session);
    for (const s of set) s.deliver(msg);
  }

  private kernelDied(kernelId: string, reason: string): void {
    this.broadcastStatus(kernelId, 'dead');
    // Non-1000 close: Lab re-reads GET /api/kernels/{id}, sees execution_state "dead" and marks it dead.
    this.closeKernel(kernelId, CloseCodes.kernelDied, `kernel died: ${reason}`);
  }

  private pingAll(): void {
    const now = Date.now();
    for (const s of this.sessions.values()) {
      const sock = s.socket;
      if (!sock || sock.ws.readyState !== 1) continue;
      if (now - sock.lastPong > this.pingTimeoutMs) {
        this.log(`session ${s.key}: no pong for ${now - sock.lastPong} ms; terminating socket`);
        sock.ws.terminate();
        continue;
      }
      sock.ws.ping();
    }
  }
}

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function truncateReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
