// The host service: implements every method of the host API contract on top of a HostBackend, and pushes
// the contract's events. Transports (IPC, WebSocket) only move calls and events; all logic lives here.
import { hostname, platform } from 'node:os';
import type { BackendKernel, HostBackend } from './backend';
import { ActivityLog } from './activity-log';
import { ConsoleManager } from './console';
import { adoptFor, listForeignFor } from './foreign-kernels';
import { listOrphansFor, removeOrphansFor } from './orphans';
import {
  HostError,
  type HostEventListener,
  type HostEventName,
  type HostEvents,
  type HostMethods,
} from './contract';
import { ClusterHealthMonitor } from './health';
import { KernelLaunches } from './launches';
import { LaunchFormMethods } from './launch-form';
import { AppLog } from './log';
import { LogoCache } from './logos';
import type {
  AppInfo,
  ClusterDetail,
  ClusterKindInfo,
  ClusterInput,
  ClusterSummary,
  ClusterTestTarget,
  ConnectionDiagnosis,
  ConsoleRun,
  EnvironmentList,
  ForeignKernelSummary,
  KernelSummary,
  LabStatus,
  LogEntry,
  OpenLabOptions,
  ProxyInfo,
  Settings,
} from './models';
import { SettingsStore } from './settings';
import { ClusterMethods } from './cluster-methods';
import { LabMethods } from './lab-methods';
import { HostEventHub, type AnyEventListener } from './host-events';
import { summarizeKernel } from './kernel-summary';
import { asHostError, msg, requireString } from './errors-util';

export type { AnyEventListener } from './host-events';

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

export class HostService implements HostMethods {
  readonly log: AppLog;
  private readonly backend: HostBackend;
  private readonly settings: SettingsStore;
  private readonly events = new HostEventHub();
  private readonly consoles: ConsoleManager;
  private readonly health: ClusterHealthMonitor;
  private readonly launches: KernelLaunches;
  private readonly clusterMethods: ClusterMethods;
  private readonly activity: ActivityLog;
  private readonly kernels = new Map<string, KernelSummary>();
  private clusterNames = new Map<string, string>();
  private readonly logoCache = new LogoCache();
  private readonly unsubs: (() => void)[] = [];
  private closed = false;
  private readonly lab: LabMethods;
  private readonly launchForm: LaunchFormMethods;

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
    this.launchForm = new LaunchFormMethods(this.backend, this.launches);
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
    this.lab = new LabMethods({
      backend: this.backend,
      log: this.log,
      settings: this.settings,
      onLabUrl: opts.onLabUrl,
    });
    this.clusterMethods = new ClusterMethods({
      backend: this.backend,
      log: this.log,
      health: this.health,
      activity: this.activity,
      logoCache: this.logoCache,
      emit: (event, payload) => this.emit(event, payload),
      pushClusters: () => this.pushClusters(),
      kernels: () => this.kernels.values(),
      setClusterNames: (names) => (this.clusterNames = names),
      clusterName: (id) => this.clusterNames.get(id),
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
          this.lab.statusChanged(s);
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
    this.events.close();
  }

  on<E extends HostEventName>(event: E, listener: HostEventListener<E>): () => void {
    return this.events.on(event, listener);
  }

  /** Subscribe to every event (transports use this). */
  onAny(listener: AnyEventListener): () => void {
    return this.events.onAny(listener);
  }

  private emit<E extends HostEventName>(event: E, payload: HostEvents[E]): void {
    if (!this.closed) this.events.emit(event, payload);
  }

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

  // ---- clusters and their environments (cluster-methods.ts) ----

  listClusters(): Promise<ClusterSummary[]> {
    return this.clusterMethods.listClusters();
  }
  listClusterKinds(): Promise<ClusterKindInfo[]> {
    return this.clusterMethods.listClusterKinds();
  }
  checkCluster(input: ClusterInput, baseId?: string): Promise<Record<string, string>> {
    return this.clusterMethods.checkCluster(input, baseId);
  }
  getCluster(id: string): Promise<ClusterDetail> {
    return this.clusterMethods.getCluster(id);
  }
  addCluster(input: ClusterInput): Promise<ClusterSummary> {
    return this.clusterMethods.addCluster(input);
  }
  editCluster(id: string, input: ClusterInput): Promise<ClusterSummary> {
    return this.clusterMethods.editCluster(id, input);
  }
  removeCluster: HostMethods['removeCluster'] = (id) => this.clusterMethods.removeCluster(id);
  testCluster(target: ClusterTestTarget): Promise<ConnectionDiagnosis> {
    return this.clusterMethods.testCluster(target);
  }
  acceptHostKey: HostMethods['acceptHostKey'] = (req) => this.clusterMethods.acceptHostKey(req);
  setActiveCluster: HostMethods['setActiveCluster'] = (id) => this.clusterMethods.setActiveCluster(id);
  listEnvironments(clusterId: string): Promise<EnvironmentList> {
    return this.clusterMethods.listEnvironments(clusterId);
  }

  // ---- kernels ----

  async listKernels(): Promise<KernelSummary[]> {
    const list = this.backend.listKernels().map((k) => this.summarize(k));
    for (const k of list) this.kernels.set(k.id, k);
    return list;
  }

  getLaunchForm: HostMethods['getLaunchForm'] = (req) => this.launchForm.getLaunchForm(req);
  checkLaunch: HostMethods['checkLaunch'] = (req) => this.launchForm.checkLaunch(req);
  startKernel: HostMethods['startKernel'] = (req) => this.launchForm.startKernel(req);
  saveSize: HostMethods['saveSize'] = (req) => this.launchForm.saveSize(req);
  removeSize: HostMethods['removeSize'] = (req) => this.launchForm.removeSize(req);

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

  // Orphans (orphans.ts): the checks and the per-cluster work live there.
  readonly listOrphans = () => listOrphansFor(this.backend);
  readonly removeOrphans = (req: unknown) => removeOrphansFor(this.backend, req);

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

  getProxyInfo(): Promise<ProxyInfo> {
    return this.lab.getProxyInfo();
  }
  openLab(opts: OpenLabOptions): Promise<LabStatus> {
    return this.lab.openLab(opts);
  }
  getLabStatus(): Promise<LabStatus> {
    return this.lab.getLabStatus();
  }
  stopLab(): Promise<LabStatus> {
    return this.lab.stopLab();
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

  private summarize(k: BackendKernel): KernelSummary {
    return summarizeKernel(k, {
      displayName: this.kernels.get(k.id)?.displayName,
      clusterName: this.clusterNames.get(k.clusterId),
      waiting: this.launches.isWaiting(k.id),
      startedAt: this.launches.startedAt.get(k.id),
      consoleOpen: this.consoles.has(k.id),
    });
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
