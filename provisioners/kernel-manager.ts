// A provisioner plus ZMQ sockets = a KernelBackend: start (until kernel_info_reply), track state from iopub,
// fan out messages to client ports, interrupt, restart in place (same id, ports rebound), shut down leaving
// nothing behind. It knows no backend: the caller passes the provisioner (from a ProvisionerRegistry).
// Launch/ready is in manager/launch.ts, stopping in manager/stop.ts, client ports in manager/port.ts.
import { KernelConnection } from './zmq/kernel-connection';
import { KernelMonitor } from './zmq/heartbeat';
import { KernelChannels, type Lifecycle } from './manager/channels';
import { launchKernel, waitForReady, type LaunchHost } from './manager/launch';
import {
  DEFAULT_LAUNCH_TIMEOUT_MS,
  type KernelManagerOptions,
  type ReattachOptions,
  type StartKernelOptions,
} from './manager/options';
import { killAndCleanup, stopKernel, type StopHost } from './manager/stop';
import { errorMessage } from './manager/util';
import type {
  ConnectionInfo,
  ExecutionState,
  KernelBackend,
  KernelProvisioner,
  KernelSpec,
  LinkState,
  ProvisionerState,
} from './types';

export type {
  AutoRestartOptions,
  KernelManagerOptions,
  ReattachOptions,
  StartKernelOptions,
} from './manager/options';
export { routingIdentity } from './manager/port';

export class KernelManager extends KernelChannels implements KernelBackend {
  /** How many times this kernel was restarted (manually or automatically). */
  restartCount = 0;
  /** Why the kernel died, once it did. */
  deathReason: string | undefined;
  /** The kernel's last output when it died unexpectedly (kept after its files are cleaned up). */
  deathOutput: string | undefined;

  private monitor: KernelMonitor | undefined;
  private autoRestarts = 0;
  private restartPromise: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private opAbort: AbortController | undefined;
  private readonly env: Record<string, string>;
  private readonly cwd: string | undefined;
  private readonly opts: KernelManagerOptions;
  /** Why the way to the kernel is down (the provisioner said so), or undefined while it is up. */
  private linkDown: string | undefined;
  private readonly unsubscribeLink: () => void;
  private readonly launchHost: LaunchHost;
  private readonly stopHost: StopHost;

  private constructor(
    kernelId: string,
    spec: KernelSpec,
    provisioner: KernelProvisioner,
    env: Record<string, string>,
    cwd: string | undefined,
    opts: KernelManagerOptions,
  ) {
    super(kernelId, spec, provisioner, opts.log);
    this.env = env;
    this.cwd = cwd;
    this.opts = opts;
    this.unsubscribeLink = provisioner.onLinkChange?.((s) => this.onLinkChange(s)) ?? (() => undefined);
    this.launchHost = {
      id: this.id,
      spec,
      provisioner,
      env,
      cwd,
      waker: this.waker,
      iopubCount: () => this.iopubCount,
      resetForLaunch: () => {
        this.lastKernelStatus = undefined;
        this.kernelInfoReply = undefined;
      },
      setKernelInfoReply: (m) => {
        this.kernelInfoReply = m;
      },
      attach: (info) => this.attach(new KernelConnection(info, this.connectionOptions())),
      detach: () => this.detach(),
      request: (channel, msgType, content, timeoutMs) => this.request(channel, msgType, content, timeoutMs),
      log: (m) => this.log(m),
    };
    this.stopHost = {
      provisioner,
      connected: () => this.mgr !== undefined,
      requestShutdown: (restart, timeoutMs) =>
        this.request('control', 'shutdown_request', { restart }, timeoutMs),
      detach: () => this.detach(),
      log: (m) => this.log(m),
    };
  }

