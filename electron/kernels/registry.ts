// The kernel registry: the single source of truth for kernel state in the main process.
//
// It starts kernels on the cluster the directory resolves, keeps each kernel's model (execution state, last
// activity, connection count, reason when dead), tracks launches (phases, elapsed time, failure reason) for
// the UI, and emits typed events that the host API pushes to the renderer and that the gateway proxy's
// channel layer uses to tell WebSocket clients about restarts and deaths.
import { randomUUID } from 'node:crypto';
import type { ExecutionState, KernelBackend, KernelEvent, LaunchProgress } from '../../provisioners/types';
import type { ClusterRuntime } from '../clusters/types';
import { TypedEmitter } from './emitter';
import type { KeptKernelRecord } from './left-running';
import {
  BadRequestError,
  GatewayError,
  KernelLaunchError,
  KernelNotFoundError,
  KernelSpecNotFoundError,
  ShuttingDownError,
  errorMessage,
} from './errors';

/** The kernel model exactly as the Jupyter REST API serves it (GET /api/kernels). */
export interface KernelModel {
  id: string;
  /** The kernelspec name as the client requested it (own name or pinned `<slug>--<spec>`). */
  name: string;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds and Z: jupyter_server parses it strictly). */
  last_activity: string;
  execution_state: ExecutionState;
  /** Number of open kernel WebSockets. */
  connections: number;
  /** Why the kernel is dead (only set when dead). */
  reason?: string;
}

/** A serialisable snapshot of one kernel for UIs and events. */
export interface KernelInfo {
  id: string;
  /** The kernelspec name as the client requested it. */
  specName: string;
  clusterId: string;
  clusterName: string;
  /** The spec's own name on its cluster. */
  clusterSpecName: string;
  executionState: ExecutionState;
  /** ISO 8601 with microseconds and Z. */
  lastActivity: string;
  connections: number;
  reason?: string;
  /** The way to a live kernel is impaired: a remote one cannot be reached, or it misses heartbeats. */
  link?: KernelLink;
  /** ISO 8601. */
  startedAt: string;
}

/** Why a live kernel is not answering right now (`reason` says more). */
export type KernelLink = 'disconnected' | 'not-answering';

/** Read-only view of a registry entry (the backend is exposed for the proxy's channel layer). */
export interface KernelEntry {
  readonly id: string;
  readonly backend: KernelBackend;
  readonly clusterId: string;
  readonly clusterName: string;
  /** The kernelspec name as requested by the client. */
  readonly specName: string;
  readonly clusterSpecName: string;
  readonly startedAt: Date;
  readonly executionState: ExecutionState;
  readonly lastActivity: Date;
  readonly connections: number;
  readonly reason?: string;
  readonly link?: KernelLink;
}

export type LaunchStatus = 'launching' | 'ready' | 'failed';

/** One kernel launch as the UI's launch-progress view shows it. */
export interface LaunchInfo {
  /** The id the kernel gets when it starts. */
  kernelId: string;
  specName: string;
  clusterId: string | null;
  clusterName: string | null;
  status: LaunchStatus;
  /** Latest phase (`resolving`, `spawning`, `waiting-for-ports`, `connecting`, `kernel-info`, `ready`, `failed`). */
  phase: string;
  message: string;
  elapsedMs: number;
  /** The cluster's own words for the latest phase (a pod's event, a gateway's message), when it gave any. */
  detail?: string;
  /** ISO 8601. */
  startedAt: string;
  /** Failure reason, kept for the UI when status is `failed`. */
  error?: string;
}

/** Events of a {@link KernelRegistry}. */
export interface KernelRegistryEvents extends Record<string, unknown> {
  /** A kernel finished starting and is now listed. */
  'kernel-added': KernelInfo;
  /** State, activity (coalesced to at most one per second), connection count or reason changed. */
  'kernel-updated': KernelInfo;
  /** A kernel left the list (shut down, or a dead kernel that expired). */
  'kernel-removed': { id: string; reason: string };
  /** A launch moved to a new phase, became ready, or failed. */
  'launch-progress': LaunchInfo;
  /** The kernel is restarting (requested or automatic). */
  'kernel-restarting': { id: string };
  /** The kernel restarted and answered kernel_info. */
  'kernel-restarted': { id: string; requested: boolean };
  /** The kernel died; it stays listed as dead with `reason` until deleted or expired. */
  'kernel-dead': { id: string; reason: string };
}

