// The host API's cluster methods: list, add, edit, remove, test and activate clusters, and list a cluster's
// kernel environments. Input goes through the kinds' one validator (clusters/kinds/input.ts); what the UI
// shows of a cluster (health, kernel count, kind label) is built here.
import { clusterKinds } from '../clusters/kinds';
import { checkClusterInput } from '../clusters/kinds/input';
import { sizeOf } from '../clusters/sized-runtime';
import type { ClusterRuntime } from '../clusters/types';
import type { ActivityLog } from './activity-log';
import type { BackendCluster, HostBackend } from './backend';
import { HostError, type HostEvents } from './contract';
import { asHostError, msg, requireString } from './errors-util';
import type { ClusterHealthMonitor } from './health';
import type { AppLog } from './log';
import type { LogoCache } from './logos';
import type {
  AcceptHostKeyRequest,
  ClusterDetail,
  ClusterInput,
  ClusterKindInfo,
  ClusterSummary,
  ConnectionDiagnosis,
  EnvironmentList,
  KernelEnvironment,
  KernelSummary,
} from './models';

export interface ClusterMethodsDeps {
  backend: HostBackend;
  log: AppLog;
  health: ClusterHealthMonitor;
  activity: ActivityLog;
  logoCache: LogoCache;
  emit: (event: 'environments-changed', payload: HostEvents['environments-changed']) => void;
  pushClusters: () => Promise<void>;
  kernels: () => Iterable<KernelSummary>;
  setClusterNames: (names: Map<string, string>) => void;
  clusterName: (id: string) => string | undefined;
}

function sizeInfo(rt: ClusterRuntime, specName: string): Pick<KernelEnvironment, 'size'> {
  const size = sizeOf(rt, specName);
  return size ? { size: { environment: size.environment, name: size.name } } : {};
}

export class ClusterMethods {
  constructor(private readonly d: ClusterMethodsDeps) {}

