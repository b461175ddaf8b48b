// One client session's line to the upstream kernel: an upstream channels WebSocket with the client's
// session_id, v1 preferred (legacy when the upstream does not select it), messages queued while it
// reconnects with backoff, and a prompt TCP ACK for every read (see prompt-ack.ts). It reports to its
// kernel through RelayHost.
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import type { ExecutionState, KernelPort, WireMessage } from '../../../provisioners/types';
import type { GatewayClient } from './client';
import { FrameError, decodeLegacy, decodeV1, encodeLegacy, encodeV1, peekStatus } from './protocol';
import { ackPromptly } from './prompt-ack';

export const STATES: ReadonlySet<string> = new Set(['starting', 'idle', 'busy', 'restarting', 'dead']);
const MAX_QUEUED_MESSAGES = 10_000;
const MAX_QUEUED_BYTES = 256 * 1024 * 1024;
export const TRACE = !!process.env.GATEWAY_DESKTOP_RELAY_TRACE;

/** What a RelayPort needs from the kernel it belongs to (GatewayKernel). */
export interface RelayHost {
  readonly upstreamId: string;
  readonly client: GatewayClient;
  readonly isGone: boolean;
  readonly options: { backoffMs: number; maxBackoffMs: number; protocolHint: { v1: boolean | null } };
  /** Upstream sockets still closing, by session id (a new port for that session waits for them). */
  readonly closingSessions: Map<string, Promise<void>>;
  log(msg: string): void;
  setState(s: ExecutionState): void;
  touch(): void;
  upstreamRestarting(): void;
  markGone(reason: string): void;
  portDown(p: RelayPort, reason: string): void;
  portUp(p: RelayPort): void;
  portClosed(p: RelayPort): void;
}

/**
 * Stop listening to an upstream socket and close it: an open one with a close handshake (terminated if the
 * gateway does not answer within 3 s; the promise resolves when it is closed), any other at once (null).
 */
export function closeSocket(ws: WebSocket): Promise<void> | null {
  ws.removeAllListeners();
  ws.on('error', () => undefined);
  if (ws.readyState !== 1) {
    ws.terminate();
    return null;
  }
  const closed = new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 3000);
    ws.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  ws.close(1000);
  return closed;
}

function wireSize(m: WireMessage): number {
  return (
    m.header.length +
    m.parentHeader.length +
    m.metadata.length +
    m.content.length +
    m.buffers.reduce((a, b) => a + b.length, 0)
  );
}

/** One client session's line to the upstream kernel. */
export class RelayPort implements KernelPort {
  private ws: WebSocket | null = null;
  private protocol: 'v1' | 'legacy' = 'legacy';
  private queue: WireMessage[] = [];
  private queuedBytes = 0;
  private closed = false;
  /** No client is connected: the upstream socket is closed on purpose until one comes back. */
  private parked = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private wasDown = false;
  /**
   * The session id the upstream socket uses: the client's, so the upstream replays what it buffered across a
   * drop, until a restart makes it a fresh one (see reopen).
   */
  private upstreamSession: string;

  constructor(
    private readonly kernel: RelayHost,
    readonly sessionId: string,
    private readonly onMessage: (msg: WireMessage) => void,
  ) {
    this.upstreamSession = sessionId;
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === 1;
  }

  get upstreamProtocol(): 'v1' | 'legacy' {
    return this.protocol;
  }

