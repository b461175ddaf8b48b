// The host service: implements every method of the host API contract on top of a HostBackend, and pushes
// the contract's events. Transports (IPC, WebSocket) only move calls and events; all logic lives here.
import { hostname, platform } from 'node:os';
import type { BackendCluster, BackendKernel, HostBackend } from './backend';
import { ActivityLog } from './activity-log';
import { ConsoleManager } from './console';
import { adoptFor, listForeignFor } from './foreign-kernels';
import {
  HostError,
  type HostEventListener,
  type HostEventName,
  type HostEvents,
  type HostMethods,
} from './contract';
import { ClusterHealthMonitor } from './health';
import { KernelLaunches } from './launches';
import { AppLog } from './log';
import { LogoCache } from './logos';
import type {
  AppInfo,
  ClusterDetail,
  ClusterKindInfo,
  ClusterInput,
  ClusterSummary,
  ConnectionDiagnosis,
  ConsoleRun,
  EnvironmentList,
  ForeignKernelSummary,
  KernelEnvironment,
  KernelSummary,
  LabStatus,
  LogEntry,
  OpenLabOptions,
  ProxyInfo,
  Settings,
} from './models';
import { labCommandLine } from './models';
import { checkClusterInput } from '../clusters/kinds/input';
import { clusterKinds } from '../clusters/kinds';
import { SettingsStore } from './settings';

export type AnyEventListener = (event: HostEventName, payload: HostEvents[HostEventName]) => void;

export interface HostServiceOptions {
  backend: HostBackend;
  shell: AppInfo['shell'];
  appName?: string;
  appVersion?: string;
  log?: AppLog;
  /** Called with JupyterLab's URL once a lab the user asked for runs (the desktop shell opens a window). */
  onLabUrl?: (url: string) => void;
  /** How often gateway clusters' health is re-checked in the background (ms). 0 turns it off. */
  healthIntervalMs?: number;
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asHostError(err: unknown, fallback: HostError['code'] = 'internal'): HostError {
  if (err instanceof HostError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  const code: HostError['code'] = status === 404 ? 'not-found' : status === 400 ? 'invalid-input' : fallback;
  return new HostError({ code, message: msg(err) });
}

function requireString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1000)
    throw new HostError({ code: 'invalid-input', message: `${what} is missing or not valid.` });
  return v;
}

export class HostService implements HostMethods {
  readonly log: AppLog;
  private readonly backend: HostBackend;
  private readonly settings: SettingsStore;
  private readonly listeners = new Map<HostEventName, Set<(p: unknown) => void>>();
  private readonly anyListeners = new Set<AnyEventListener>();
  private readonly consoles: ConsoleManager;
  private readonly health: ClusterHealthMonitor;
  private readonly launches: KernelLaunches;
  private readonly activity: ActivityLog;
  private readonly kernels = new Map<string, KernelSummary>();
  private clusterNames = new Map<string, string>();
  private readonly logoCache = new LogoCache();
  private readonly unsubs: (() => void)[] = [];
  private closed = false;
  private labRequested = false;

  constructor(private readonly opts: HostServiceOptions) {
    this.backend = opts.backend;
    this.log = opts.log ?? new AppLog();
    this.settings = new SettingsStore(opts.backend.dataDir);
    this.consoles = new ConsoleManager({
      output: (e) => this.emit('console-output', e),
      done: (e) => this.emit('console-done', e),
      opened: (kernelId) => this.republish(kernelId),
    });
    this.launches = new KernelLaunches({
      backend: this.backend,
      log: this.log,
      emit: (e) => this.emit('launch-progress', e),
      clusterName: (id) => this.clusterNames.get(id) ?? id,
      changed: (kernelId) => this.republish(kernelId),
    });
    this.activity = new ActivityLog({
      log: this.log,
      clusterName: (id) => this.clusterNames.get(id) ?? id,
      ownLaunch: (id) => this.launches.startedAt.has(id),
    });
    this.health = new ClusterHealthMonitor({
      backend: this.backend,
      intervalMs: opts.healthIntervalMs ?? 5_000,
      changed: (id, prev, next) => {
        void this.pushClusters();
        // Back from unreachable: what was listed (or failed to list) before is stale.
        if (prev && prev.status !== 'ok' && next.status === 'ok')
          this.emit('environments-changed', { clusterId: id });
      },
    });
  }

