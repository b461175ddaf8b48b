// The cluster half of the app-core backend: the store's clusters as the host API shows them, add / edit /
// remove / test through the cluster kinds (electron/clusters/kinds/), and the directory kept in step with the
// store (one runtime per enabled cluster) so clusters added from the UI or `npm run cluster` take effect at
// once. Nothing here knows a kind: each kind's descriptor builds, checks, diagnoses and runs its clusters.
import type { AppCore } from '../app-core';
import { LOCAL_CLUSTER_ID, uniqueClusterId, type StoredCluster } from '../clusters/config-base';
import type { Diagnosis } from '../clusters/diagnose';
import { clusterKinds } from '../clusters/kinds';
import { gatewayKind } from '../clusters/kinds/gateway';
import { buildCluster } from '../clusters/kinds/input';
import type { BuildContext } from '../clusters/kinds/types';
import type { ClusterStore } from '../clusters/store';
import type { ClusterRuntime } from '../clusters/types';
import { SECRET_LOCATION_TEXT, type SecretLookup, type SecretStore } from '../secrets/secret-store';
import type { BackendCluster, HostBackend } from './backend';
import { HostError } from './contract';
import type { ClusterInput, ConnectionDiagnosis, GatewaySettingsView } from './models';

export interface ClusterBackendOptions {
  core: Pick<AppCore, 'directory'>;
  store: ClusterStore | null;
  secrets: SecretStore | null;
  /** Keep core.directory in step with the store. */
  sync: boolean;
  /** Runtime for a stored cluster (default: its kind's createRuntime). */
  makeRuntime?: (cfg: StoredCluster, secrets: SecretLookup) => ClusterRuntime;
  log: (level: 'info' | 'warn', message: string) => void;
}

export type ClusterAccess = Pick<
  HostBackend,
  | 'listClusters'
  | 'getGatewaySettings'
  | 'getClusterSettings'
  | 'addCluster'
  | 'editCluster'
  | 'removeCluster'
  | 'setActiveCluster'
  | 'testCluster'
  | 'acceptHostKey'
  | 'secretStorage'
  | 'onClustersChanged'
  | 'launchSettings'
> & { dispose(): void };

const NO_SECRETS: SecretLookup = { get: () => undefined };

/** Diagnosis of a kind's diagnose() -> the contract's ConnectionDiagnosis. */
export function toConnectionDiagnosis(d: Diagnosis): ConnectionDiagnosis {
  const kind = d.code === 'not-a-gateway' ? 'not-found' : d.code === 'config' ? 'invalid-url' : d.code;
  return {
    ok: d.ok,
    kind,
    title: d.title,
    detail: d.detail,
    hint: d.hint || null,
    version: d.gatewayVersion ?? d.serverVersion ?? null,
    kernelspecCount: d.kernelspecCount ?? null,
    durationMs: d.elapsedMs,
    ...(d.hostKey ? { hostKey: d.hostKey } : {}),
  };
}