/** What the registry needs from the cluster directory. */
export interface SpecResolver {
  /** `user`: the client's KERNEL_USERNAME (clusters that offer kernelspecs per user). */
  resolveSpec(
    name: string,
    q?: { user?: string },
  ): Promise<{ cluster: ClusterRuntime; specName: string } | null>;
  /** The name a kernel of this cluster's spec is listed under now (own name on the active cluster, pinned elsewhere). */
  listedName?(clusterId: string, clusterSpecName: string): string | null;
}

export interface KernelRegistryOptions {
  directory: SpecResolver;
  /** Launch time limit when the request has no KERNEL_LAUNCH_TIMEOUT. Default 60 s. */
  defaultLaunchTimeoutMs?: number;
  /** How long a dead kernel stays listed (as `dead`, with a reason) before it is dropped. Default 10 min. */
  deadKernelTtlMs?: number;
  /** Finished launches kept for the UI. Default 50. */
  launchHistory?: number;
  /** Time limit for one kernel's shutdown in shutdownAll(). Default 15 s. */
  shutdownTimeoutMs?: number;
}

export interface StartOptions {
  /** Working directory; default `env.KERNEL_WORKING_DIR` when set. */
  cwd?: string;
  /** Launch time limit; default `env.KERNEL_LAUNCH_TIMEOUT` (seconds) or the registry default. */
  launchTimeoutMs?: number;
  signal?: AbortSignal;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ACTIVITY_EMIT_INTERVAL_MS = 1000;
/** How long after the launch timeout the registry stops waiting for a cluster that ignores KERNEL_LAUNCH_TIMEOUT. */
const LAUNCH_TIMEOUT_GRACE_MS = 5000;

/** ISO 8601 UTC with microseconds and `Z` (`2024-05-01T12:34:56.789000Z`). */
export function isoMicro(d: Date): string {
  return d.toISOString().replace('Z', '000Z');
}

interface Entry {
  id: string;
  backend: KernelBackend;
  /** The runtime that started it (kept even if the cluster is later reconfigured or removed). */
  cluster: ClusterRuntime;
  clusterId: string;
  clusterName: string;
  specName: string;
  clusterSpecName: string;
  startedAt: Date;
  executionState: ExecutionState;
  lastActivity: Date;
  connections: number;
  reason?: string;
  link?: KernelLink;
  unsubscribe: () => void;
  restarting: Promise<void> | null;
  restartAnnounced: boolean;
  shuttingDown: Promise<void> | null;
  deadTimer: NodeJS.Timeout | null;
  activityTimer: NodeJS.Timeout | null;
  lastEmit: number;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

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
  private readonly launchMap = new Map<string, LaunchInfo>();
  private readonly pending = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private readonly directory: SpecResolver;
  private readonly defaultLaunchTimeoutMs: number;
  private readonly deadKernelTtlMs: number;
  private readonly launchHistory: number;
  private readonly shutdownTimeoutMs: number;
  private closing = false;

  constructor(opts: KernelRegistryOptions) {
    super();
    this.directory = opts.directory;
    this.defaultLaunchTimeoutMs = opts.defaultLaunchTimeoutMs ?? 60_000;
    this.deadKernelTtlMs = opts.deadKernelTtlMs ?? 10 * 60_000;
    this.launchHistory = opts.launchHistory ?? 50;
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 15_000;
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
    return [...this.entries.values()].map((e) => this.info(e));
  }

  /** Snapshot of one kernel, or undefined. */
  getInfo(id: string): KernelInfo | undefined {
    const e = this.entries.get(id);
    return e ? this.info(e) : undefined;
  }

  /** REST model of one kernel, or undefined. */
  model(id: string): KernelModel | undefined {
    const e = this.entries.get(id);
    return e ? this.toModel(e) : undefined;
  }

  /** REST models of all listed kernels. */
  models(): KernelModel[] {
    return [...this.entries.values()].map((e) => this.toModel(e));
  }

  /** Launches in progress and the most recent finished ones (oldest first). */
  launches(): LaunchInfo[] {
    return [...this.launchMap.values()].map((l) => ({ ...l }));
  }