  async listClusters(): Promise<ClusterSummary[]> {
    const clusters = await this.d.backend.listClusters();
    this.d.setClusterNames(new Map(clusters.map((c) => [c.id, c.name])));
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
      (await this.d.backend.listClusters()).some(
        (c) => c.name.toLowerCase() === input.name.trim().toLowerCase(),
      )
    )
      errors.name = 'A cluster with this name exists; pick another name.';
    return errors;
  }

  async getCluster(id: string): Promise<ClusterDetail> {
    requireString(id, 'Cluster id');
    const c = (await this.d.backend.listClusters()).find((x) => x.id === id);
    if (!c) throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    const saved = (await this.d.backend.getClusterSettings?.(id)) ?? null;
    return {
      ...this.clusterSummary(c),
      settings: saved?.settings ?? {},
      secretsSet: saved?.secretsSet ?? {},
      gateway: await this.d.backend.getGatewaySettings(id).catch(() => null),
      secretStorage: this.d.backend.secretStorage(),
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
    const names = (await this.d.backend.listClusters()).map((c) => c.name.toLowerCase());
    if (names.includes(input.name.trim().toLowerCase()))
      throw new HostError({
        code: 'invalid-input',
        message: 'A cluster with this name exists.',
        fieldErrors: { name: 'A cluster with this name exists; pick another name.' },
      });
    let id: string;
    try {
      id = await this.d.backend.addCluster(input);
    } catch (err) {
      throw asHostError(err, 'invalid-input');
    }
    this.d.log.info('clusters', `added cluster "${input.name}"`);
    const summary = (await this.listClusters()).find((c) => c.id === id);
    if (!summary)
      throw new HostError({ code: 'internal', message: 'The cluster was saved but is not listed.' });
    void this.d.pushClusters();
    void this.d.health.check(id);
    return summary;
  }

  async editCluster(id: string, input: ClusterInput): Promise<ClusterSummary> {
    requireString(id, 'Cluster id');
    this.checkInput(input);
    const all = await this.d.backend.listClusters();
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
      await this.d.backend.editCluster(id, input);
    } catch (err) {
      throw asHostError(err, 'invalid-input');
    }
    this.d.log.info('clusters', `saved cluster "${input.name}"`);
    this.d.logoCache.clear();
    this.d.health.delete(id);
    this.d.emit('environments-changed', { clusterId: id });
    void this.d.health.check(id);
    void this.d.pushClusters();
    const summary = (await this.listClusters()).find((c) => c.id === id);
    if (!summary)
      throw new HostError({ code: 'internal', message: 'The cluster was saved but is not listed.' });
    return summary;
  }

  async removeCluster(id: string): Promise<void> {
    requireString(id, 'Cluster id');
    const c = (await this.d.backend.listClusters()).find((x) => x.id === id);
    if (!c) throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    if (c.builtIn)
      throw new HostError({ code: 'conflict', message: `"${c.name}" is built in and cannot be removed.` });
    try {
      await this.d.backend.removeCluster(id);
    } catch (err) {
      throw asHostError(err, 'conflict');
    }
    this.d.health.delete(id);
    this.d.log.info('clusters', `removed cluster "${c.name}"`);
    void this.d.pushClusters();
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
      d = await this.d.backend.testCluster(target);
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
      this.d.health.set(target.id, {
        status: d.ok ? 'ok' : 'unreachable',
        message: d.ok ? d.title : `${d.title}: ${d.detail}`,
        checkedAt: new Date().toISOString(),
      });
    }
    this.d.activity.testResult(target, d);
    return d;
  }

  async acceptHostKey(req: AcceptHostKeyRequest): Promise<void> {
    const k = req?.hostKey;
    if (
      typeof req?.target !== 'object' ||
      req.target === null ||
      typeof k?.host !== 'string' ||
      !Number.isInteger(k.port) ||
      typeof k.fingerprint !== 'string'
    )
      throw new HostError({ code: 'invalid-input', message: 'Say which host key to trust.' });
    if (!this.d.backend.acceptHostKey)
      throw new HostError({ code: 'unavailable', message: 'Host keys cannot be trusted in this mode.' });
    const { file } = await this.d.backend.acceptHostKey(req);
    const where = k.port === 22 ? k.host : `[${k.host}]:${k.port}`;
    this.d.log.info(
      'clusters',
      file ? `trusted the host key ${k.fingerprint} of ${where} (added to ${file})` : `${where} is trusted`,
    );
    if ('id' in req.target) void this.d.health.check(req.target.id);
  }

  async setActiveCluster(id: string): Promise<void> {
    requireString(id, 'Cluster id');
    try {
      await this.d.backend.setActiveCluster(id);
    } catch (err) {
      throw asHostError(err, 'not-found');
    }
    this.d.log.info('clusters', `active cluster is now "${this.d.clusterName(id) ?? id}"`);
    await this.d.pushClusters();
  }

  async listEnvironments(clusterId: string): Promise<EnvironmentList> {
    requireString(clusterId, 'Cluster id');
    const rt = this.d.backend.runtime(clusterId);
    if (!rt)
      throw new HostError({ code: 'not-found', message: `There is no enabled cluster "${clusterId}".` });
    let listing;
    try {
      listing = await rt.listKernelSpecs();
    } catch (err) {
      this.d.health.set(clusterId, {
        status: 'unreachable',
        message: msg(err),
        checkedAt: new Date().toISOString(),
      });
      return { clusterId, environments: [], problems: [], error: msg(err) };
    }
    if (clusterKinds.isRemote(rt.kind))
      this.d.health.set(clusterId, {
        status: 'ok',
        message: `Lists ${listing.specs.length} kernel environment${listing.specs.length === 1 ? '' : 's'}`,
        checkedAt: new Date().toISOString(),
      });
    let launch: Record<string, string> = {};
    try {
      launch = await this.d.backend.launchSettings(clusterId);
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
        logo: await this.d.logoCache.get(rt, clusterId, s.name, s.resources),
        argv: Array.isArray(s.spec.argv) ? s.spec.argv : [],
        interruptMode: s.spec.interrupt_mode === 'message' ? 'message' : 'signal',
        launchSettings: { ...(s.spec.env ?? {}), ...launch },
        ...sizeInfo(rt, s.name),
      })),
    );
    environments.sort(
      (a, b) => Number(b.isDefault) - Number(a.isDefault) || a.displayName.localeCompare(b.displayName),
    );
    return { clusterId, environments, problems: listing.problems, error: null };
  }

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

  clusterSummary(c: BackendCluster): ClusterSummary {
    const kernelCount = [...this.d.kernels()].filter(
      (k) => k.clusterId === c.id && k.state !== 'dead',
    ).length;
    const health =
      this.d.health.get(c.id) ??
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
}