  /** Start a kernel with `opts.provisioner`; resolves once it answered kernel_info (and iopub is live). */
  static async start(opts: StartKernelOptions & { provisioner: KernelProvisioner }): Promise<KernelManager> {
    const provisioner = opts.provisioner;
    if (!provisioner) {
      throw new Error(
        'KernelManager.start needs a provisioner (from a ProvisionerRegistry, see registry.ts)',
      );
    }
    const km = new KernelManager(opts.kernelId, opts.spec, provisioner, opts.env ?? {}, opts.cwd, {
      ...opts,
      launchTimeoutMs: opts.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS,
    });
    await launchKernel(
      km.launchHost,
      opts.signal,
      opts.onProgress,
      opts.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS,
    );
    km.lifecycle = 'running';
    km.setState(km.statusAfterLaunch());
    km.startMonitor();
    return km;
  }

  /**
   * Re-attach to a kernel that still runs (e.g. after an app restart) from its saved provisioner state. The
   * provisioner first re-establishes the way to the kernel (loadProvisionerInfo, awaited); only then is the
   * connection it returns dialled. Resolves once it answered kernel_info; throws if it is gone.
   */
  static async reattach(
    state: ProvisionerState,
    spec: KernelSpec,
    opts: ReattachOptions,
  ): Promise<KernelManager> {
    const provisioner = opts.provisioner;
    const info: ConnectionInfo = (await provisioner.loadProvisionerInfo(state)) ?? state.connection;
    const km = new KernelManager(state.kernelId, spec, provisioner, {}, undefined, opts);
    const timeoutMs = opts.timeoutMs ?? 15_000;
    // Not taken over after all: let go of the kernel and of the way to it (a tunnel), stopping nothing.
    const giveUp = async (err: unknown): Promise<never> => {
      km.detach();
      km.unsubscribeLink();
      await provisioner.detach?.();
      throw err;
    };
    const code = await provisioner.poll().catch(giveUp);
    if (code !== null)
      await giveUp(new Error(`Kernel ${state.kernelId} is no longer running (exit code ${code})`));
    km.attach(new KernelConnection(info, km.connectionOptions()));
    // On control: a kernel left running may be busy with a long cell, which holds shell replies back.
    const t0 = Date.now();
    await waitForReady(km.launchHost, t0 + timeoutMs, opts.signal, t0, timeoutMs, 'control').catch(giveUp);
    km.lifecycle = 'running';
    km.setState(km.statusAfterLaunch());
    km.startMonitor();
    return km;
  }

  /** What the kernel printed last (after it died: what it printed before dying). */
  async outputTail(maxChars?: number): Promise<string> {
    if (this.deathOutput !== undefined) return this.deathOutput;
    return (await this.provisioner.outputTail?.(maxChars).catch(() => '')) ?? '';
  }

  /** Whether the way to the kernel is up (false while the provisioner reports its link down). */
  get linkUp(): boolean {
    return this.linkDown === undefined;
  }

  /**
   * For a diagnostics view: wire rejections, heartbeat, restarts, and the output of a kernel that died (use
   * `outputTail()` for a running kernel's: it may have to be fetched).
   */
  diagnostics(): {
    state: ExecutionState;
    outputTail: string;
    wireStats: { rejected: number; badSignature: number; malformed: number; replayed: number };
    heartbeatRttMs: number | undefined;
    restartCount: number;
    deathReason: string | undefined;
    /** The way to the kernel is up (see KernelProvisioner.onLinkChange). */
    linkUp: boolean;
    /** Heartbeats missed while the link was down (not counted as misses). */
    heartbeatMissesWhileLinkDown: number;
    /** How often the provisioner is polled (ms; the provisioner's choice unless options override it). */
    pollIntervalMs: number | undefined;
  } {
    return {
      state: this.state,
      outputTail: this.deathOutput ?? '',
      wireStats: this.wireStats,
      heartbeatRttMs: this.monitor?.lastRttMs,
      restartCount: this.restartCount,
      deathReason: this.deathReason,
      linkUp: this.linkUp,
      heartbeatMissesWhileLinkDown: this.monitor?.missesWhileLinkDown ?? 0,
      pollIntervalMs: this.monitor?.pollIntervalMs,
    };
  }

