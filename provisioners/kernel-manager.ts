// A provisioner plus ZMQ sockets = a KernelBackend: start (until kernel_info_reply), track state from iopub,
// fan out messages to client ports, interrupt, restart in place (same id, ports rebound), shut down leaving
// nothing behind.
import { randomUUID } from 'node:crypto';
import { LocalProvisioner, abortError } from './local/local-provisioner';
import { KernelConnection, type ClientChannels } from './zmq/kernel-connection';
import { KernelMonitor, type MonitorOptions } from './zmq/heartbeat';
import { makeMessage, parseContent, tryParseHeader } from './zmq/wire';
import type {
  Channel,
  ExecutionState,
  KernelBackend,
  KernelEvent,
  KernelPort,
  KernelProvisioner,
  KernelSpec,
  LaunchProgress,
  LaunchRequest,
  ProvisionerState,
  WireMessage,
} from './types';

export interface AutoRestartOptions {
  enabled: boolean;
  maxRestarts: number;
}

export interface KernelManagerOptions {
  /** Automatic restart when the kernel dies on its own. Off by default. */
  autoRestart?: AutoRestartOptions;
  /** Heartbeat / poll tuning. */
  monitor?: Partial<MonitorOptions>;
  /** How long shutdown waits for the kernel to exit after shutdown_request before SIGTERM (ms). Default 3000. */
  shutdownWaitMs?: number;
  /** How long restart waits after shutdown_request{restart:true} before killing (ms). Default 2000. */
  restartWaitMs?: number;
  /** Launch timeout for restarts (ms). Defaults to the start's launchTimeoutMs. */
  launchTimeoutMs?: number;
  /** Diagnostics sink. Default console.warn with a prefix. */
  log?: (message: string) => void;
}

export interface StartKernelOptions extends KernelManagerOptions {
  kernelId: string;
  spec: KernelSpec;
  env?: Record<string, string>;
  cwd?: string;
  /** Time to get from spawn to kernel_info_reply (ms). Default 60000. */
  launchTimeoutMs?: number;
  /** Default: a LocalProvisioner. */
  provisioner?: KernelProvisioner;
  onProgress?: (p: LaunchProgress) => void;
  signal?: AbortSignal;
}

const DEFAULT_LAUNCH_TIMEOUT_MS = 60_000;
const MAX_BUFFERED_WHILE_RESTARTING = 1000;

type Lifecycle = 'starting' | 'running' | 'restarting' | 'shutting-down' | 'dead';

// Awaited steps of an operation keep the event loop alive (ref'd timers); only background timers are unref'd.
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A promise that can be woken early; used to wait for replies, iopub traffic, exits or aborts. */
class Waker {
  private resolvers = new Set<() => void>();
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.resolvers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.resolvers.add(done);
    });
  }
  wake(): void {
    for (const r of [...this.resolvers]) r();
  }
}