  /** Re-sends a kernel's summary (its shown state or connection count changed here, not in the registry). */
  private republish(kernelId: string): void {
    const bk = this.backend.listKernels().find((k) => k.id === kernelId);
    if (!bk || !this.kernels.has(kernelId)) return;
    const k = this.summarize(bk);
    this.kernels.set(k.id, k);
    this.emit('kernel-updated', k);
  }

  /** Loads settings, subscribes to the backend, and does a first health check. */
  async init(): Promise<void> {
    const warn = await this.settings.load();
    if (warn) this.log.warn('settings', warn);
    this.unsubs.push(this.log.onEntry((e) => this.emit('log', e)));
    this.unsubs.push(
      this.backend.onClustersChanged(() => {
        this.logoCache.clear();
        void this.pushClusters();
      }),
    );
    this.unsubs.push(this.backend.onLaunchProgress((l) => this.launches.outside(l)));
    this.unsubs.push(
      this.backend.onKernelEvent((e) => {
        this.activity.kernelEvent(e);
        if (e.type === 'removed') {
          this.kernels.delete(e.id);
          this.consoles.forget(e.id);
          this.launches.forget(e.id);
          this.emit('kernel-removed', { id: e.id });
          void this.pushClusters();
          return;
        }
        if (e.type === 'added') void this.launches.confirm(e.kernel.id).catch(() => undefined);
        const before = this.kernels.get(e.kernel.id);
        // A restart gives a new process: its uptime starts again.
        if (before?.state === 'restarting' && e.kernel.state !== 'restarting' && e.kernel.state !== 'dead')
          this.launches.startedAt.set(e.kernel.id, new Date());
        const k = this.summarize(e.kernel);
        const prev = this.kernels.get(k.id);
        this.kernels.set(k.id, k);
        // End pending console runs once, when the kernel goes into restarting/dead; a repeated update with
        // the same state must not abort a run the user started after the restart finished.
        if ((k.state === 'restarting' || k.state === 'dead') && prev?.state !== k.state)
          this.consoles.abort(k.id);
        if (e.type === 'added' || !prev) {
          this.emit('kernel-added', k);
          void this.pushClusters();
        } else this.emit('kernel-updated', k);
      }),
    );
    if (this.backend.lab)
      this.unsubs.push(
        this.backend.lab.onStatus((s) => {
          this.activity.labStatus(s);
          if (s.state === 'running' && s.url && this.labRequested) {
            this.labRequested = false;
            this.opts.onLabUrl?.(s.url);
          } else if (s.state !== 'starting') this.labRequested = false;
          this.emit('lab-status', s);
        }),
      );
    const clusters = await this.backend.listClusters();
    this.clusterNames = new Map(clusters.map((c) => [c.id, c.name]));
    for (const k of this.backend.listKernels()) this.kernels.set(k.id, this.summarize(k));
    this.health.start();
    this.log.info('host', `host API ready (${this.opts.shell}); proxy at ${this.backend.proxyUrl}`);
  }

  close(): void {
    this.closed = true;
    this.health.close();
    this.launches.close();
    for (const u of this.unsubs.splice(0)) u();
    this.consoles.closeAll();
    this.listeners.clear();
    this.anyListeners.clear();
  }

  // ---- events ----