function refused(fieldErrors: Record<string, string>, problems: string[]): HostError {
  return new HostError({ code: 'invalid-input', message: problems.join('; '), fieldErrors });
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createClusterAccess(opts: ClusterBackendOptions): ClusterAccess {
  const { directory } = opts.core;
  const { store, secrets, log } = opts;
  const lookup: SecretLookup = secrets ?? NO_SECRETS;
  const makeRuntime =
    opts.makeRuntime ??
    ((cfg: StoredCluster, s: SecretLookup) => clusterKinds.of(cfg).createRuntime(cfg, { secrets: s }));
  const listeners = new Set<() => void>();
  const unsubs: (() => void)[] = [];
  const applied = new Map<string, string>(); // cluster id -> config JSON the runtime was built from

  const notify = (): void => {
    for (const l of [...listeners]) l();
  };

  const reconcile = (): void => {
    if (!store || !opts.sync) return;
    const configs = store.list().filter((c) => c.enabled !== false);
    const wanted = new Map(configs.map((c) => [c.id, c]));
    for (const rt of directory.clusters) {
      const cfg = wanted.get(rt.id);
      const stale = cfg && applied.has(rt.id) && applied.get(rt.id) !== JSON.stringify(cfg);
      if ((!cfg && rt.id !== LOCAL_CLUSTER_ID) || stale) {
        directory.remove(rt.id);
        applied.delete(rt.id);
        void rt.dispose().catch(() => undefined);
      }
    }
    for (const cfg of configs) {
      if (directory.get(cfg.id)) continue;
      try {
        directory.add(makeRuntime(cfg, lookup));
        applied.set(cfg.id, JSON.stringify(cfg));
      } catch (err) {
        log('warn', `cluster "${cfg.name}" cannot be used: ${errText(err)}`);
      }
    }
    const active = store.activeId();
    if (directory.get(active) && directory.activeId !== active) directory.setActive(active);
  };

  if (store) {
    if (store.problem) log('warn', store.problem.message);
    reconcile();
    unsubs.push(
      store.onChange((c) => {
        if (c.problem) log('warn', c.problem.message);
        reconcile();
        notify();
      }),
    );
  }
  unsubs.push(directory.on('clusters-changed', notify), directory.on('active-changed', notify));

  const requireStore = (): ClusterStore => {
    if (!store)
      throw new HostError({ code: 'unavailable', message: 'Clusters cannot be changed in this mode.' });
    return store;
  };

  const requireCluster = (id: string): StoredCluster => {
    const c = store?.get(id);
    if (!c || c.id !== id)
      throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    return c;
  };

  /**
   * Build a config from input with secrets written only once it is good: undefined keeps, '' clears, a value
   * sets. Returns the config and the secret changes to make.
   */
  const build = (input: ClusterInput, id: string, prev: StoredCluster | null) => {
    const sets: [string, string][] = [];
    const clears: string[] = [];
    const secret: BuildContext['secret'] = (_field, key, value, had) => {
      if (value === undefined) return had;
      if (value === '') {
        if (had) clears.push(had);
        return undefined;
      }
      sets.push([key, value]);
      return key;
    };
    const r = buildCluster(input, { id, prev, secret });
    if (!r.ok) throw refused(r.check.fieldErrors, r.check.problems);
    if (sets.length && !secrets)
      throw new HostError({ code: 'unavailable', message: 'No place to keep secrets is available.' });
    return { config: r.config, sets, clears };
  };

  /** Unsaved form input as a config: secrets from the input, else the saved cluster's; nothing is written. */
  const unsaved = (target: { input: ClusterInput; baseId?: string }) => {
    const base = target.baseId ? (store?.get(target.baseId) ?? null) : null;
    const temp = new Map<string, string>();
    const secret: BuildContext['secret'] = (field, _key, value, had) => {
      const v = value === undefined && had ? lookup.get(had) : value;
      if (!v) return undefined;
      temp.set(`test/${field}`, v);
      return `test/${field}`;
    };
    const r = buildCluster(target.input, { id: 'connection-test', prev: base, secret });
    if (!r.ok) throw refused(r.check.fieldErrors, r.check.problems);
    const secrets: SecretLookup = { get: (k) => temp.get(k) };
    return { config: r.config, secrets };
  };

  const clusterOf = (c: StoredCluster, active: string): BackendCluster => ({
    id: c.id,
    name: c.name,
    kind: c.kind,
    builtIn: c.id === LOCAL_CLUSTER_ID,
    url: clusterKinds.get(c.kind)?.url(c) ?? null,
    active: c.id === active,
  });

  return {
    async listClusters() {
      if (store) {
        const active = directory.activeId ?? store.activeId();
        return store.list().map((c) => clusterOf(c, active));
      }
      return directory.state().clusters.map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        builtIn: c.id === LOCAL_CLUSTER_ID,
        url: null,
        active: c.active,
      }));
    },

    async getClusterSettings(id) {
      if (!store) return null;
      const c = requireCluster(id);
      const kind = clusterKinds.of(c);
      return { settings: kind.values(c), secretsSet: kind.secretsSet(c, lookup) };
    },

    /** The gateway kind's settings in the shape the contract has always had (ClusterDetail.gateway). */
    async getGatewaySettings(id): Promise<GatewaySettingsView | null> {
      if (!store) return null;
      const c = requireCluster(id);
      if (!gatewayKind.is(c)) return null;
      const set = gatewayKind.secretsSet(c, lookup);
      const v = gatewayKind.values(c) as unknown as Omit<
        GatewaySettingsView,
        'hasAuthToken' | 'hasHttpPassword'
      >;
      return { ...v, hasAuthToken: Boolean(set.authToken), hasHttpPassword: Boolean(set.httpPassword) };
    },

    async addCluster(input) {
      const s = requireStore();
      const id = uniqueClusterId(
        input.name,
        s.list().map((c) => c.id),
      );
      const { config, sets } = build(input, id, null);
      try {
        for (const [k, v] of sets) secrets?.set(k, v);
        s.add(config);
      } catch (err) {
        // Nothing half-saved: drop secrets written for this id.
        secrets?.deletePrefix(`cluster/${id}/`);
        throw err instanceof HostError ? err : refused({ name: errText(err) }, [errText(err)]);
      }
      reconcile();
      return id;
    },

    async editCluster(id, input) {
      const s = requireStore();
      const prev = requireCluster(id);
      const { config, sets, clears } = build(input, id, prev);
      if (prev.enabled === false) config.enabled = false;
      // Secrets before the config (a running app rebuilds the cluster when its config changes).
      for (const [k, v] of sets) secrets?.set(k, v);
      try {
        s.update(config);
      } catch (err) {
        throw err instanceof HostError ? err : refused({ name: errText(err) }, [errText(err)]);
      }
      for (const k of clears) secrets?.delete(k);
      reconcile();
    },

    async removeCluster(id) {
      const s = requireStore();
      try {
        s.remove(id);
      } catch (err) {
        throw new HostError({ code: 'conflict', message: errText(err) });
      }
      secrets?.deletePrefix(`cluster/${id}/`);
      reconcile();
    },

    async setActiveCluster(id) {
      if (store) {
        try {
          store.setActive(id);
        } catch (err) {
          throw new HostError({ code: 'not-found', message: errText(err) });
        }
        reconcile();
      }
      if (!directory.get(id))
        throw new HostError({ code: 'not-found', message: `Cluster "${id}" is not enabled.` });
      directory.setActive(id);
    },

    async testCluster(target) {
      if ('id' in target) {
        const rt = directory.get(target.id);
        const cfg = store?.get(target.id);
        if (cfg && clusterKinds.isRemote(cfg.kind))
          return toConnectionDiagnosis(await clusterKinds.of(cfg).diagnose(cfg, lookup));
        if (!rt) throw new HostError({ code: 'not-found', message: `There is no cluster "${target.id}".` });
        // Kernels on this computer: the test is whether there are kernelspecs to start.
        const t0 = Date.now();
        const specs = await rt.listKernelSpecs();
        return {
          ok: true,
          kind: 'ok',
          title: 'Kernels run on this computer',
          detail: `${specs.specs.length} kernel environment(s) found.`,
          hint: specs.specs.length ? null : 'pip install ipykernel, then python -m ipykernel install --user',
          version: null,
          kernelspecCount: specs.specs.length,
          durationMs: Date.now() - t0,
        };
      }
      const t = unsaved(target);
      return toConnectionDiagnosis(await clusterKinds.of(t.config).diagnose(t.config, t.secrets));
    },

    async acceptHostKey({ target, hostKey }) {
      const t = 'id' in target ? { config: requireCluster(target.id), secrets: lookup } : unsaved(target);
      const keys = clusterKinds.of(t.config).hostKeys;
      if (!keys)
        throw new HostError({ code: 'invalid-input', message: 'This kind of cluster has no host keys.' });
      try {
        return { file: await keys.trust(t.config, t.secrets, hostKey) };
      } catch (err) {
        throw new HostError({ code: 'conflict', message: errText(err) });
      }
    },

    secretStorage() {
      if (!secrets) return 'not available';
      return `${SECRET_LOCATION_TEXT[secrets.defaultLocation]}${secrets.defaultLocation === 'file' ? ` (${secrets.files.file})` : ''}`;
    },

    onClustersChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async launchSettings(clusterId) {
      const c = store?.get(clusterId);
      const kind = c ? clusterKinds.get(c.kind) : undefined;
      return c && kind ? kind.launchSettings(c) : {};
    },

    dispose() {
      for (const u of unsubs.splice(0)) u();
      listeners.clear();
    },
  };
}
