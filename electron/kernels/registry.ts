// The kernel registry: the single source of truth for kernel state in the main process.
//
// It starts kernels on the cluster the directory resolves, keeps each kernel's model (execution state, last
// activity, connection count, reason when dead), tracks launches (phases, elapsed time, failure reason) for
// the UI, and emits typed events that the host API pushes to the renderer and that the gateway proxy's
// channel layer uses to tell WebSocket clients about restarts and deaths.
import type { KernelBackend, KernelEvent } from '../../provisioners/types';
import type { ClusterRuntime } from '../clusters/types';
import { TypedEmitter } from './emitter';
import {
  withTimeout,
  type Entry,
  type KernelModel,
  type KernelInfo,
  type KernelEntry,
  type LaunchInfo,
  type KernelRegistryEvents,
  type SpecResolver,
  type KernelRegistryOptions,
  type StartOptions,
} from './registry-types';
import { applyKernelEvent, throttleActivity } from './entry-events';
import { entryInfo, entryModel, keptRecord } from './entry-views';
import { KernelLauncher } from './launcher';
import type { KeptKernelRecord } from './left-running';
import { GatewayError, KernelNotFoundError, ShuttingDownError, errorMessage } from './errors';
import { releaseEntries } from './release';
import { KernelCuller } from './culler';

export { isoMicro } from './registry-types';
export type * from './registry-types';

/**
 * The single source of truth for kernel state. Kernel ids are UUID v4.
 *
 * Lifecycle: `start()` resolves the spec name through the directory, starts the kernel on that cluster
 * (tracking the launch) and lists it; `interrupt/restart/shutdown` act on one kernel; a kernel that dies
 * stays listed as `dead` with a `reason` until it is deleted or `deadKernelTtlMs` passes;
 * `shutdownAll()` (app exit) aborts launches and shuts every kernel down; `releaseAll()` (app exit with
 * "Leave running") keeps the kernels their clusters can keep running and returns what re-attaching needs;
 * `adopt()` lists such a kernel again under its old id on the next start.
 */
