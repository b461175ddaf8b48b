// The channel side of a KernelManager: the manager's own ZMQ session (requests matched to replies), the
// shared iopub subscription fanned out to client ports, execution state and activity from iopub, events.
// KernelManager (kernel-manager.ts) adds the lifecycle: launch, monitor, link state, restart, shutdown.
import { randomUUID } from 'node:crypto';
import { KernelConnection, type ClientChannels } from '../zmq/kernel-connection';
import { makeMessage, parseContent, tryParseHeader } from '../zmq/wire';
import type {
  Channel,
  ExecutionState,
  KernelEvent,
  KernelPort,
  KernelProvisioner,
  KernelSpec,
  WireMessage,
} from '../types';
import { ManagedPort, routingIdentity } from './port';
import { Waker } from './util';

export type Lifecycle = 'starting' | 'running' | 'restarting' | 'shutting-down' | 'dead';

interface PendingRequest {
  resolve: (msg: WireMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export abstract class KernelChannels {
  readonly id: string;
  readonly specName: string;
  readonly spec: KernelSpec;
  readonly provisioner: KernelProvisioner;
  /** The raw kernel_info_reply of the current kernel process (protocol_version, language_info, ...). */
  kernelInfoReply: WireMessage | undefined;

  protected state: ExecutionState = 'starting';
  protected activity = new Date();
  protected lifecycle: Lifecycle = 'starting';
  protected conn: KernelConnection | undefined;
  protected mgr: ClientChannels | undefined;
  protected readonly ports = new Set<ManagedPort>();
  protected readonly listeners = new Set<(e: KernelEvent) => void>();
  protected readonly pending = new Map<string, PendingRequest>();
  protected readonly session = `gateway-desktop-manager-${randomUUID()}`;
  protected readonly sessionBytes = Buffer.from(this.session);
  protected readonly waker = new Waker();
  protected iopubCount = 0;
  protected lastKernelStatus: ExecutionState | undefined;
  protected activityTimer: NodeJS.Timeout | undefined;
  protected lastActivityEmit = 0;

  protected constructor(
    kernelId: string,
    spec: KernelSpec,
    provisioner: KernelProvisioner,
    private readonly logSink: ((message: string) => void) | undefined,
  ) {
    this.id = kernelId;
    this.spec = spec;
    this.specName = spec.name;
    this.provisioner = provisioner;
  }

  get executionState(): ExecutionState {
    return this.state;
  }

  get lastActivity(): Date {
    return this.activity;
  }

  /** Whether sends from ports are buffered for the next kernel process (during restart). */
  get acceptsBufferedSends(): boolean {
    return this.lifecycle === 'restarting' || this.lifecycle === 'starting';
  }

  /** Rejected incoming messages (bad signature etc.) on the current connection. */
  get wireStats(): { rejected: number; badSignature: number; malformed: number; replayed: number } {
    return this.conn
      ? { ...this.conn.codec.stats }
      : { rejected: 0, badSignature: 0, malformed: 0, replayed: 0 };
  }

  log(message: string): void {
    (this.logSink ?? ((m: string) => console.warn(`[kernel ${this.id}] ${m}`)))(message);
  }

  onEvent(listener: (e: KernelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  openPort(
    sessionId: string,
    onMessage: (msg: WireMessage) => void,
    onClosed?: (reason: string) => void,
  ): KernelPort {
    // Two open ports cannot share a routing id (the kernel's ROUTER would refuse the second), so a clash gets a
    // suffix. The kernel routes stdin by the shell sender's id, so both still work.
    let identity = routingIdentity(sessionId);
    const used = new Set([...this.ports].map((p) => p.identity));
    if (used.has(identity)) {
      let n = 2;
      while (used.has(`${identity}~${n}`)) n++;
      identity = `${identity}~${n}`;
    }
    const port = new ManagedPort(this, sessionId, identity, onMessage, onClosed);
    this.ports.add(port);
    if (this.conn && !this.conn.isClosed && this.lifecycle === 'running') port.bind(this.conn, true);
    return port;
  }

  /** @internal */
  forgetPort(port: ManagedPort): void {
    this.ports.delete(port);
  }

  /** Number of open client ports. */
  get portCount(): number {
    return this.ports.size;
  }

  /**
   * Send a request from the manager's own session and wait for the reply (matched by parent msg_id).
   * For kernel_info, interrupt and shutdown; also handy for tests and tools.
   */
  request(
    channel: Exclude<Channel, 'iopub'>,
    msgType: string,
    content: unknown,
    timeoutMs = 10_000,
  ): Promise<WireMessage> {
    const mgr = this.mgr;
    if (!mgr) return Promise.reject(new Error(`Kernel ${this.id} is not connected`));
    const msg = makeMessage(channel, msgType, content, this.session);
    const msgId = (tryParseHeader(msg.header) as { msg_id: string }).msg_id;
    return new Promise<WireMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId);
        reject(new Error(`Kernel ${this.id} did not answer ${msgType} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(msgId, { resolve, reject, timer });
      mgr.send(msg);
    });
  }

  /** After kernel_info: busy only if a client's request keeps it busy, else idle. */
  protected statusAfterLaunch(): ExecutionState {
    return this.lastKernelStatus === 'busy' ? 'busy' : 'idle';
  }

  protected emit(e: KernelEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log(`event listener threw: ${String(err)}`);
      }
    }
  }

  protected setState(s: ExecutionState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit({ type: 'state', state: s });
  }

  protected touch(): void {
    this.activity = new Date();
    const now = Date.now();
    // At most one 'activity' event per second, with a trailing one so the last activity is always reported.
    if (now - this.lastActivityEmit >= 1000) {
      this.lastActivityEmit = now;
      this.emit({ type: 'activity', at: this.activity });
    } else if (!this.activityTimer) {
      this.activityTimer = setTimeout(
        () => {
          this.activityTimer = undefined;
          this.lastActivityEmit = Date.now();
          this.emit({ type: 'activity', at: this.activity });
        },
        1000 - (now - this.lastActivityEmit),
      );
      this.activityTimer.unref();
    }
  }

  protected connectionOptions(): ConstructorParameters<typeof KernelConnection>[1] {
    return {
      log: (m) => this.log(m),
      onReject: (reason, detail) => this.log(`dropped a kernel message: ${reason} (${detail})`),
    };
  }

  protected onIopub(msg: WireMessage): void {
    this.iopubCount++;
    // Clients first: state and activity listeners (registry, UI) are not on the path of the client's reply.
    for (const p of this.ports) p.deliver(msg);
    const header = tryParseHeader(msg.header);
    // Requests the manager makes itself (kernel_info, ...) are neither activity nor a state change.
    const fromManager = msg.parentHeader.includes(this.sessionBytes);
    if (header?.msg_type === 'status') {
      try {
        const es = parseContent<{ execution_state?: string }>(msg.content).execution_state;
        if (!fromManager && (es === 'idle' || es === 'busy' || es === 'starting')) {
          this.lastKernelStatus = es;
          if (this.lifecycle === 'running') this.setState(es);
        }
      } catch {
        // unparsable status content: ignore
      }
    }
    if (!fromManager) this.touch();
    this.waker.wake();
  }

  protected onManagerReply(msg: WireMessage): void {
    const parent = tryParseHeader(msg.parentHeader);
    const id = parent?.msg_id;
    if (typeof id !== 'string') return;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(msg);
    this.waker.wake();
  }

  protected attach(conn: KernelConnection): void {
    this.conn = conn;
    conn.onIopub((m) => this.onIopub(m));
    this.mgr = conn.openChannels(this.session, (m) => this.onManagerReply(m));
  }

  /** Close the sockets of the current kernel process (client ports are kept and rebound later). */
  protected detach(): void {
    for (const p of this.ports) p.unbind();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`Kernel ${this.id}: connection closed`));
      this.pending.delete(id);
    }
    this.mgr = undefined;
    this.conn?.close();
    this.conn = undefined;
  }
}