interface PendingRequest {
  resolve: (msg: WireMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A client's port. Survives restarts: its DEALERs are re-created against the new kernel's ports. */
class ManagedPort implements KernelPort {
  private channels: ClientChannels | undefined;
  private buffered: WireMessage[] = [];
  closed = false;

  constructor(
    private readonly manager: KernelManager,
    readonly sessionId: string,
    readonly identity: string,
    private readonly onMessage: (msg: WireMessage) => void,
    private readonly onClosed: ((reason: string) => void) | undefined,
  ) {}

  /**
   * Open this port's sockets on the (new) kernel connection. Opening can fail (no file descriptors left): the
   * port is then closed and its owner told why, and the kernel and every other port carry on.
   */
  bind(conn: KernelConnection, opening = false): void {
    if (this.closed) return;
    this.channels?.close();
    this.channels = undefined;
    try {
      this.channels = conn.openChannels(this.identity, (m) => this.deliver(m));
    } catch (err) {
      const reason = `cannot open sockets to the kernel: ${errorMessage(err)}`;
      this.close();
      if (opening) throw new Error(reason); // openPort's caller handles it
      this.manager.log(`port ${this.identity}: ${reason}`);
      this.onClosed?.(reason);
      return;
    }
    const pending = this.buffered;
    this.buffered = [];
    for (const m of pending) this.channels.send(m);
  }

  unbind(): void {
    this.channels?.close();
    this.channels = undefined;
  }

  deliver(msg: WireMessage): void {
    if (this.closed) return;
    try {
      this.onMessage(msg);
    } catch (err) {
      this.manager.log(`port ${this.sessionId}: onMessage threw: ${String(err)}`);
    }
  }

  send(msg: WireMessage): void {
    if (this.closed) return;
    if (msg.channel === 'iopub') {
      this.manager.log(`port ${this.sessionId}: clients cannot send on iopub; message dropped`);
      return;
    }
    if (this.channels) {
      this.channels.send(msg);
    } else if (this.manager.acceptsBufferedSends && this.buffered.length < MAX_BUFFERED_WHILE_RESTARTING) {
      this.buffered.push(msg); // restarting: delivered to the new kernel once it is up
    } else {
      this.manager.log(`port ${this.sessionId}: kernel not running; ${msg.channel} message dropped`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffered = [];
    this.unbind();
    this.manager.forgetPort(this);
  }
}

/** Routing ids are 1..255 bytes: a session id is cut to 200 bytes of UTF-8 (room for a clash suffix). */
export function routingIdentity(sessionId: string, maxBytes = 200): string {
  if (!sessionId) return 'client';
  if (Buffer.byteLength(sessionId) <= maxBytes) return sessionId;
  const cut = Buffer.from(sessionId).subarray(0, maxBytes);
  // Drop a character split by the cut (a trailing partial UTF-8 sequence decodes to U+FFFD).
  return cut.toString('utf8').replace(/\uFFFD+$/, '') || 'client';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class KernelManager implements KernelBackend {
  readonly id: string;
  readonly specName: string;
  readonly spec: KernelSpec;
  readonly provisioner: KernelProvisioner;
  /** The raw kernel_info_reply of the current kernel process (protocol_version, language_info, ...). */
  kernelInfoReply: WireMessage | undefined;
  /** How many times this kernel was restarted (manually or automatically). */
  restartCount = 0;
  /** Why the kernel died, once it did. */
  deathReason: string | undefined;
  /** The kernel's last output when it died unexpectedly (kept after its files are cleaned up). */
  deathOutput: string | undefined;

  private state: ExecutionState = 'starting';
  private activity = new Date();
  private lifecycle: Lifecycle = 'starting';
  private conn: KernelConnection | undefined;
  private mgr: ClientChannels | undefined;
  private monitor: KernelMonitor | undefined;
  private readonly ports = new Set<ManagedPort>();
  private readonly listeners = new Set<(e: KernelEvent) => void>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly session = `gateway-desktop-manager-${randomUUID()}`;
  private readonly sessionBytes = Buffer.from(this.session);
  private readonly waker = new Waker();
  private iopubCount = 0;
  private lastKernelStatus: ExecutionState | undefined;
  private autoRestarts = 0;
  private restartPromise: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private opAbort: AbortController | undefined;
  private activityTimer: NodeJS.Timeout | undefined;
  private lastActivityEmit = 0;
  private readonly env: Record<string, string>;
  private readonly cwd: string | undefined;
  private readonly opts: KernelManagerOptions;

  private constructor(
    kernelId: string,
    spec: KernelSpec,
    provisioner: KernelProvisioner,
    env: Record<string, string>,
    cwd: string | undefined,
    opts: KernelManagerOptions,
  ) {
    this.id = kernelId;
    this.spec = spec;
    this.specName = spec.name;
    this.provisioner = provisioner;
    this.env = env;
    this.cwd = cwd;
    this.opts = opts;
  }

  /** Start a kernel; resolves once it answered kernel_info (and iopub is live). */
  static async start(opts: StartKernelOptions): Promise<KernelManager> {
    const provisioner = opts.provisioner ?? new LocalProvisioner(opts.kernelId);
    const km = new KernelManager(opts.kernelId, opts.spec, provisioner, opts.env ?? {}, opts.cwd, {
      ...opts,
      launchTimeoutMs: opts.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS,
    });
    await km.launch(opts.signal, opts.onProgress, opts.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS);
    km.lifecycle = 'running';
    km.setState(km.statusAfterLaunch());
    km.startMonitor();
    return km;
  }

  /**
   * Re-attach to a kernel that still runs (e.g. after an app restart) from its saved provisioner state.
   * Resolves once it answered kernel_info; throws if it is gone.
   */
  static async reattach(
    state: ProvisionerState,
    spec: KernelSpec,
    opts: KernelManagerOptions & {
      provisioner?: KernelProvisioner;
      timeoutMs?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<KernelManager> {
    const provisioner = opts.provisioner ?? new LocalProvisioner(state.kernelId);
    await provisioner.loadProvisionerInfo(state);
    const km = new KernelManager(state.kernelId, spec, provisioner, {}, undefined, opts);
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const code = await provisioner.poll();
    if (code !== null) throw new Error(`Kernel ${state.kernelId} is no longer running (exit code ${code})`);
    km.attach(new KernelConnection(state.connection, km.connectionOptions()));
    try {
      // On control: a kernel left running may be busy with a long cell, which holds shell replies back.
      await km.waitForReady(Date.now() + timeoutMs, opts.signal, Date.now(), timeoutMs, 'control');
    } catch (err) {
      km.detach();
      throw err;
    }
    km.lifecycle = 'running';
    km.setState(km.statusAfterLaunch());
    km.startMonitor();
    return km;
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

  /** For a diagnostics view: what the kernel printed last, wire rejections, heartbeat, restarts. */
  diagnostics(): {
    state: ExecutionState;
    outputTail: string;
    wireStats: { rejected: number; badSignature: number; malformed: number; replayed: number };
    heartbeatRttMs: number | undefined;
    restartCount: number;
    deathReason: string | undefined;
  } {
    return {
      state: this.state,
      outputTail: this.deathOutput ?? this.provisioner.outputTail?.() ?? '',
      wireStats: this.wireStats,
      heartbeatRttMs: this.monitor?.lastRttMs,
      restartCount: this.restartCount,
      deathReason: this.deathReason,
    };
  }

  /** What to persist to re-attach later (includes the HMAC key: keep it in the main process). */
  getProvisionerInfo(): ProvisionerState {
    return this.provisioner.getProvisionerInfo();
  }

  log(message: string): void {
    (this.opts.log ?? ((m: string) => console.warn(`[kernel ${this.id}] ${m}`)))(message);
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

  async interrupt(): Promise<void> {
    if (this.lifecycle !== 'running') throw new Error(`Kernel ${this.id} is not running (${this.lifecycle})`);
    if (this.spec.spec.interrupt_mode === 'message') {
      await this.request('control', 'interrupt_request', {}, 5000);
    } else {
      await this.provisioner.sendSignal('SIGINT');
    }
  }

  restart(): Promise<void> {
    if (this.restartPromise) return this.restartPromise;
    if (this.lifecycle !== 'running') {
      return Promise.reject(new Error(`Kernel ${this.id} cannot restart: it is ${this.lifecycle}`));
    }
    this.restartPromise = this.doRestart().finally(() => {
      this.restartPromise = undefined;
    });
    return this.restartPromise;
  }

  /**
   * Stop managing the kernel WITHOUT stopping it: close the sockets and the monitor, keep the process running,
   * and return what `KernelManager.reattach` needs. (For kernels that outlive the app; see LocalProvisioner's
   * `tieToParent`.) The manager is unusable afterwards.
   */
  async release(): Promise<ProvisionerState> {
    if (this.lifecycle !== 'running')
      throw new Error(`Kernel ${this.id} cannot be released: it is ${this.lifecycle}`);
    const state = this.provisioner.getProvisionerInfo();
    this.lifecycle = 'dead';
    this.monitor?.stop();
    if (this.activityTimer) clearTimeout(this.activityTimer);
    this.detach();
    for (const p of [...this.ports]) p.close();
    return state;
  }

  shutdown(): Promise<void> {
    if (!this.shutdownPromise) this.shutdownPromise = this.doShutdown();
    return this.shutdownPromise;
  }

  // ---------------------------------------------------------------------------------------------------------

  /** After kernel_info: busy only if a client's request keeps it busy, else idle. */
  private statusAfterLaunch(): ExecutionState {
    return this.lastKernelStatus === 'busy' ? 'busy' : 'idle';
  }

  private emit(e: KernelEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log(`event listener threw: ${String(err)}`);
      }
    }
  }

  private setState(s: ExecutionState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit({ type: 'state', state: s });
  }

  private touch(): void {
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

  private connectionOptions(): ConstructorParameters<typeof KernelConnection>[1] {
    return {
      log: (m) => this.log(m),
      onReject: (reason, detail) => this.log(`dropped a kernel message: ${reason} (${detail})`),
    };
  }

  private onIopub(msg: WireMessage): void {
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

  private onManagerReply(msg: WireMessage): void {
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

  private attach(conn: KernelConnection): void {
    this.conn = conn;
    conn.onIopub((m) => this.onIopub(m));
    this.mgr = conn.openChannels(this.session, (m) => this.onManagerReply(m));
  }

  /** Close the sockets of the current kernel process (client ports are kept and rebound later). */
  private detach(): void {
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

  private startMonitor(): void {
    this.monitor?.stop();
    this.monitor = new KernelMonitor(
      {
        connection: this.conn?.info ?? null,
        poll: () => this.provisioner.poll(),
        onDead: (reason) => void this.onKernelDied(reason),
        onUnresponsive: (reason) => {
          this.log(reason);
          this.emit({ type: 'unresponsive', reason });
        },
        onResponsive: () => {
          this.log('kernel answers heartbeats again');
          this.emit({ type: 'responsive' });
        },
      },
      this.opts.monitor,
    );
    this.monitor.start();
  }

  private async onKernelDied(reason: string): Promise<void> {
    if (this.lifecycle !== 'running') return;
    const ar = this.opts.autoRestart;
    if (ar?.enabled && this.autoRestarts < ar.maxRestarts) {
      this.autoRestarts++;
      this.log(`${reason}; restarting automatically (${this.autoRestarts}/${ar.maxRestarts})`);
      try {
        await this.restart();
        return;
      } catch (err) {
        const life = this.lifecycle as Lifecycle; // restart() may have changed it
        if (life === 'dead' || life === 'shutting-down') return;
        reason = `${reason}; automatic restart failed: ${errorMessage(err)}`;
      }
    }
    await this.markDead(reason);
  }

  private async markDead(reason: string): Promise<void> {
    if (this.lifecycle === 'dead' || this.lifecycle === 'shutting-down') return;
    this.lifecycle = 'dead';
    this.deathReason = reason;
    this.deathOutput = this.provisioner.outputTail?.() || undefined;
    this.monitor?.stop();
    this.detach();
    await this.killAndCleanup(false);
    // The reason first: listeners that see the state change alone would only know "it died".
    this.emit({ type: 'dead', reason });
    this.setState('dead');
  }

  /** Kill the whole process group, wait for it, release the provisioner's resources. */
  private async killAndCleanup(restart: boolean): Promise<void> {
    try {
      if ((await this.provisioner.poll()) === null) {
        await this.provisioner.kill(restart);
        await this.provisioner.wait(5000);
      }
      // The leader may be gone while others in its group still run.
      await this.provisioner.kill(restart).catch(() => undefined);
      const prov = this.provisioner;
      if (prov.processesAlive) {
        const deadline = Date.now() + 3000;
        while (prov.processesAlive() && Date.now() < deadline) await sleep(50);
        if (prov.processesAlive()) this.log('some processes of the kernel are still alive after SIGKILL');
      }
    } catch (err) {
      this.log(`kill failed: ${errorMessage(err)}`);
    }
    await this.provisioner.cleanup(restart).catch((err) => this.log(`cleanup failed: ${errorMessage(err)}`));
  }

  /** shutdown_request, wait, SIGTERM, wait, SIGKILL (the group), cleanup. */
  private async stopKernel(restart: boolean, graceMs: number): Promise<void> {
    try {
      if ((await this.provisioner.poll()) === null && this.mgr) {
        const reply = this.request('control', 'shutdown_request', { restart }, graceMs).catch(
          () => undefined,
        );
        const exited = await this.provisioner.wait(graceMs);
        void reply;
        if (exited === null) {
          await this.provisioner.terminate(restart);
          await this.provisioner.wait(2000);
        }
      }
    } catch (err) {
      this.log(`graceful stop failed: ${errorMessage(err)}`);
    }
    this.detach();
    await this.killAndCleanup(restart);
  }

  private async doRestart(): Promise<void> {
    this.lifecycle = 'restarting';
    const abort = new AbortController();
    this.opAbort = abort;
    this.monitor?.stop();
    this.emit({ type: 'restarting' });
    this.setState('restarting');
    await this.stopKernel(true, this.opts.restartWaitMs ?? 2000);
    try {
      await this.launch(abort.signal, undefined, this.opts.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS);
    } catch (err) {
      this.opAbort = undefined;
      if (this.lifecycle === 'restarting') {
        this.lifecycle = 'running'; // let markDead run its course
        await this.markDead(`Restart failed: ${errorMessage(err)}`);
      }
      throw err;
    }
    this.opAbort = undefined;
    if (this.lifecycle !== 'restarting') throw new Error(`Kernel ${this.id} was shut down during restart`);
    this.restartCount++;
    this.lifecycle = 'running';
    const conn = this.conn as KernelConnection;
    for (const p of this.ports) p.bind(conn);
    this.setState(this.statusAfterLaunch());
    this.startMonitor();
    this.emit({ type: 'restarted' });
  }

  private async doShutdown(): Promise<void> {
    const wasDead = this.lifecycle === 'dead';
    this.lifecycle = 'shutting-down';
    this.opAbort?.abort();
    if (this.restartPromise) await this.restartPromise.catch(() => undefined);
    this.monitor?.stop();
    if (this.activityTimer) clearTimeout(this.activityTimer);
    if (!wasDead) await this.stopKernel(false, this.opts.shutdownWaitMs ?? 3000);
    else this.detach();
    for (const p of [...this.ports]) p.close();
    this.lifecycle = 'dead';
    this.setState('dead');
  }

  /**
   * launchOnce, retried once when the kernel could not bind a port: ports are chosen free but another process
   * can take one before the kernel binds it (nothing can hold them across the exec). The retry gets new ports.
   */
  private async launch(
    signal: AbortSignal | undefined,
    onProgress: ((p: LaunchProgress) => void) | undefined,
    timeoutMs: number,
  ): Promise<void> {
    try {
      await this.launchOnce(signal, onProgress, timeoutMs);
    } catch (err) {
      if (signal?.aborted || !/Address already in use/.test(errorMessage(err))) throw err;
      this.log('a port was taken before the kernel bound it; launching again with new ports');
      await this.launchOnce(signal, onProgress, timeoutMs);
    }
  }

  /**
   * preLaunch + launch + connect + kernel_info. On any failure, timeout or abort, everything started so far is
   * killed and cleaned up before the error is thrown.
   */
  private async launchOnce(
    signal: AbortSignal | undefined,
    onProgress: ((p: LaunchProgress) => void) | undefined,
    timeoutMs: number,
  ): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    const progress = (phase: string, message: string): void => {
      try {
        onProgress?.({ phase, message, elapsedMs: Date.now() - t0 });
      } catch {
        // progress reporting must not break a launch
      }
    };
    const onAbort = (): void => this.waker.wake();
    signal?.addEventListener('abort', onAbort);
    this.lastKernelStatus = undefined;
    this.kernelInfoReply = undefined;
    const req: LaunchRequest = {
      kernelId: this.id,
      spec: this.spec,
      env: this.env,
      cwd: this.cwd,
      launchTimeoutMs: timeoutMs,
      onProgress,
      signal,
    };
    let launched = false;
    try {
      if (signal?.aborted) throw abortError();
      progress('resolving', `Preparing ${this.spec.spec.display_name}`);
      await this.provisioner.preLaunch(req);
      if (signal?.aborted) throw abortError();
      progress('spawning', `Starting ${this.spec.spec.argv[0]}`);
      launched = true;
      const info = await this.provisioner.launch();
      if (signal?.aborted) throw abortError();
      progress('connecting', `Connecting to the kernel on ${info.ip}`);
      this.attach(new KernelConnection(info, this.connectionOptions()));
      progress('kernel-info', 'Waiting for the kernel to answer');
      await this.waitForReady(deadline, signal, t0, timeoutMs);
      progress('ready', 'Kernel is ready');
    } catch (err) {
      this.detach();
      if (launched) {
        await this.killAndCleanup(false);
      } else {
        await this.provisioner.cleanup(false).catch(() => undefined);
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Nudge with kernel_info_request until a reply and some iopub traffic arrived (iopub is then live). */
  private async waitForReady(
    deadline: number,
    signal: AbortSignal | undefined,
    t0: number,
    timeoutMs: number,
    channel: 'shell' | 'control' = 'shell',
  ): Promise<void> {
    const iopubAtStart = this.iopubCount;
    let reply: WireMessage | undefined;
    let lastNudge = 0;
    for (;;) {
      if (signal?.aborted) throw abortError();
      const code = await this.provisioner.poll();
      if (code !== null) {
        const tail = this.provisioner.outputTail?.() ?? '';
        throw new Error(
          `Kernel "${this.spec.name}" exited during launch (exit code ${code}).` +
            (tail ? `\nLast output:\n${tail}` : ' It printed nothing.'),
        );
      }
      if (reply && this.iopubCount > iopubAtStart) break;
      const now = Date.now();
      if (now >= deadline) {
        const tail = this.provisioner.outputTail?.() ?? '';
        throw new Error(
          `Kernel "${this.spec.name}" did not become ready within ${Math.round(timeoutMs / 1000)} s ` +
            `(${reply ? 'no iopub messages' : 'no kernel_info_reply'} after ${now - t0} ms); it was stopped.` +
            (tail ? `\nLast output:\n${tail}` : ''),
        );
      }
      // One request is normally enough (the DEALER queues it until the kernel binds); repeat it every second in
      // case it was lost. Once answered, the status messages it caused may have been published before our
      // subscription was live (ZMQ's slow joiner): nudge again quickly until iopub delivers something.
      const interval = reply ? 150 : 1000;
      if (now - lastNudge >= interval) {
        lastNudge = now;
        this.request(channel, 'kernel_info_request', {}, Math.max(1, deadline - now)).then(
          (m) => {
            if (!reply) {
              reply = m;
              lastNudge = 0;
            }
            this.kernelInfoReply = m;
          },
          () => undefined,
        );
      }
      await this.waker.wait(Math.min(reply ? 150 : 250, Math.max(1, deadline - Date.now())));
    }
  }
}

/** Start a kernel and resolve once it answered kernel_info. */
export function startKernel(opts: StartKernelOptions): Promise<KernelManager> {
  return KernelManager.start(opts);
}