export class KernelRegistry extends TypedEmitter<KernelRegistryEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly launcher: KernelLauncher;
  private readonly directory: SpecResolver;
  private readonly deadKernelTtlMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly culler: KernelCuller;
  private closing = false;

  constructor(opts: KernelRegistryOptions) {
    super();
    this.directory = opts.directory;
    this.deadKernelTtlMs = opts.deadKernelTtlMs ?? 10 * 60_000;
    this.launcher = new KernelLauncher({
      directory: opts.directory,
      defaultLaunchTimeoutMs: opts.defaultLaunchTimeoutMs ?? 60_000,
      launchHistory: opts.launchHistory ?? 50,
      emit: (l) => this.emit('launch-progress', l),
      isClosing: () => this.closing,
      listed: (id) => this.entries.has(id),
      list: (id, backend, cluster, specName, clusterSpecName, params) => {
        const entry = this.addEntry(id, backend, cluster, { specName, clusterSpecName, params }, new Date());
        return () => this.announce(entry);
      },
    });
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 15_000;
    this.culler = new KernelCuller({
      entries: () => this.entries.values(),
      policy: opts.cullPolicy ?? (() => null),
      cull: (e, reason) => {
        this.emit('kernel-culled', { id: e.id, reason });
        void this.shutdown(e.id, reason);
      },
      changed: (e) => this.emitUpdated(e),
    });
    if (opts.cullPolicy) this.culler.start();
  }

  /** True once shutdownAll() has begun; start() then fails with 503. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** The entry for a kernel id (backend included), or undefined. */
  get(id: string): KernelEntry | undefined {
    return this.entries.get(id);
  }

  /** True when a kernel with this id is listed (dead ones included). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Ids of all listed kernels. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /** Snapshots of all listed kernels. */
  list(): KernelInfo[] {
    return [...this.entries.values()].map((e) => entryInfo(e));
  }

  /** Snapshot of one kernel, or undefined. */
  getInfo(id: string): KernelInfo | undefined {
    const e = this.entries.get(id);
    return e ? entryInfo(e) : undefined;
  }

  /** REST model of one kernel, or undefined. */
  model(id: string): KernelModel | undefined {
    const e = this.entries.get(id);
    return e ? this.restModel(e) : undefined;
  }

  /** REST models of all listed kernels. */
  models(): KernelModel[] {
    return [...this.entries.values()].map((e) => this.restModel(e));
  }

  /** Launches in progress and the most recent finished ones (oldest first). */
  launches(): LaunchInfo[] {
    return this.launcher.launches();
  }

  /**
   * Start a kernel by the spec name a client sent (own name: active cluster; pinned: its cluster).
   * `env` holds KERNEL_* and allow-listed variables; `KERNEL_ID` (UUID v4) chooses the id,
   * `KERNEL_LAUNCH_TIMEOUT` (s) the time limit, `KERNEL_WORKING_DIR` the working directory.
   * Resolves once the kernel answered kernel_info; rejects with a {@link GatewayError}
   * (404 unknown spec, 400 bad env, 500 launch failure, 503 shutting down).
   */
  start(specName: string, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<KernelInfo> {
    if (this.closing) return Promise.reject(new ShuttingDownError());
    return this.launcher.start(specName, env, opts);
  }

  /** The REST model, under the name the kernel is listed by now. */
  private restModel(e: Entry): KernelModel {
    return entryModel(e, this.directory.listedName?.(e.clusterId, e.clusterSpecName) ?? null);
  }

  /** List a running backend under `id` (announce it with {@link announce}). */
  private addEntry(
    id: string,
    backend: KernelBackend,
    cluster: ClusterRuntime,
    names: Pick<Entry, 'specName' | 'clusterSpecName'> & { params?: Record<string, string> },
    startedAt: Date,
  ): Entry {
    const entry: Entry = {
      id,
      backend,
      cluster,
      clusterId: cluster.id,
      clusterName: cluster.name,
      specName: names.specName,
      clusterSpecName: names.clusterSpecName,
      params: names.params ?? {},
      startedAt,
      executionState: backend.executionState === 'starting' ? 'idle' : backend.executionState,
      lastActivity: backend.lastActivity ?? new Date(),
      connections: 0,
      unsubscribe: () => undefined,
      restarting: null,
      restartAnnounced: false,
      shuttingDown: null,
      deadTimer: null,
      activityTimer: null,
      lastEmit: 0,
    };
    entry.unsubscribe = backend.onEvent((e) => this.onBackendEvent(entry, e));
    this.entries.set(id, entry);
    return entry;
  }

  private announce(entry: Entry): KernelInfo {
    const { backend } = entry;
    const info = entryInfo(entry);
    this.emit('kernel-added', info);
    if (backend.executionState === 'dead') this.markDead(entry, 'kernel died during start');
    return info;
  }

  /**
   * List a kernel that was already running (re-attached after the app restarted) under its old id, so clients
   * that still hold that id keep working. Throws 409 when the id is taken, 503 while closing.
   */
  adopt(k: {
    id: string;
    backend: KernelBackend;
    cluster: ClusterRuntime;
    specName: string;
    clusterSpecName: string;
    startedAt?: Date;
    params?: Record<string, string>;
  }): KernelInfo {
    if (this.closing) throw new ShuttingDownError();
    const id = k.id.toLowerCase();
    if (this.entries.has(id) || this.launcher.launching(id))
      throw new GatewayError(409, 'Conflict', `A kernel with id ${k.id} already exists`);
    const startedAt = k.startedAt && !Number.isNaN(k.startedAt.getTime()) ? k.startedAt : new Date();
    return this.announce(this.addEntry(id, k.backend, k.cluster, k, startedAt));
  }

  /**
   * What re-attaching to each live kernel after an app restart needs (kernels whose cluster cannot keep
   * them, or that are dead, restarting or shutting down, are not listed). Includes HMAC keys: main process only.
   */
  keptRecords(): KeptKernelRecord[] {
    const out: KeptKernelRecord[] = [];
    for (const e of this.entries.values()) {
      const r = keptRecord(e);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * App exit with "Leave running": abort launches, release every kernel its cluster can keep (it keeps running
   * without us) and shut the others down. Afterwards start() fails with 503. Resolves with the kept kernels.
   */
  async releaseAll(): Promise<KeptKernelRecord[]> {
    this.closing = true;
    this.culler.stop();
    await this.launcher.abortAll(this.shutdownTimeoutMs);
    const kept = await releaseEntries([...this.entries.values()], {
      shutdown: (id) => this.shutdown(id),
      remove: (e, reason) => this.remove(e, reason),
      timeoutMs: this.shutdownTimeoutMs,
    });
    for (const e of this.entries.values()) this.remove(e, 'shutdown');
    return kept;
  }

  /** Interrupt a kernel (signal or interrupt_request, as its spec says). */
  async interrupt(id: string): Promise<void> {
    const e = this.require(id);
    if (e.executionState === 'dead')
      throw new GatewayError(409, 'Conflict', `Kernel ${id} is dead: ${e.reason ?? ''}`);
    await e.backend.interrupt();
  }

  /** Restart in place (same id); resolves after the kernel answered kernel_info again. */
  async restart(id: string): Promise<KernelModel> {
    const e = this.require(id);
    if (e.executionState === 'dead') {
      throw new GatewayError(
        500,
        'Kernel is dead',
        `Kernel ${id} is dead and cannot be restarted: ${e.reason ?? ''}`,
      );
    }
    if (!e.restarting) {
      e.restarting = (async () => {
        this.announceRestarting(e);
        try {
          await e.backend.restart();
        } catch (err) {
          throw new GatewayError(
            500,
            'Restart failed',
            `Kernel ${id} could not be restarted: ${errorMessage(err)}`,
          );
        } finally {
          e.restarting = null;
        }
        this.announceRestarted(e, true);
      })();
    }
    await e.restarting;
    return this.restModel(e);
  }

  /** Shut a kernel down (graceful, then forced) and drop it; `reason` goes to clients. Calls share the work. */
  async shutdown(id: string, reason = 'shutdown'): Promise<void> {
    const e = this.require(id);
    if (!e.shuttingDown) {
      e.shuttingDown = (async () => {
        try {
          await e.backend.shutdown();
        } catch (err) {
          console.error(`kernel ${id}: shutdown failed: ${errorMessage(err)}`);
        } finally {
          this.remove(e, reason);
        }
      })();
    }
    await e.shuttingDown;
  }

  /**
   * Shut down every kernel and abort every launch; afterwards start() fails with 503. Used on app exit
   * (SIGTERM, quit): nothing is left behind.
   */
  async shutdownAll(): Promise<void> {
    this.closing = true;
    this.culler.stop();
    await this.launcher.abortAll(this.shutdownTimeoutMs);
    await Promise.allSettled(
      [...this.entries.keys()].map((id) =>
        withTimeout(this.shutdown(id), this.shutdownTimeoutMs).catch(() => undefined),
      ),
    );
    for (const e of this.entries.values()) this.remove(e, 'shutdown');
  }

  /** A kernel WebSocket opened (called by the proxy's channel layer). */
  connectionOpened(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.connections += 1;
    this.emitUpdated(e);
  }

  /** A kernel WebSocket closed (called by the proxy's channel layer). */
  connectionClosed(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.connections = Math.max(0, e.connections - 1);
    this.emitUpdated(e);
  }

  private require(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new KernelNotFoundError(id);
    return e;
  }

  private announceRestarting(e: Entry): void {
    if (e.restartAnnounced) return;
    e.restartAnnounced = true;
    e.executionState = 'restarting';
    this.emit('kernel-restarting', { id: e.id });
    this.emitUpdated(e);
  }

  /** `requested`: a client asked for it (REST, the app), as opposed to an automatic restart. */
  private announceRestarted(e: Entry, requested: boolean): void {
    if (!e.restartAnnounced || !this.entries.has(e.id)) return;
    e.restartAnnounced = false;
    if (e.executionState === 'dead') return;
    const s = e.backend.executionState;
    e.executionState = s === 'starting' || s === 'restarting' ? 'idle' : s;
    e.lastActivity = new Date();
    this.emit('kernel-restarted', { id: e.id, requested });
    this.emitUpdated(e);
  }

  private onBackendEvent(e: Entry, ev: KernelEvent): void {
    if (!this.entries.has(e.id)) return;
    applyKernelEvent(e, ev, {
      updated: () => this.emitUpdated(e),
      activity: () => this.emitActivity(e),
      restarting: () => this.announceRestarting(e),
      restarted: () => this.announceRestarted(e, false),
      died: (reason) => this.markDead(e, reason),
    });
  }

  private markDead(e: Entry, reason: string): void {
    if (e.executionState === 'dead' || e.shuttingDown) return;
    e.executionState = 'dead';
    e.reason = reason;
    e.link = undefined;
    e.restartAnnounced = false;
    this.emit('kernel-dead', { id: e.id, reason });
    this.emitUpdated(e);
    // Release whatever the backend still holds (ports, connection file, process group).
    e.backend.shutdown().catch(() => undefined);
    e.deadTimer = setTimeout(() => this.remove(e, `dead: ${reason}`), this.deadKernelTtlMs);
    e.deadTimer.unref();
  }

  private remove(e: Entry, reason: string): void {
    if (this.entries.get(e.id) !== e) return;
    this.entries.delete(e.id);
    e.unsubscribe();
    if (e.deadTimer) clearTimeout(e.deadTimer);
    if (e.activityTimer) clearTimeout(e.activityTimer);
    this.emit('kernel-removed', { id: e.id, reason });
  }

  private emitUpdated(e: Entry): void {
    if (e.activityTimer) {
      clearTimeout(e.activityTimer);
      e.activityTimer = null;
    }
    e.lastEmit = Date.now();
    this.emit('kernel-updated', entryInfo(e));
  }

  private emitActivity(e: Entry): void {
    throttleActivity(e, () => {
      if (this.entries.get(e.id) === e) this.emitUpdated(e);
    });
  }
}