  /** What to persist to re-attach later (includes the HMAC key: keep it in the main process). */
  getProvisionerInfo(): ProvisionerState {
    return this.provisioner.getProvisionerInfo();
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
   * let the provisioner close its way to the kernel (`detach`), and return what `KernelManager.reattach` needs.
   * (For kernels that outlive the app; e.g. the local provisioner's `tieToParent`.) The manager is unusable
   * afterwards.
   */
  async release(): Promise<ProvisionerState> {
    if (this.lifecycle !== 'running')
      throw new Error(`Kernel ${this.id} cannot be released: it is ${this.lifecycle}`);
    const state = this.provisioner.getProvisionerInfo();
    this.lifecycle = 'dead';
    this.unsubscribeLink();
    this.monitor?.stop();
    if (this.activityTimer) clearTimeout(this.activityTimer);
    this.detach();
    for (const p of [...this.ports]) p.close();
    await this.provisioner.detach?.(); // after the sockets: a tunnel closes under nothing that still dials
    return state;
  }

  shutdown(): Promise<void> {
    if (!this.shutdownPromise) this.shutdownPromise = this.doShutdown();
    return this.shutdownPromise;
  }

  // ---------------------------------------------------------------------------------------------------------

  /** The provisioner reports the way to the kernel down or up: disconnected / reconnected, never dead. */
  private onLinkChange(s: LinkState): void {
    if (s.up) {
      if (this.linkDown === undefined) return;
      this.linkDown = undefined;
      this.monitor?.setLinkUp(true);
      this.log('the way to the kernel is back');
      if (this.lifecycle === 'running') this.emit({ type: 'reconnected' });
    } else {
      if (this.linkDown !== undefined) return;
      this.linkDown = s.reason || 'connection lost';
      this.monitor?.setLinkUp(false); // misses are not counted: a dropped tunnel is not a dead kernel
      this.log(`the way to the kernel is down: ${this.linkDown}`);
      if (this.lifecycle === 'running') this.emit({ type: 'disconnected', reason: this.linkDown });
    }
  }

  private startMonitor(): void {
    this.monitor?.stop();
    const pollIntervalMs = this.provisioner.pollIntervalMs;
    this.monitor = new KernelMonitor(
      {
        connection: this.conn?.info ?? null,
        signals: this.provisioner.signals,
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
      { ...(pollIntervalMs && pollIntervalMs > 0 ? { pollIntervalMs } : {}), ...this.opts.monitor },
    );
    this.monitor.start();
    if (this.linkDown !== undefined) this.monitor.setLinkUp(false);
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
    this.unsubscribeLink();
    this.monitor?.stop();
    this.deathOutput = (await this.provisioner.outputTail?.().catch(() => '')) || undefined;
    this.detach();
    await killAndCleanup(this.provisioner, (m) => this.log(m), false);
    // The reason first: listeners that see the state change alone would only know "it died".
    this.emit({ type: 'dead', reason });
    this.setState('dead');
  }

  private async doRestart(): Promise<void> {
    this.lifecycle = 'restarting';
    const abort = new AbortController();
    this.opAbort = abort;
    this.monitor?.stop();
    this.emit({ type: 'restarting' });
    this.setState('restarting');
    await stopKernel(this.stopHost, true, this.opts.restartWaitMs ?? 2000);
    try {
      await launchKernel(
        this.launchHost,
        abort.signal,
        undefined,
        this.opts.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS,
      );
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
    this.unsubscribeLink();
    this.opAbort?.abort();
    if (this.restartPromise) await this.restartPromise.catch(() => undefined);
    this.monitor?.stop();
    if (this.activityTimer) clearTimeout(this.activityTimer);
    if (!wasDead) await stopKernel(this.stopHost, false, this.opts.shutdownWaitMs ?? 3000);
    else this.detach();
    for (const p of [...this.ports]) p.close();
    this.lifecycle = 'dead';
    this.setState('dead');
  }
}

/**
 * Start a kernel with `opts.provisioner` and resolve once it answered kernel_info. (To pick the provisioner
 * from the kernelspec, use `startKernel` of start.ts / index.ts.)
 */
export function startKernelWith(
  opts: StartKernelOptions & { provisioner: KernelProvisioner },
): Promise<KernelManager> {
  return KernelManager.start(opts);
}
