// The adapter from app-core (registry, directory) plus the cluster store, secrets and diagnosis to the
// host service's narrow HostBackend. When asked to, it also keeps the directory in step with the store
// (one runtime per enabled cluster), so clusters added from the UI or `npm run cluster` take effect at once.
import { randomUUID } from 'node:crypto';
import type { AppCore } from '../app-core';
import {
  LOCAL_CLUSTER_ID,
  makeGatewayConfig,
  secretKeys,
  uniqueClusterId,
  type StoredCluster,
  type GatewayClusterConfig,
  type GatewayInput,
} from '../clusters/config';
import { diagnoseGateway, type Diagnosis } from '../clusters/diagnose';
import { GatewayClusterRuntime } from '../clusters/gateway/runtime';
import { clusterKinds } from '../clusters/kinds';
import { gatewayKind } from '../clusters/kinds/gateway';
import type { ClusterStore } from '../clusters/store';
import type { ClusterRuntime } from '../clusters/types';
import type { KernelInfo, LaunchInfo } from '../kernels/registry';
import { SECRET_LOCATION_TEXT, type SecretLookup, type SecretStore } from '../secrets/secret-store';
import type { BackendCluster, BackendKernel, BackendKernelEvent, BackendLab, HostBackend } from './backend';
import { HostError } from './contract';
import { foreignKernelAccess } from './foreign-kernels';
import type { ClusterInput, ConnectionDiagnosis, GatewaySettingsView, KernelState } from './models';

export interface AppCoreBackendOptions {
  core: AppCore;
  /** The persistent cluster store; without it only the directory's clusters are shown (read-only). */
  store?: ClusterStore | null;
  secrets?: SecretStore | null;
  /** Keep core.directory in step with the store (default true when a store is given). */
  syncDirectory?: boolean;
  /** Runtime for a stored gateway cluster (default GatewayClusterRuntime). */
  makeRuntime?: (cfg: GatewayClusterConfig, secrets: SecretLookup) => ClusterRuntime;
  lab?: BackendLab | null;
  log?: (level: 'info' | 'warn', message: string) => void;
}

const NO_SECRETS: SecretLookup = { get: () => undefined };

function toState(info: KernelInfo): KernelState {
  if (info.executionState !== 'dead' && info.link) return info.link;
  return info.executionState;
}

function toKernel(info: KernelInfo): BackendKernel {
  return {
    id: info.id,
    clusterId: info.clusterId,
    specName: info.clusterSpecName,
    state: toState(info),
    startedAt: new Date(info.startedAt),
    lastActivity: new Date(info.lastActivity),
    connections: info.connections,
    reason: info.reason ?? null,
  };
}

/** Diagnosis of H5's module -> the contract's ConnectionDiagnosis. */
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
  };
}

/** Which form field a store/config error message is about (for inline errors). */
function fieldOf(message: string): string {
  const m = message.toLowerCase();
  if (m.includes('url')) return 'url';
  if (m.includes('named') || m.includes('name "')) return 'name';
  if (m.includes('header')) return 'extraHeaders';
  if (m.includes('timeout')) return 'requestTimeoutSec';
  if (m.includes('kernel_') || m.includes('launch parameter')) return 'launchParams';
  if (m.includes('environment variable')) return 'envAllowlist';
  if (m.includes('certificate') || m.includes('key file')) return 'clientKeyFile';
  return 'name';
}

function invalid(err: unknown): HostError {
  const message = err instanceof Error ? err.message : String(err);
  return new HostError({ code: 'invalid-input', message, fieldErrors: { [fieldOf(message)]: message } });
}

