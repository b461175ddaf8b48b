// The adapter from app-core (registry, directory) plus the cluster store, secrets and diagnosis to the
// host service's narrow HostBackend. Its cluster half (and the directory kept in step with the store) is in
// cluster-backend.ts; the kernels half is here.
import { randomUUID } from 'node:crypto';
import type { AppCore } from '../app-core';
import type { StoredCluster } from '../clusters/config-base';
import type { ClusterStore } from '../clusters/store';
import type { ClusterRuntime } from '../clusters/types';
import type { KernelInfo, LaunchInfo } from '../kernels/registry';
import type { SecretLookup, SecretStore } from '../secrets/secret-store';
import type { BackendKernel, BackendKernelEvent, BackendLab, BackendLaunch, HostBackend } from './backend';
import { createClusterAccess } from './cluster-backend';
import { foreignKernelAccess } from './foreign-kernels';
import { orphanAccess } from './orphans';
import { launchParametersFor, sizesSaverFor } from './launch-backend';
import type { KernelState } from './models';

export interface AppCoreBackendOptions {
  core: AppCore;
  /** The persistent cluster store; without it only the directory's clusters are shown (read-only). */
  store?: ClusterStore | null;
  secrets?: SecretStore | null;
  /** Keep core.directory in step with the store (default true when a store is given). */
  syncDirectory?: boolean;
  /** Runtime for a stored cluster (default: its kind's createRuntime). */
  makeRuntime?: (cfg: StoredCluster, secrets: SecretLookup) => ClusterRuntime;
  lab?: BackendLab | null;
  log?: (level: 'info' | 'warn', message: string) => void;
}

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
    cullAfter: info.cullAfter ?? null,
    ...(info.params ? { params: info.params } : {}),
  };
}

export { toConnectionDiagnosis } from './cluster-backend';

export function createAppCoreBackend(opts: AppCoreBackendOptions): HostBackend & { dispose(): void } {
  const { core } = opts;
  const { registry, directory } = core;
  const store = opts.store ?? null;
  const secrets = opts.secrets ?? null;
  const clusters = createClusterAccess({
    core,
    store,
    secrets,
    sync: store !== null && opts.syncDirectory !== false,
    makeRuntime: opts.makeRuntime,
    log: opts.log ?? (() => undefined),
  });

  return {
    proxyUrl: core.proxyUrl,
    token: core.token,
    dataDir: core.dataDir,

    ...clusters,

    runtime: (id) => directory.get(id),
    launchParameters: launchParametersFor(directory, store, secrets ?? { get: () => undefined }),
    saveSizes: sizesSaverFor(store),

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
          req.onProgress({ phase: l.phase, message: l.message, elapsedMs: l.elapsedMs, detail: l.detail });
      });
      try {
        return toKernel(await registry.start(name, { ...req.env, KERNEL_ID: kernelId }));
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
        registry.on('kernel-removed', ({ id, reason }) => listener({ type: 'removed', id, reason })),
      ];
      return () => offs.forEach((f) => f());
    },

    onLaunchProgress(listener: (l: BackendLaunch) => void) {
      return registry.on('launch-progress', (l: LaunchInfo) =>
        listener({
          kernelId: l.kernelId,
          clusterId: l.clusterId,
          specName: directory.parsePinned(l.specName)?.specName ?? l.specName,
          status: l.status,
          phase: l.phase,
          message: l.message,
          detail: l.detail ?? null,
          elapsedMs: l.elapsedMs,
          error: l.error ?? null,
        }),
      );
    },

    lab: opts.lab ?? null,
    ...foreignKernelAccess(core),
    ...orphanAccess(core),

    dispose() {
      clusters.dispose();
    },
  };
}
