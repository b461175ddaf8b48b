// A kernel running on a remote gateway, as a KernelBackend. Each client session gets its own upstream
// WebSocket with the same session_id (so the upstream routes stdin/replies per session and buffers/replays
// output per session across reconnects). The relay:
//  - prefers the v1 protocol (raw pass-through of the JSON parts and buffers) and falls back to legacy when
//    the upstream does not select v1 (Kernel Gateway 2.5, jupyter_server 1.x in gateway mode; Enterprise
//    Gateway 3.x on Jupyter Server 2 selects v1);
//  - answers a restart only once the kernel answers kernel_info again (kernel-info-probe.ts);
//  - closes its upstream sockets while no client is connected (setClientCount), reopening them on return;
//  - keeps executionState live from relayed iopub status messages and from the runtime's poll;
//  - on an upstream drop emits 'disconnected' (not dead), queues the client's messages, reconnects with
//    backoff using the same session_id, emits 'reconnected' and sends what it queued.
import { randomUUID } from 'node:crypto';
import type {
  ExecutionState,
  KernelBackend,
  KernelEvent,
  KernelPort,
  WireMessage,
} from '../../../provisioners/types';
import type { GatewayClient, UpstreamKernelModel } from './client';
import { GatewayError } from './errors';
import { RelayPort, STATES, type RelayHost } from './relay-port';
import { waitForKernelInfo } from './kernel-info-probe';

export { RelayPort } from './relay-port';

export interface RelayOptions {
  /** First reconnect delay (ms); doubles up to maxBackoffMs, with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Shared knowledge of whether the upstream speaks v1 (learned on the first connection). */
  protocolHint?: { v1: boolean | null };
  /** How long a restart may take until the kernel answers kernel_info again (ms). Default 42 s. */
  restartTimeoutMs?: number;
  /**
   * After the last client left, close the upstream sockets this much later (ms; a grace period for Lab's
   * reconnects). Default 10 s. They reopen, same session ids, when a client connects again.
   */
  idleCloseMs?: number;
  log?: (msg: string) => void;
}

export class GatewayKernel implements KernelBackend, RelayHost {
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
      restartTimeoutMs: options.restartTimeoutMs ?? 42_000,
      idleCloseMs: options.idleCloseMs ?? 10_000,
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
    const started = Date.now();
    this.lastRestartAt = started;
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
    // A fresh upstream socket per session: the upstream then re-subscribes iopub to the restarted kernel and
    // "nudges" it (as it does for a client reconnecting after a restart), so status updates are not lost.
    await Promise.all([...this.ports].map((p) => p.reopen()));
    // The upstream's answer is not the kernel being back (Enterprise Gateway answers at once, "busy"):
    // the restart is over when the kernel answers kernel_info.
    const left = Math.max(1000, this.options.restartTimeoutMs - (Date.now() - started));
    try {
      await waitForKernelInfo(this, left);
    } finally {
      if (this._state === 'restarting' || this._state === 'starting' || this._state === 'busy')
        this.setState('idle');
      this.lastRestartAt = Date.now();
    }
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

  /**
   * How many clients are connected to this kernel through the proxy (the registry's count). At 0 the
   * upstream sockets close after the grace period, so the upstream's connection count (and its idle culler)
   * sees what the proxy reports; a client coming back reopens them.
   */
  setClientCount(n: number): void {
    this.clients = n;
    if (n > 0) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      for (const p of this.ports) p.unpark();
      return;
    }
    if (this.idleTimer || this.gone) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.clients > 0) return;
      if (this.ports.size)
        this.log(`no client for ${this.options.idleCloseMs} ms: closing the upstream sockets`);
      for (const p of this.ports) p.park();
    }, this.options.idleCloseMs);
    this.idleTimer.unref();
  }

  private clients = 0;
  private idleTimer: NodeJS.Timeout | null = null;

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
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
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