  on<E extends HostEventName>(event: E, listener: HostEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as (p: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** Subscribe to every event (transports use this). */
  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  private emit<E extends HostEventName>(event: E, payload: HostEvents[E]): void {
    if (this.closed) return;
    for (const l of [...(this.listeners.get(event) ?? [])]) l(payload);
    for (const l of [...this.anyListeners]) l(event, payload);
  }

  // ---- app ----

  async getAppInfo(): Promise<AppInfo> {
    return {
      name: this.opts.appName ?? 'Gateway Desktop',
      version: this.opts.appVersion ?? '0.0.0',
      shell: this.opts.shell,
      platform: `${platform()} (${hostname()})`,
      dataDir: this.backend.dataDir,
      secretStorage: this.backend.secretStorage(),
    };
  }

  // ---- clusters ----

  async listClusters(): Promise<ClusterSummary[]> {
    const clusters = await this.backend.listClusters();
    this.clusterNames = new Map(clusters.map((c) => [c.id, c.name]));
    return clusters.map((c) => this.clusterSummary(c));
  }

  async listClusterKinds(): Promise<ClusterKindInfo[]> {
    return clusterKinds.info();
  }

  async checkCluster(input: ClusterInput, baseId?: string): Promise<Record<string, string>> {
    if (typeof input !== 'object' || input === null || typeof input.name !== 'string')
      throw new HostError({ code: 'invalid-input', message: 'The cluster form is incomplete.' });
    const errors = checkClusterInput(input, baseId ? { id: baseId } : {});
    if (
      !baseId &&
      !errors.name &&
      (await this.backend.listClusters()).some(
        (c) => c.name.toLowerCase() === input.name.trim().toLowerCase(),
      )
    )
      errors.name = 'A cluster with this name exists; pick another name.';
    return errors;
  }

  async getCluster(id: string): Promise<ClusterDetail> {
    requireString(id, 'Cluster id');
    const c = (await this.backend.listClusters()).find((x) => x.id === id);
    if (!c) throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    const saved = (await this.backend.getClusterSettings?.(id)) ?? null;
    return {
      ...this.clusterSummary(c),
      settings: saved?.settings ?? {},
      secretsSet: saved?.secretsSet ?? {},
      gateway: await this.backend.getGatewaySettings(id).catch(() => null),
      secretStorage: this.backend.secretStorage(),
    };
  }

  async addCluster(input: ClusterInput): Promise<ClusterSummary> {
    this.checkInput(input);
    const kind = clusterKinds.get(input.kind);
    if (kind && !kind.addableFromForm)
      throw new HostError({
        code: 'invalid-input',
        message: `${kind.label} clusters are not added here; use npm run cluster -- add ${kind.kind}.`,
        fieldErrors: { kind: `Pick another cluster type (${kind.label} is added with the CLI).` },
      });
    const names = (await this.backend.listClusters()).map((c) => c.name.toLowerCase());
    if (names.includes(input.name.trim().toLowerCase()))
      throw new HostError({
        code: 'invalid-input',
        message: 'A cluster with this name exists.',
        fieldErrors: { name: 'A cluster with this name exists; pick another name.' },
      });
    let id: string;
    try {
      id = await this.backend.addCluster(input);
    } catch (err) {
      throw asHostError(err, 'invalid-input');
    }
    this.log.info('clusters', `added cluster "${input.name}"`);
    const summary = (await this.listClusters()).find((c) => c.id === id);
    if (!summary)
      throw new HostError({ code: 'internal', message: 'The cluster was saved but is not listed.' });
    void this.pushClusters();
    void this.health.check(id);
    return summary;
  }

  async editCluster(id: string, input: ClusterInput): Promise<ClusterSummary> {
    requireString(id, 'Cluster id');
    this.checkInput(input);
    const all = await this.backend.listClusters();
    const cur = all.find((c) => c.id === id);
    if (!cur) throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    if (cur.kind !== input.kind)
      throw new HostError({
        code: 'invalid-input',
        message: 'The type of a cluster cannot change.',
        fieldErrors: { kind: 'The type of a cluster cannot change; add a new cluster instead.' },
      });
    if (all.some((c) => c.id !== id && c.name.toLowerCase() === input.name.trim().toLowerCase()))
      throw new HostError({
        code: 'invalid-input',
        message: 'A cluster with this name exists.',
        fieldErrors: { name: 'A cluster with this name exists; pick another name.' },
      });
    try {
      await this.backend.editCluster(id, input);
    } catch (err) {
      throw asHostError(err, 'invalid-input');
    }
    this.log.info('clusters', `saved cluster "${input.name}"`);
    this.logoCache.clear();
    this.health.delete(id);
    this.emit('environments-changed', { clusterId: id });
    void this.health.check(id);
    void this.pushClusters();
    const summary = (await this.listClusters()).find((c) => c.id === id);
    if (!summary)
      throw new HostError({ code: 'internal', message: 'The cluster was saved but is not listed.' });
    return summary;
  }

  async removeCluster(id: string): Promise<void> {
    requireString(id, 'Cluster id');
    const c = (await this.backend.listClusters()).find((x) => x.id === id);
    if (!c) throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    if (c.builtIn)
      throw new HostError({ code: 'conflict', message: `"${c.name}" is built in and cannot be removed.` });
    try {
      await this.backend.removeCluster(id);
    } catch (err) {
      throw asHostError(err, 'conflict');
    }
    this.health.delete(id);
    this.log.info('clusters', `removed cluster "${c.name}"`);
    void this.pushClusters();
  }

  async testCluster(
    target: { id: string } | { input: ClusterInput; baseId?: string },
  ): Promise<ConnectionDiagnosis> {
    if (typeof target !== 'object' || target === null)
      throw new HostError({ code: 'invalid-input', message: 'Say which cluster to test.' });
    if ('input' in target) {
      const errors = checkClusterInput(target.input);
      if (Object.keys(errors).length)
        throw new HostError({
          code: 'invalid-input',
          message: 'Fix the highlighted fields first.',
          fieldErrors: errors,
        });
    } else requireString(target.id, 'Cluster id');
    const started = Date.now();
    let d: ConnectionDiagnosis;
    try {
      d = await this.backend.testCluster(target);
    } catch (err) {
      d = {
        ok: false,
        kind: 'error',
        title: 'The test could not run',
        detail: msg(err),
        hint: null,
        version: null,
        kernelspecCount: null,
        durationMs: Date.now() - started,
      };
    }
    if ('id' in target) {
      this.health.set(target.id, {
        status: d.ok ? 'ok' : 'unreachable',
        message: d.ok ? d.title : `${d.title}: ${d.detail}`,
        checkedAt: new Date().toISOString(),
      });
    }
    this.activity.testResult(target, d);
    return d;
  }

  async setActiveCluster(id: string): Promise<void> {
    requireString(id, 'Cluster id');
    try {
      await this.backend.setActiveCluster(id);
    } catch (err) {
      throw asHostError(err, 'not-found');
    }
    this.log.info('clusters', `active cluster is now "${this.clusterNames.get(id) ?? id}"`);
    await this.pushClusters();
  }

  // ---- environments ----

  async listEnvironments(clusterId: string): Promise<EnvironmentList> {
    requireString(clusterId, 'Cluster id');
    const rt = this.backend.runtime(clusterId);
    if (!rt)
      throw new HostError({ code: 'not-found', message: `There is no enabled cluster "${clusterId}".` });
    let listing;
    try {
      listing = await rt.listKernelSpecs();
    } catch (err) {
      this.health.set(clusterId, {
        status: 'unreachable',
        message: msg(err),
        checkedAt: new Date().toISOString(),
      });
      return { clusterId, environments: [], problems: [], error: msg(err) };
    }
    if (clusterKinds.isRemote(rt.kind))
      this.health.set(clusterId, {
        status: 'ok',
        message: `Lists ${listing.specs.length} kernel environment${listing.specs.length === 1 ? '' : 's'}`,
        checkedAt: new Date().toISOString(),
      });
    let launch: Record<string, string> = {};
    try {
      launch = await this.backend.launchSettings(clusterId);
    } catch {
      launch = {};
    }
    const environments: KernelEnvironment[] = await Promise.all(
      listing.specs.map(async (s) => ({
        clusterId,
        name: s.name,
        displayName: s.spec.display_name || s.name,
        language: s.spec.language || 'unknown',
        isDefault: listing.default === s.name,
        logo: await this.logoCache.get(rt, clusterId, s.name, s.resources),
        argv: Array.isArray(s.spec.argv) ? s.spec.argv : [],
        interruptMode: s.spec.interrupt_mode === 'message' ? 'message' : 'signal',
        launchSettings: { ...(s.spec.env ?? {}), ...launch },
      })),
    );
    environments.sort(
      (a, b) => Number(b.isDefault) - Number(a.isDefault) || a.displayName.localeCompare(b.displayName),
    );
    return { clusterId, environments, problems: listing.problems, error: null };
  }

  // ---- kernels ----

  async listKernels(): Promise<KernelSummary[]> {
    const list = this.backend.listKernels().map((k) => this.summarize(k));
    for (const k of list) this.kernels.set(k.id, k);
    return list;
  }

  async startKernel(req: { clusterId: string; specName: string }): Promise<{ launchId: string }> {
    if (typeof req !== 'object' || req === null)
      throw new HostError({ code: 'invalid-input', message: 'Say which environment to start.' });
    const clusterId = requireString(req.clusterId, 'Cluster id');
    const specName = requireString(req.specName, 'Kernel environment');
    if (!this.backend.runtime(clusterId))
      throw new HostError({ code: 'not-found', message: `There is no enabled cluster "${clusterId}".` });
    return this.launches.start(clusterId, specName);
  }

  async interruptKernel(id: string): Promise<void> {
    requireString(id, 'Kernel id');
    await this.kernelOp(id, 'interrupt', () => this.backend.interruptKernel(id));
  }

  async restartKernel(id: string): Promise<void> {
    requireString(id, 'Kernel id');
    this.consoles.abort(id);
    await this.kernelOp(id, 'restart', () => this.backend.restartKernel(id));
  }

  async shutdownKernel(id: string): Promise<void> {
    requireString(id, 'Kernel id');
    this.consoles.forget(id);
    await this.kernelOp(id, 'shut down', () => this.backend.shutdownKernel(id));
  }

  listForeignKernels(clusterId: string): Promise<ForeignKernelSummary[]> {
    return listForeignFor(this.backend, clusterId);
  }

  async adoptKernel(req: { clusterId: string; kernelId: string }): Promise<KernelSummary> {
    const id = await adoptFor(this.backend, req);
    const k = (await this.listKernels()).find((x) => x.id === id);
    if (!k) throw new HostError({ code: 'internal', message: 'The kernel was adopted but is not listed.' });
    return k;
  }

  private async kernelOp(id: string, what: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
      this.log.info('kernels', `${what} kernel ${id.slice(0, 8)}`);
    } catch (err) {
      this.log.warn('kernels', `could not ${what} kernel ${id.slice(0, 8)}: ${msg(err)}`);
      throw asHostError(err);
    }
  }

  async execute(req: { kernelId: string; code: string }): Promise<ConsoleRun> {
    if (typeof req !== 'object' || req === null)
      throw new HostError({ code: 'invalid-input', message: 'Nothing to run.' });
    const kernelId = requireString(req.kernelId, 'Kernel id');
    if (typeof req.code !== 'string' || req.code.length > 1_000_000)
      throw new HostError({ code: 'invalid-input', message: 'The code is missing or too long.' });
    const k = this.backend.kernelBackend(kernelId);
    if (!k) throw new HostError({ code: 'not-found', message: 'This kernel is not running any more.' });
    const state = this.kernels.get(kernelId)?.state;
    if (state === 'dead')
      throw new HostError({ code: 'unavailable', message: 'This kernel is dead; restart it first.' });
    // A run sent now would reach the old process (which is going away) or wait unseen for the new one.
    if (state === 'restarting' || state === 'starting')
      throw new HostError({
        code: 'unavailable',
        message: `This kernel is ${state}; run the code again once it is idle.`,
      });
    return this.consoles.execute(k, req.code);
  }

  async answerInput(req: { runId: string; value: string }): Promise<void> {
    if (
      typeof req !== 'object' ||
      req === null ||
      typeof req.value !== 'string' ||
      req.value.length > 100_000
    )
      throw new HostError({ code: 'invalid-input', message: 'The answer is missing or too long.' });
    const runId = requireString(req.runId, 'Run id');
    if (!this.consoles.answer(runId, req.value))
      throw new HostError({ code: 'not-found', message: 'This run is not waiting for input any more.' });
  }

  // ---- proxy + lab ----

  async getProxyInfo(): Promise<ProxyInfo> {
    const url = this.backend.proxyUrl.replace(/\/+$/, '');
    return { url, token: this.backend.token, labCommand: labCommandLine(url, this.backend.token) };
  }

  async openLab(opts: OpenLabOptions): Promise<LabStatus> {
    const lab = this.backend.lab;
    if (!lab) return this.noLab();
    const s = this.settings.get();
    const o: OpenLabOptions = {};
    const dir = opts?.notebookDir || s.notebookDir;
    const cmd = opts?.command || s.labCommand;
    if (dir) o.notebookDir = dir;
    if (cmd) o.command = cmd;
    try {
      this.labRequested = true;
      const st = await lab.open(o);
      this.log.write(st.state === 'running' || st.state === 'starting' ? 'info' : 'warn', 'lab', st.message);
      if (st.state === 'running' && st.url && this.labRequested) {
        this.labRequested = false;
        this.opts.onLabUrl?.(st.url);
      }
      return st;
    } catch (err) {
      throw asHostError(err, 'unavailable');
    }
  }

  async getLabStatus(): Promise<LabStatus> {
    return this.backend.lab ? this.backend.lab.status() : this.noLab();
  }

  async stopLab(): Promise<LabStatus> {
    return this.backend.lab ? this.backend.lab.stop() : this.noLab();
  }

  private async noLab(): Promise<LabStatus> {
    const p = await this.getProxyInfo();
    return {
      state: 'unavailable',
      url: null,
      message: 'This build cannot start JupyterLab for you. Run the command below in a terminal instead.',
      installHint: `pip install jupyterlab, then: ${p.labCommand}`,
      log: [],
    };
  }

  // ---- settings + log ----

  async getSettings(): Promise<Settings> {
    return this.settings.get();
  }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const s = await this.settings.update(patch);
    this.emit('settings-changed', s);
    return s;
  }

