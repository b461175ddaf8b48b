// A kernel running on a remote gateway, as a KernelBackend. Each client session gets its own upstream
// WebSocket with the same session_id (so the upstream routes stdin/replies per session and buffers/replays
// output per session across reconnects). The relay:
//  - prefers the v1 protocol (raw pass-through of the JSON parts and buffers) and falls back to legacy when
//    the upstream does not select v1 (Enterprise Gateway, jupyter_server gateway mode);
//  - keeps executionState live from relayed iopub status messages and from the runtime's poll;
//  - on an upstream drop emits 'disconnected' (not dead), queues the client's messages, reconnects with
//    backoff using the same session_id, emits 'reconnected' and sends what it queued.
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import type {
  ExecutionState,
  KernelBackend,
  KernelEvent,
  KernelPort,
  WireMessage,
} from '../../../provisioners/types';
import type { GatewayClient, UpstreamKernelModel } from './client';
import { GatewayError } from './errors';
import { FrameError, decodeLegacy, decodeV1, encodeLegacy, encodeV1, peekStatus } from './protocol';

const STATES: ReadonlySet<string> = new Set(['starting', 'idle', 'busy', 'restarting', 'dead']);
const MAX_QUEUED_MESSAGES = 10_000;
const TRACE = !!process.env.GATEWAY_DESKTOP_RELAY_TRACE;
const MAX_QUEUED_BYTES = 256 * 1024 * 1024;

export interface RelayOptions {
  /** First reconnect delay (ms); doubles up to maxBackoffMs, with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Shared knowledge of whether the upstream speaks v1 (learned on the first connection). */
  protocolHint?: { v1: boolean | null };
  log?: (msg: string) => void;
}

/**
 * Stop listening to an upstream socket and close it: an open one with a close handshake (terminated if the
 * gateway does not answer within 3 s; the promise resolves when it is closed), any other at once (null).
 */
function closeSocket(ws: WebSocket): Promise<void> | null {
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

export class GatewayKernel implements KernelBackend {
  private _state: ExecutionState = 'starting';
  private _lastActivity = new Date();
  private listeners = new Set<(e: KernelEvent) => void>();
  private ports = new Set<RelayPort>();
  private downPorts = new Set<RelayPort>();
  private pollDown = false;
  private reportedDown = false;
  private gone = false;
  private shuttingDown: Promise<void> | null = null;
  private lastRestartAt = 0;
  /** Upstream sockets still closing, by session id (a new port for that session waits for them). */
  readonly closingSessions = new Map<string, Promise<void>>();
  readonly options: Required<Omit<RelayOptions, 'log'>> & Pick<RelayOptions, 'log'>;

  constructor(
    readonly id: string,
    readonly upstreamId: string,
    readonly specName: string,
    readonly client: GatewayClient,
    options: RelayOptions = {},
    private readonly onGone: (k: GatewayKernel) => void = () => undefined,
  ) {
    this.options = {
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      protocolHint: options.protocolHint ?? { v1: null },
      log: options.log,
    };
  }

  get executionState(): ExecutionState {
    return this._state;
  }

  get lastActivity(): Date {
    return this._lastActivity;
  }

  /** True while the upstream cannot be reached (some port is reconnecting, or the poll fails). */
  get disconnected(): boolean {
    return this.reportedDown;
  }

  get isGone(): boolean {
    return this.gone;
  }

  onEvent(listener: (e: KernelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  openPort(sessionId: string, onMessage: (msg: WireMessage) => void): KernelPort {
    if (this.gone)
      throw new GatewayError(`kernel ${this.id} is no longer running on the gateway`, 'http', 404);
    const port = new RelayPort(this, sessionId || randomUUID(), onMessage);
    this.ports.add(port);
    // A client reconnecting with the same session id (Lab does after every restart) must not race the
    // upstream's close of the previous socket: the upstream keys its buffer and the kernel's ZMQ identity
    // by session id, and a second socket with the same identity would get nothing.
    const previous = this.closingSessions.get(port.sessionId);
    if (previous) void previous.then(() => port.connect());
    else port.connect();
    return port;
  }

  async interrupt(): Promise<void> {
    await this.client.call('POST', this.client.kernelPath(this.upstreamId, '/interrupt'), [200, 204], {
      body: {},
    });
  }

  async restart(): Promise<void> {
    this.lastRestartAt = Date.now();
    this.emit({ type: 'restarting' });
    this.setState('restarting');
    try {
      const model = await this.client.json<UpstreamKernelModel>(
        'POST',
        this.client.kernelPath(this.upstreamId, '/restart'),
        [200, 201, 204],
        { body: {} },
      );
      this.applyModel(model);
    } catch (e) {
      if (e instanceof GatewayError && e.kind === 'protocol') {
        // 204 without a body: fine.
      } else {
        this.setState('idle');
        throw e;
      }
    }
    if (this._state === 'restarting' || this._state === 'starting') this.setState('idle');
    this.lastRestartAt = Date.now();
    // A fresh upstream socket per session: the upstream then re-subscribes iopub to the restarted kernel and
    // "nudges" it (as it does for a client reconnecting after a restart), so status updates are not lost.
    await Promise.all([...this.ports].map((p) => p.reopen()));
    this.emit({ type: 'restarted' });
  }

  /** The upstream announced a restart of its own (auto-restart after a crash): refresh the sockets. */
  upstreamRestarting(): void {
    if (Date.now() - this.lastRestartAt < 5000) return;
    this.lastRestartAt = Date.now();
    setTimeout(() => {
      for (const p of this.ports) void p.reopen();
    }, 500);
  }

  shutdown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = (async () => {
        try {
          if (!this.gone) {
            await this.client.call('DELETE', this.client.kernelPath(this.upstreamId), [200, 204, 404]);
          }
        } finally {
          this.markGone('shut down');
        }
      })();
    }
    return this.shuttingDown;
  }

  /** Close every upstream socket without shutting the upstream kernel down (app exit, cluster removed). */
  detach(): void {
    for (const p of [...this.ports]) p.close();
  }

  // ------------------------------------------------------------------ used by the runtime and the ports

  emit(e: KernelEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener must not break the relay
      }
    }
  }

  setState(s: ExecutionState): void {
    if (this._state === s) return;
    if (this._state === 'dead') return;
    this._state = s;
    this.emit({ type: 'state', state: s });
  }

  touch(): void {
    this._lastActivity = new Date();
    this.emit({ type: 'activity', at: this._lastActivity });
  }

  /** Refresh from an upstream model (poll, restart answer). */
  applyModel(m: UpstreamKernelModel): void {
    this.setPollReachable(true);
    if (m.last_activity) {
      const t = new Date(m.last_activity);
      if (!Number.isNaN(t.getTime()) && t > this._lastActivity) this._lastActivity = t;
    }
    const st = m.execution_state;
    if (st && STATES.has(st) && st !== this._state) {
      if (st === 'dead') this.markGone(m.reason ?? 'the kernel died on the gateway');
      else if (this.ports.size === 0 || this._state === 'starting') this.setState(st as ExecutionState);
    }
  }

  /** The poll could (not) reach the upstream. */
  setPollReachable(ok: boolean, reason = 'the gateway cannot be reached'): void {
    this.pollDown = !ok;
    this.updateDown(reason);
  }

  portDown(p: RelayPort, reason: string): void {
    this.downPorts.add(p);
    this.updateDown(reason);
  }

  portUp(p: RelayPort): void {
    this.downPorts.delete(p);
    this.updateDown('');
  }

  portClosed(p: RelayPort): void {
    this.ports.delete(p);
    this.downPorts.delete(p);
    this.updateDown('');
  }

  /** The kernel no longer exists upstream (shut down, culled, died). */
  markGone(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    for (const p of [...this.ports]) p.close();
    this.reportedDown = false;
    this.setState('dead');
    this.emit({ type: 'dead', reason });
    this.onGone(this);
  }

  private updateDown(reason: string): void {
    if (this.gone) return;
    const down = this.pollDown || this.downPorts.size > 0;
    if (down && !this.reportedDown) {
      this.reportedDown = true;
      this.emit({ type: 'disconnected', reason });
    } else if (!down && this.reportedDown) {
      this.reportedDown = false;
      this.emit({ type: 'reconnected' });
    }
  }

  log(msg: string): void {
    this.options.log?.(`[gateway kernel ${this.id.slice(0, 8)}] ${msg}`);
  }
}