  send(msg: WireMessage): void {
    if (TRACE) this.kernel.log(`-> ${msg.channel} ${peekStatus(msg).msgType} open=${this.isOpen}`);
    if (this.closed) return;
    if (this.ws && this.ws.readyState === 1) {
      this.write(this.ws, msg);
      return;
    }
    if (this.queue.length >= MAX_QUEUED_MESSAGES || this.queuedBytes + wireSize(msg) > MAX_QUEUED_BYTES) {
      this.kernel.log('send queue full while reconnecting; dropping the oldest message');
      const old = this.queue.shift();
      if (old) this.queuedBytes -= wireSize(old);
    }
    this.queue.push(msg);
    this.queuedBytes += wireSize(msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropSocket();
    this.queue = [];
    this.queuedBytes = 0;
    this.kernel.portClosed(this);
  }

  /**
   * Close the upstream socket while no client is connected (the upstream's culler then sees no connection;
   * Jupyter Server and the gateways buffer the session's output until it comes back); {@link unpark}
   * reconnects with the same session id. Messages sent meanwhile are queued.
   */
  park(): void {
    if (this.closed || this.parked) return;
    this.parked = true;
    this.dropSocket();
    this.kernel.portUp(this); // parked is not down
  }

  unpark(): void {
    if (this.closed || !this.parked) return;
    this.parked = false;
    const previous = this.kernel.closingSessions.get(this.upstreamSession);
    if (previous) void previous.then(() => this.connect());
    else this.connect();
  }

  get isParked(): boolean {
    return this.parked;
  }

  /** Stop the reconnect timer and close the socket (the close is tracked so a reconnect waits for it). */
  private dropSocket(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    const closed = ws ? closeSocket(ws) : null;
    if (closed) {
      const sessions = this.kernel.closingSessions;
      const key = this.upstreamSession;
      sessions.set(key, closed);
      void closed.then(() => {
        if (sessions.get(key) === closed) sessions.delete(key);
      });
    }
  }

  /**
   * Close the upstream socket and open a new one (no 'disconnected' event), after a restart. It gets a fresh
   * upstream session id: the upstream makes the session id its ZMQ identity towards the kernel, and the old
   * socket's DEALER has already reconnected to the restarted kernel under it. Until the upstream has torn that
   * one down, the kernel's ROUTER refuses a second peer with the same identity, and a refused peer whose first
   * message is already queued is never read again: the session's shell replies would stop for good (seen as
   * an execute that never answers after a restart under load). Nothing buffered for the old id matters then.
   */
  async reopen(): Promise<void> {
    if (this.closed || this.parked) return;
    const ws = this.ws;
    this.ws = null;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (ws) await closeSocket(ws);
    if (this.closed) return;
    this.upstreamSession = randomUUID();
    const opened = new Promise<void>((resolve) => {
      this.onNextOpen = resolve;
      setTimeout(resolve, 10_000).unref();
    });
    this.connect();
    await opened;
  }

  private onNextOpen: (() => void) | null = null;

  connect(): void {
    if (this.closed || this.parked) return;
    const hint = this.kernel.options.protocolHint;
    const offerV1 = hint.v1 !== false;
    let ws: WebSocket;
    try {
      ws = this.kernel.client.openChannels(this.kernel.upstreamId, this.upstreamSession, offerV1);
    } catch (e) {
      this.scheduleReconnect((e as Error).message);
      return;
    }
    this.ws = ws;
    let upgradeStatus = 0;
    let upgradeBody = '';
    ackPromptly(ws);
    ws.on('unexpected-response', (_req, res) => {
      upgradeStatus = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        upgradeBody = Buffer.concat(chunks).toString('utf8').slice(0, 300);
      });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.kernel.log(
        `session ${this.sessionId.slice(0, 8)}: upstream socket open (${ws.protocol || 'legacy'})`,
      );
      this.protocol = ws.protocol === 'v1.kernel.websocket.jupyter.org' ? 'v1' : 'legacy';
      if (hint.v1 === null) hint.v1 = this.protocol === 'v1';
      this.attempt = 0;
      const q = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      for (const m of q) this.write(ws, m);
      if (this.wasDown) {
        this.wasDown = false;
        this.kernel.log(`session ${this.sessionId.slice(0, 8)} reconnected (${this.protocol})`);
      }
      this.kernel.portUp(this);
      const cb = this.onNextOpen;
      this.onNextOpen = null;
      cb?.();
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      let msg: WireMessage;
      try {
        // In v1 mode jupyter_server still writes the status messages it makes up itself (restarting, dead)
        // as legacy JSON text frames.
        msg = this.protocol === 'v1' && isBinary ? decodeV1(buf) : decodeLegacy(buf, isBinary);
      } catch (e) {
        this.kernel.log(`dropping an upstream frame: ${e instanceof FrameError ? e.message : String(e)}`);
        return;
      }
      if (TRACE)
        this.kernel.log(
          `<- ${msg.channel} ${peekStatus(msg).msgType} ${peekStatus(msg).executionState ?? ''}`,
        );
      if (msg.channel === 'iopub') {
        const { executionState } = peekStatus(msg);
        if (executionState && STATES.has(executionState)) {
          if (executionState === 'dead') {
            // The upstream says the kernel died; the poll confirms and marks it gone.
          } else {
            if (executionState === 'restarting') this.kernel.upstreamRestarting();
            this.kernel.setState(executionState as ExecutionState);
          }
        }
        this.kernel.touch();
      }
      this.onMessage(msg);
    });
    ws.on('error', (err: Error) => {
      if (this.ws !== ws) return;
      // "Server sent no subprotocol": the upstream is legacy-only; retry at once without offering v1.
      if (offerV1 && /no subprotocol/i.test(err.message)) {
        hint.v1 = false;
        this.ws = null;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        this.connect();
        return;
      }
      this.kernel.log(`upstream socket error: ${err.message}`);
    });
    ws.on('close', (code: number) => {
      this.kernel.log(`session ${this.sessionId.slice(0, 8)}: upstream socket closed (${code})`);
      if (this.ws !== ws || this.closed) return;
      this.ws = null;
      if (upgradeStatus === 404 || upgradeStatus === 410) {
        this.kernel.markGone(
          `the gateway no longer knows this kernel${upgradeBody ? ` (${upgradeBody})` : ''}`,
        );
        return;
      }
      const why = upgradeStatus
        ? `the gateway refused the kernel connection (${upgradeStatus})`
        : `the connection to the gateway dropped (code ${code})`;
      this.scheduleReconnect(why);
    });
  }

  private write(ws: WebSocket, msg: WireMessage): void {
    if (this.protocol === 'v1') {
      ws.send(encodeV1(msg), { binary: true });
    } else {
      const { data, binary } = encodeLegacy(msg);
      ws.send(data, { binary });
    }
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed || this.parked || this.kernel.isGone) return;
    if (!this.wasDown) {
      this.wasDown = true;
      this.kernel.log(`session ${this.sessionId.slice(0, 8)}: ${reason}; reconnecting`);
    }
    this.kernel.portDown(this, reason);
    const { backoffMs, maxBackoffMs } = this.kernel.options;
    const delay = Math.min(backoffMs * 2 ** this.attempt, maxBackoffMs) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