  async getLog(): Promise<LogEntry[]> {
    return this.log.list();
  }

  // ---- helpers ----

  private checkInput(input: ClusterInput): void {
    if (typeof input !== 'object' || input === null || typeof input.name !== 'string')
      throw new HostError({ code: 'invalid-input', message: 'The cluster form is incomplete.' });
    const errors = checkClusterInput(input);
    if (Object.keys(errors).length)
      throw new HostError({
        code: 'invalid-input',
        message: 'Fix the highlighted fields.',
        fieldErrors: errors,
      });
  }

  private clusterSummary(c: BackendCluster): ClusterSummary {
    const kernelCount = [...this.kernels.values()].filter(
      (k) => k.clusterId === c.id && k.state !== 'dead',
    ).length;
    const health =
      this.health.get(c.id) ??
      (clusterKinds.isRemote(c.kind)
        ? { status: 'unknown' as const, message: 'Not checked yet', checkedAt: null }
        : { status: 'ok' as const, message: 'Kernels run on this computer', checkedAt: null });
    return {
      id: c.id,
      name: c.name,
      kind: c.kind,
      kindLabel: clusterKinds.get(c.kind)?.label ?? c.kind,
      remote: clusterKinds.isRemote(c.kind),
      active: c.active,
      builtIn: c.builtIn,
      url: c.url,
      health,
      kernelCount,
    };
  }

  private summarize(k: BackendKernel): KernelSummary {
    const displayFromPrev = this.kernels.get(k.id)?.displayName;
    return {
      id: k.id,
      clusterId: k.clusterId,
      clusterName: this.clusterNames.get(k.clusterId) ?? k.clusterId,
      specName: k.specName,
      displayName: displayFromPrev ?? k.specName,
      // Listed, but not yet answering kernel_info: starting, whatever the cluster says.
      state: this.launches.isWaiting(k.id) && k.state !== 'dead' ? 'starting' : k.state,
      startedAt: (this.launches.startedAt.get(k.id) ?? k.startedAt).toISOString(),
      lastActivity: k.lastActivity.toISOString(),
      // The app's own console is a connection too (it talks to the kernel without the proxy).
      connections: k.connections + (this.consoles.has(k.id) ? 1 : 0),
      reason: k.reason,
    };
  }

  private async pushClusters(): Promise<void> {
    if (this.closed) return;
    try {
      this.emit('clusters-changed', await this.listClusters());
    } catch (err) {
      this.log.warn('clusters', `could not list clusters: ${msg(err)}`);
    }
  }
}