/** One client session's line to the upstream kernel. */
export class RelayPort implements KernelPort {
  private ws: WebSocket | null = null;
  private protocol: 'v1' | 'legacy' = 'legacy';
  private queue: WireMessage[] = [];
  private queuedBytes = 0;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private wasDown = false;

  constructor(
    private readonly kernel: GatewayKernel,
    readonly sessionId: string,
    private readonly onMessage: (msg: WireMessage) => void,
  ) {}

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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    const closed = ws ? closeSocket(ws) : null;
    if (closed) {
      const sessions = this.kernel.closingSessions;
      sessions.set(this.sessionId, closed);
      void closed.then(() => {
        if (sessions.get(this.sessionId) === closed) sessions.delete(this.sessionId);
      });
    }
    this.queue = [];
    this.queuedBytes = 0;
    this.kernel.portClosed(this);
  }

  /** Close the upstream socket and open a new one with the same session id (no 'disconnected' event). */
  async reopen(): Promise<void> {
    if (this.closed) return;
    const ws = this.ws;
    this.ws = null;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (ws) await closeSocket(ws);
    if (this.closed) return;
    const opened = new Promise<void>((resolve) => {
      this.onNextOpen = resolve;
      setTimeout(resolve, 10_000).unref();
    });
    this.connect();
    await opened;
  }

  private onNextOpen: (() => void) | null = null;

  connect(): void {
    if (this.closed) return;
    const hint = this.kernel.options.protocolHint;
    const offerV1 = hint.v1 !== false;
    let ws: WebSocket;
    try {
      ws = this.kernel.client.openChannels(this.kernel.upstreamId, this.sessionId, offerV1);
    } catch (e) {
      this.scheduleReconnect((e as Error).message);
      return;
    }
    this.ws = ws;
    let upgradeStatus = 0;
    let upgradeBody = '';
    ws.on('upgrade', () => {
      // Replies start flowing right after this; pick the protocol the upstream selected.
    });
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
    if (this.closed || this.kernel.isGone) return;
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