  /**
   * Start a kernel by the spec name a client sent (own name: active cluster; pinned: its cluster).
   * `env` holds KERNEL_* and allow-listed variables; `KERNEL_ID` (UUID v4) chooses the id,
   * `KERNEL_LAUNCH_TIMEOUT` (s) the time limit, `KERNEL_WORKING_DIR` the working directory.
   * Resolves once the kernel answered kernel_info; rejects with a {@link GatewayError}
   * (404 unknown spec, 400 bad env, 500 launch failure, 503 shutting down).
   */
  async start(
    specName: string,
    env: Record<string, string> = {},
    opts: StartOptions = {},
  ): Promise<KernelInfo> {
    if (this.closing) throw new ShuttingDownError();
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== 'string') throw new BadRequestError(`env.${k} must be a string`);
    }
    let kernelId: string = randomUUID();
    if (env.KERNEL_ID !== undefined && env.KERNEL_ID !== '') {
      if (!UUID_V4.test(env.KERNEL_ID))
        throw new BadRequestError(`KERNEL_ID must be a UUID v4: ${env.KERNEL_ID}`);
      if (this.entries.has(env.KERNEL_ID.toLowerCase()) || this.pending.has(env.KERNEL_ID.toLowerCase())) {
        throw new GatewayError(409, 'Conflict', `A kernel with id ${env.KERNEL_ID} already exists`);
      }
      kernelId = env.KERNEL_ID.toLowerCase();
    }
    let timeoutMs = opts.launchTimeoutMs ?? this.defaultLaunchTimeoutMs;
    if (opts.launchTimeoutMs === undefined && env.KERNEL_LAUNCH_TIMEOUT) {
      const s = Number(env.KERNEL_LAUNCH_TIMEOUT);
      if (Number.isFinite(s) && s > 0) timeoutMs = Math.min(Math.max(s * 1000, 1000), 30 * 60_000);
    }
    const t0 = Date.now();
    const launch: LaunchInfo = {
      kernelId,
      specName,
      clusterId: null,
      clusterName: null,
      status: 'launching',
      phase: 'resolving',
      message: `Looking up kernelspec "${specName}"`,
      elapsedMs: 0,
      startedAt: new Date(t0).toISOString(),
    };
    this.launchMap.set(kernelId, launch);
    this.emit('launch-progress', { ...launch });

    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(opts.signal?.reason);
    if (opts.signal?.aborted) controller.abort(opts.signal.reason);
    else opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const run = this.runLaunch(kernelId, specName, env, opts.cwd, timeoutMs, launch, controller);
    this.pending.set(kernelId, { controller, done: run.catch(() => undefined) });
    try {
      return await run;
    } finally {
      this.pending.delete(kernelId);
      opts.signal?.removeEventListener('abort', onOuterAbort);
      this.pruneLaunches();
    }
  }

  private async runLaunch(
    kernelId: string,
    specName: string,
    env: Record<string, string>,
    cwd: string | undefined,
    timeoutMs: number,
    launch: LaunchInfo,
    controller: AbortController,
  ): Promise<KernelInfo> {
    const t0 = Date.parse(launch.startedAt);
    const progress = (phase: string, message: string, detail?: string) => {
      launch.phase = phase;
      launch.message = message;
      if (detail) launch.detail = detail;
      else delete launch.detail;
      launch.elapsedMs = Date.now() - t0;
      this.emit('launch-progress', { ...launch });
    };
    const fail = (err: GatewayError): never => {
      launch.status = 'failed';
      launch.error = err.message;
      progress('failed', err.message);
      throw err;
    };
    let resolved: { cluster: ClusterRuntime; specName: string } | null;
    try {
      resolved = await this.directory.resolveSpec(specName, { user: env.KERNEL_USERNAME });
    } catch (err) {
      return fail(err instanceof GatewayError ? err : new KernelLaunchError(errorMessage(err)));
    }
    if (!resolved) return fail(new KernelSpecNotFoundError(specName));
    const { cluster } = resolved;
    launch.clusterId = cluster.id;
    launch.clusterName = cluster.name;
    progress('starting', `Starting "${resolved.specName}" on ${cluster.name}`);

    const kernelEnv = { ...env, KERNEL_LAUNCH_TIMEOUT: String(Math.ceil(timeoutMs / 1000)) };
    let timedOut = false;
    let lastStep = '';
    // The cluster gets KERNEL_LAUNCH_TIMEOUT and normally fails first with its own, more telling reason (the
    // kernel's output, which step hung); this timer, a little later, covers a cluster that ignores it.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`launch timed out after ${timeoutMs} ms`));
    }, timeoutMs + LAUNCH_TIMEOUT_GRACE_MS);
    const startPromise = cluster.startKernel({
      kernelId,
      specName: resolved.specName,
      env: kernelEnv,
      cwd: cwd ?? (env.KERNEL_WORKING_DIR || undefined),
      signal: controller.signal,
      onProgress: (p: LaunchProgress) => {
        lastStep = p.message;
        if (launch.status === 'launching') progress(p.phase, p.message, p.detail);
      },
    });
    // If the cluster ignores the abort, stop waiting anyway when the signal fires.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new Error('aborted'));
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    let backend: KernelBackend;
    try {
      backend = await Promise.race([startPromise, aborted]);
    } catch (err) {
      clearTimeout(timer);
      // A backend that still turns up later must not be left running.
      startPromise.then((b) => b.shutdown()).catch(() => undefined);
      if (timedOut) {
        return fail(
          new KernelLaunchError(
            `Kernel "${specName}" on ${cluster.name} did not start within ${Math.round(timeoutMs / 1000)} s` +
              (lastStep ? ` (last step: ${lastStep})` : ''),
          ),
        );
      }
      if (controller.signal.aborted && !(err instanceof GatewayError)) {
        return fail(
          this.closing
            ? new ShuttingDownError()
            : new KernelLaunchError(`Kernel launch of "${specName}" was cancelled`),
        );
      }
      return fail(err instanceof GatewayError ? err : new KernelLaunchError(errorMessage(err)));
    }
    clearTimeout(timer);
    if (this.closing || controller.signal.aborted) {
      await backend.shutdown().catch(() => undefined);
      return fail(
        this.closing
          ? new ShuttingDownError()
          : new KernelLaunchError(`Kernel launch of "${specName}" was cancelled`),
      );
    }
    const entry = this.addEntry(kernelId, backend, cluster, specName, resolved.specName, new Date());
    launch.status = 'ready';
    progress('ready', `Kernel ready on ${cluster.name}`);
    return this.announce(entry);
  }

  /** List a running backend under `id` (announce it with {@link announce}). */
  private addEntry(
    id: string,
    backend: KernelBackend,
    cluster: ClusterRuntime,
    specName: string,
    clusterSpecName: string,
    startedAt: Date,
  ): Entry {
    const now = new Date();
    const entry: Entry = {
      id,
      backend,
      cluster,
      clusterId: cluster.id,
      clusterName: cluster.name,
      specName,
      clusterSpecName,
      startedAt,
      executionState: backend.executionState === 'starting' ? 'idle' : backend.executionState,
      lastActivity: backend.lastActivity ?? now,
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
    const info = this.info(entry);
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
  }): KernelInfo {
    if (this.closing) throw new ShuttingDownError();
    const id = k.id.toLowerCase();
    if (this.entries.has(id) || this.pending.has(id))
      throw new GatewayError(409, 'Conflict', `A kernel with id ${k.id} already exists`);
    const startedAt = k.startedAt && !Number.isNaN(k.startedAt.getTime()) ? k.startedAt : new Date();
    return this.announce(this.addEntry(id, k.backend, k.cluster, k.specName, k.clusterSpecName, startedAt));
  }

  /**
   * What re-attaching to each live kernel after an app restart needs (kernels whose cluster cannot keep
   * them, or that are dead, restarting or shutting down, are not listed). Includes HMAC keys: main process only.
   */
  keptRecords(): KeptKernelRecord[] {
    const out: KeptKernelRecord[] = [];
    for (const e of this.entries.values()) {
      const r = this.keptRecord(e);
      if (r) out.push(r);
    }
    return out;
  }

  private keptRecord(e: Entry): KeptKernelRecord | null {
    if (e.executionState === 'dead' || e.shuttingDown || e.restarting || e.restartAnnounced) return null;
    const details = e.cluster.keepInfo?.(e.backend) ?? null;
    if (!details) return null;
    return {
      id: e.id,
      clusterId: e.clusterId,
      specName: e.specName,
      clusterSpecName: e.clusterSpecName,
      startedAt: e.startedAt.toISOString(),
      details,
    };
  }

  /**
   * App exit with "Leave running": abort launches, release every kernel its cluster can keep (it keeps running
   * without us) and shut the others down. Afterwards start() fails with 503. Resolves with the kept kernels.
   */
  async releaseAll(): Promise<KeptKernelRecord[]> {
    this.closing = true;
    await this.abortLaunches();
    const kept: KeptKernelRecord[] = [];
    await Promise.allSettled(
      [...this.entries.values()].map(async (e) => {
        // Let a restart in progress finish first: between two processes there is nothing to keep.
        if (e.restarting) await withTimeout(e.restarting, this.shutdownTimeoutMs).catch(() => undefined);
        const rec = this.keptRecord(e);
        if (rec && e.cluster.releaseKernel) {
          try {
            await e.cluster.releaseKernel(e.backend);
            kept.push(rec);
            this.remove(e, 'left running');
            return;
          } catch (err) {
            console.error(`kernel ${e.id}: cannot be left running, shutting it down: ${errorMessage(err)}`);
          }
        }
        await withTimeout(this.shutdown(e.id), this.shutdownTimeoutMs).catch(() => undefined);
      }),
    );
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
    return this.toModel(e);
  }

  /** Shut a kernel down (graceful, then forced) and drop it from the list. Concurrent calls share the work. */
  async shutdown(id: string): Promise<void> {
    const e = this.require(id);
    if (!e.shuttingDown) {
      e.shuttingDown = (async () => {
        try {
          await e.backend.shutdown();
        } catch (err) {
          console.error(`kernel ${id}: shutdown failed: ${errorMessage(err)}`);
        } finally {
          this.remove(e, 'shutdown');
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
    await this.abortLaunches();
    await Promise.allSettled(
      [...this.entries.keys()].map((id) =>
        withTimeout(this.shutdown(id), this.shutdownTimeoutMs).catch(() => undefined),
      ),
    );
    for (const e of this.entries.values()) this.remove(e, 'shutdown');
  }

  private async abortLaunches(): Promise<void> {
    const launches = [...this.pending.values()];
    for (const p of launches) p.controller.abort(new Error('shutting down'));
    await withTimeout(Promise.allSettled(launches.map((p) => p.done)), this.shutdownTimeoutMs).catch(
      () => undefined,
    );
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
    switch (ev.type) {
      case 'state':
        if (e.executionState === 'dead') return;
        if (ev.state === 'dead') {
          // A backend may report the state before the 'dead' event with the real reason: let that win.
          queueMicrotask(() => this.markDead(e, 'kernel died'));
          return;
        }
        if (e.restartAnnounced && ev.state === 'starting') return;
        if (e.executionState === ev.state) return;
        e.executionState = ev.state === 'starting' ? 'idle' : ev.state;
        this.emitUpdated(e);
        return;
      case 'activity':
        e.lastActivity = ev.at;
        this.emitActivity(e);
        return;
      case 'restarting':
        this.announceRestarting(e);
        return;
      case 'restarted':
        if (!e.restarting) this.announceRestarted(e, false);
        return;
      case 'disconnected':
        e.reason = `disconnected: ${ev.reason}`;
        e.link = 'disconnected';
        this.emitUpdated(e);
        return;
      case 'unresponsive':
        e.reason = ev.reason;
        e.link = 'not-answering';
        this.emitUpdated(e);
        return;
      case 'reconnected':
      case 'responsive':
        if (e.executionState !== 'dead') {
          e.reason = undefined;
          e.link = undefined;
        }
        this.emitUpdated(e);
        return;
      case 'dead':
        this.markDead(e, ev.reason);
        return;
    }
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
    this.emit('kernel-updated', this.info(e));
  }

  private emitActivity(e: Entry): void {
    if (e.activityTimer) return;
    const wait = e.lastEmit + ACTIVITY_EMIT_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.emitUpdated(e);
      return;
    }
    e.activityTimer = setTimeout(() => {
      e.activityTimer = null;
      if (this.entries.get(e.id) === e) this.emitUpdated(e);
    }, wait);
    e.activityTimer.unref();
  }

  private pruneLaunches(): void {
    const finished = [...this.launchMap.values()].filter((l) => l.status !== 'launching');
    for (let i = 0; i < finished.length - this.launchHistory; i++)
      this.launchMap.delete(finished[i].kernelId);
  }

  private info(e: Entry): KernelInfo {
    const info: KernelInfo = {
      id: e.id,
      specName: e.specName,
      clusterId: e.clusterId,
      clusterName: e.clusterName,
      clusterSpecName: e.clusterSpecName,
      executionState: e.executionState,
      lastActivity: isoMicro(this.lastActivityOf(e)),
      connections: e.connections,
      startedAt: e.startedAt.toISOString(),
    };
    if (e.reason !== undefined) info.reason = e.reason;
    if (e.link !== undefined) info.link = e.link;
    return info;
  }

  /** The backend's own value is fresher than its (throttled) activity events. */
  private lastActivityOf(e: Entry): Date {
    const b = e.backend.lastActivity;
    return b instanceof Date && b.getTime() > e.lastActivity.getTime() ? b : e.lastActivity;
  }

  private toModel(e: Entry): KernelModel {
    const m: KernelModel = {
      id: e.id,
      name: this.directory.listedName?.(e.clusterId, e.clusterSpecName) ?? e.specName,
      last_activity: isoMicro(this.lastActivityOf(e)),
      execution_state: e.executionState,
      connections: e.connections,
    };
    if (e.reason !== undefined && e.executionState === 'dead') m.reason = e.reason;
    return m;
  }
}