export function createAppCoreBackend(opts: AppCoreBackendOptions): HostBackend & { dispose(): void } {
  const { core } = opts;
  const { registry, directory } = core;
  const store = opts.store ?? null;
  const secrets = opts.secrets ?? null;
  const lookup: SecretLookup = secrets ?? NO_SECRETS;
  const sync = store !== null && opts.syncDirectory !== false;
  const makeRuntime = opts.makeRuntime ?? ((cfg, s) => new GatewayClusterRuntime(cfg, s));
  const log = opts.log ?? (() => undefined);
  const clusterListeners = new Set<() => void>();
  const unsubs: (() => void)[] = [];
  const applied = new Map<string, string>(); // cluster id -> config JSON the runtime was built from

  const notifyClusters = () => {
    for (const l of [...clusterListeners]) l();
  };

  const reconcile = (): void => {
    if (!store || !sync) return;
    const configs = store.list().filter((c) => c.enabled !== false);
    const wanted = new Map(configs.map((c) => [c.id, c]));
    for (const rt of directory.clusters) {
      const cfg = wanted.get(rt.id);
      const stale =
        cfg && gatewayKind.is(cfg) && applied.has(rt.id) && applied.get(rt.id) !== JSON.stringify(cfg);
      if ((!cfg && rt.id !== LOCAL_CLUSTER_ID) || stale) {
        directory.remove(rt.id);
        applied.delete(rt.id);
        void rt.dispose().catch(() => undefined);
      }
    }
    for (const cfg of configs) {
      if (!gatewayKind.is(cfg) || directory.get(cfg.id)) continue;
      try {
        directory.add(makeRuntime(cfg, lookup));
        applied.set(cfg.id, JSON.stringify(cfg));
      } catch (err) {
        log(
          'warn',
          `cluster "${cfg.name}" cannot be used: ${err instanceof Error ? err.message : String(err)}`,
        );
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
        notifyClusters();
      }),
    );
  }
  unsubs.push(
    directory.on('clusters-changed', notifyClusters),
    directory.on('active-changed', notifyClusters),
  );

  const requireGateway = (id: string): GatewayClusterConfig => {
    const c = store?.get(id);
    if (!c || c.id !== id)
      throw new HostError({ code: 'not-found', message: `There is no cluster "${id}".` });
    if (!gatewayKind.is(c))
      throw new HostError({ code: 'invalid-input', message: `"${c.name}" is not a gateway cluster.` });
    return c;
  };

  const requireStore = (): ClusterStore => {
    if (!store)
      throw new HostError({ code: 'unavailable', message: 'Clusters cannot be changed in this mode.' });
    return store;
  };

  /** Secrets: undefined keeps, '' clears, a value sets. Returns the key to put in the config (or undefined). */
  const applySecret = (
    key: string,
    value: string | undefined,
    had: string | undefined,
  ): string | undefined => {
    if (value === undefined) return had;
    if (value === '') {
      secrets?.delete(key);
      return undefined;
    }
    if (!secrets)
      throw new HostError({ code: 'unavailable', message: 'No place to keep secrets is available.' });
    secrets.set(key, value);
    return key;
  };

  const toGatewayInput = (
    id: string,
    input: ClusterInput,
    prev: GatewayClusterConfig | null,
  ): GatewayInput => {
    const g = input.gateway;
    if (!g)
      throw new HostError({
        code: 'invalid-input',
        message: 'The gateway settings are missing.',
        fieldErrors: { url: 'Enter the gateway URL.' },
      });
    const tokenSecret = applySecret(secretKeys.token(id), g.authToken, prev?.auth.tokenSecret);
    const passwordSecret = applySecret(
      secretKeys.password(id),
      g.httpPassword,
      prev?.basicAuth?.passwordSecret,
    );
    const gi: GatewayInput = {
      id,
      name: input.name.trim(),
      url: g.url.trim(),
      authHeaderName: g.authHeaderName || 'Authorization',
      authScheme: g.authScheme,
      headers: g.extraHeaders,
      validateCert: g.validateCert,
      timeouts: {
        connectMs: Math.round(g.connectTimeoutSec * 1000),
        launchMs: Math.round(g.launchTimeoutSec * 1000),
        requestMs: Math.round(g.requestTimeoutSec * 1000),
      },
      launchParams: Object.entries(g.launchParams).map(([name, value]) => ({ name, value })),
      forwardEnv: g.envAllowlist,
    };
    if (tokenSecret) gi.tokenSecret = tokenSecret;
    if (g.httpUser) gi.httpUser = g.httpUser;
    if (passwordSecret) gi.passwordSecret = passwordSecret;
    if (g.caFile) gi.caFile = g.caFile;
    if (g.clientCertFile) gi.clientCertFile = g.clientCertFile;
    if (g.clientKeyFile) gi.clientKeyFile = g.clientKeyFile;
    if (g.kernelUsername) gi.kernelUsername = g.kernelUsername;
    if (prev?.wsUrl) gi.wsUrl = prev.wsUrl;
    if (prev?.endpoints) gi.endpoints = prev.endpoints;
    if (prev?.pollIntervalMs !== undefined) gi.pollIntervalMs = prev.pollIntervalMs;
    return gi;
  };

  /** A config for testing unsaved input; secrets come from the input, else the saved cluster's. */
  const testTarget = (
    input: ClusterInput,
    baseId?: string,
  ): { cfg: GatewayClusterConfig; lookup: SecretLookup } => {
    const g = input.gateway;
    if (!g) throw new HostError({ code: 'invalid-input', message: 'The gateway settings are missing.' });
    const prev = baseId ? (store?.get(baseId) ?? null) : null;
    const base = prev && gatewayKind.is(prev) ? prev : null;
    const temp = new Map<string, string>();
    const tokenKey = 'test/token';
    const passKey = 'test/password';
    if (g.authToken) temp.set(tokenKey, g.authToken);
    else if (g.authToken === undefined && base?.auth.tokenSecret) {
      const v = lookup.get(base.auth.tokenSecret);
      if (v) temp.set(tokenKey, v);
    }
    if (g.httpPassword) temp.set(passKey, g.httpPassword);
    else if (g.httpPassword === undefined && base?.basicAuth?.passwordSecret) {
      const v = lookup.get(base.basicAuth.passwordSecret);
      if (v) temp.set(passKey, v);
    }
    const gi = toGatewayInput(
      'connection-test',
      { ...input, gateway: { ...g, authToken: undefined, httpPassword: undefined } },
      null,
    );
    if (temp.has(tokenKey)) gi.tokenSecret = tokenKey;
    if (temp.has(passKey)) gi.passwordSecret = passKey;
    let cfg: GatewayClusterConfig;
    try {
      cfg = makeGatewayConfig(gi);
    } catch (err) {
      throw invalid(err);
    }
    return { cfg, lookup: { get: (k) => temp.get(k) } };
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
    proxyUrl: core.proxyUrl,
    token: core.token,
    dataDir: core.dataDir,

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

    async getGatewaySettings(id): Promise<GatewaySettingsView | null> {
      if (!store) return null;
      const c = requireGateway(id);
      const t = c.timeouts;
      return {
        url: c.url,
        hasAuthToken: Boolean(c.auth.tokenSecret && lookup.get(c.auth.tokenSecret)),
        authHeaderName: c.auth.headerName,
        authScheme: c.auth.scheme,
        httpUser: c.basicAuth?.user ?? '',
        hasHttpPassword: Boolean(c.basicAuth?.passwordSecret && lookup.get(c.basicAuth.passwordSecret)),
        extraHeaders: { ...c.headers },
        validateCert: c.tls.validate,
        caFile: c.tls.caFile ?? '',
        clientCertFile: c.tls.clientCertFile ?? '',
        clientKeyFile: c.tls.clientKeyFile ?? '',
        kernelUsername: c.kernelUsername ?? '',
        connectTimeoutSec: Math.round(t.connectMs / 1000),
        launchTimeoutSec: Math.round(t.launchMs / 1000),
        requestTimeoutSec: Math.round(t.requestMs / 1000),
        launchParams: Object.fromEntries(c.launchParams.map((p) => [p.name, p.value])),
        envAllowlist: [...c.forwardEnv],
      };
    },

    async addCluster(input) {
      const s = requireStore();
      if (!clusterKinds.get(input.kind)?.addableFromForm)
        throw new HostError({ code: 'invalid-input', message: 'This kind of cluster cannot be added here.' });
      const id = uniqueClusterId(
        input.name,
        s.list().map((c) => c.id),
      );
      let cfg: GatewayClusterConfig;
      try {
        cfg = makeGatewayConfig(toGatewayInput(id, input, null));
        s.add(cfg);
      } catch (err) {
        // Nothing half-saved: drop secrets written for this id.
        secrets?.deletePrefix(`cluster/${id}/`);
        throw err instanceof HostError ? err : invalid(err);
      }
      reconcile();
      return id;
    },

    async editCluster(id, input) {
      const s = requireStore();
      const prev = requireGateway(id);
      try {
        const cfg = makeGatewayConfig(toGatewayInput(id, input, prev));
        if (prev.enabled === false) cfg.enabled = false;
        s.update(cfg);
      } catch (err) {
        throw err instanceof HostError ? err : invalid(err);
      }
      reconcile();
    },

    async removeCluster(id) {
      const s = requireStore();
      try {
        s.remove(id);
      } catch (err) {
        throw new HostError({ code: 'conflict', message: err instanceof Error ? err.message : String(err) });
      }
      secrets?.deletePrefix(`cluster/${id}/`);
      reconcile();
    },

    async setActiveCluster(id) {
      if (store) {
        try {
          store.setActive(id);
        } catch (err) {
          throw new HostError({
            code: 'not-found',
            message: err instanceof Error ? err.message : String(err),
          });
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
        if (cfg && gatewayKind.is(cfg)) return toConnectionDiagnosis(await diagnoseGateway(cfg, lookup));
        if (!rt) throw new HostError({ code: 'not-found', message: `There is no cluster "${target.id}".` });
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
      const { cfg, lookup: temp } = testTarget(target.input, target.baseId);
      return toConnectionDiagnosis(await diagnoseGateway(cfg, temp));
    },

    secretStorage() {
      if (!secrets) return 'not available';
      return `${SECRET_LOCATION_TEXT[secrets.defaultLocation]}${secrets.defaultLocation === 'file' ? ` (${secrets.files.file})` : ''}`;
    },

    onClustersChanged(listener) {
      clusterListeners.add(listener);
      return () => clusterListeners.delete(listener);
    },

    runtime: (id) => directory.get(id),

    async launchSettings(clusterId) {
      const c = store?.get(clusterId);
      const kind = c ? clusterKinds.get(c.kind) : undefined;
      return c && kind ? kind.launchSettings(c) : {};
    },

    listKernels: () => registry.list().map(toKernel),

    async startKernel(req) {
      const kernelId = randomUUID();
      req.onKernelId(kernelId);
      const name =
        directory.activeId === req.clusterId
          ? req.specName
          : directory.pinnedName(req.clusterId, req.specName);
      const off = registry.on('launch-progress', (l: LaunchInfo) => {
        if (l.kernelId === kernelId && l.status === 'launching')
          req.onProgress({ phase: l.phase, message: l.message, elapsedMs: l.elapsedMs });
      });
      try {
        return toKernel(await registry.start(name, { KERNEL_ID: kernelId }));
      } finally {
        off();
      }
    },

    interruptKernel: (id) => registry.interrupt(id),
    async restartKernel(id) {
      await registry.restart(id);
    },
    shutdownKernel: (id) => registry.shutdown(id),
    kernelBackend: (id) => registry.get(id)?.backend ?? null,

    onKernelEvent(listener: (e: BackendKernelEvent) => void) {
      const offs = [
        registry.on('kernel-added', (k) => listener({ type: 'added', kernel: toKernel(k) })),
        registry.on('kernel-updated', (k) => listener({ type: 'updated', kernel: toKernel(k) })),
        registry.on('kernel-removed', ({ id }) => listener({ type: 'removed', id })),
      ];
      return () => offs.forEach((f) => f());
    },

    lab: opts.lab ?? null,
    ...foreignKernelAccess(core),

    dispose() {
      for (const u of unsubs.splice(0)) u();
      clusterListeners.clear();
    },
  };
}
