// Replica of the clusters (fed by clusters-changed) and of each cluster's kernel environments (loaded on
// demand, refreshed when the main process says they changed).
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ClusterSummary, EnvironmentList } from '../../../electron/host-api/models';

export type EnvEntry =
  | { status: 'loading'; data: EnvironmentList | null }
  | { status: 'ready'; data: EnvironmentList }
  | { status: 'error'; message: string; data: EnvironmentList | null };

export interface ClustersState {
  clusters: ClusterSummary[];
  loaded: boolean;
  error: string | null;
  /** The cluster whose details the Clusters screen shows (defaults to the active one). */
  selectedId: string | null;
  environments: Record<string, EnvEntry>;
}

export interface ClustersActions {
  setClusters(list: ClusterSummary[]): void;
  loadFailed(message: string): void;
  select(id: string | null): void;
  envLoading(clusterId: string): void;
  envLoaded(list: EnvironmentList): void;
  envFailed(clusterId: string, message: string): void;
}

export type ClustersStore = StoreApi<ClustersState & ClustersActions>;

export function createClustersStore(): ClustersStore {
  return createStore<ClustersState & ClustersActions>()((set) => ({
    clusters: [],
    loaded: false,
    error: null,
    selectedId: null,
    environments: {},
    setClusters: (list) =>
      set((s) => {
        const ids = new Set(list.map((c) => c.id));
        const environments: Record<string, EnvEntry> = {};
        for (const [id, e] of Object.entries(s.environments)) if (ids.has(id)) environments[id] = e;
        const selectedId = s.selectedId && ids.has(s.selectedId) ? s.selectedId : null;
        return { clusters: list, loaded: true, error: null, environments, selectedId };
      }),
    loadFailed: (message) => set({ error: message, loaded: true }),
    select: (id) => set({ selectedId: id }),
    envLoading: (clusterId) =>
      set((s) => ({
        environments: {
          ...s.environments,
          [clusterId]: { status: 'loading', data: s.environments[clusterId]?.data ?? null },
        },
      })),
    envLoaded: (list) =>
      set((s) => ({
        environments: {
          ...s.environments,
          [list.clusterId]: list.error
            ? { status: 'error', message: list.error, data: list }
            : { status: 'ready', data: list },
        },
      })),
    envFailed: (clusterId, message) =>
      set((s) => ({
        environments: {
          ...s.environments,
          [clusterId]: { status: 'error', message, data: s.environments[clusterId]?.data ?? null },
        },
      })),
  }));
}

export function activeCluster(s: ClustersState): ClusterSummary | null {
  return s.clusters.find((c) => c.active) ?? null;
}

export function selectedCluster(s: ClustersState): ClusterSummary | null {
  return s.clusters.find((c) => c.id === s.selectedId) ?? activeCluster(s) ?? s.clusters[0] ?? null;
}

/** Display name of a kernel's environment, from the loaded environments (falls back to the spec name). */
export function envDisplayName(s: ClustersState, clusterId: string, specName: string): string {
  const envs = s.environments[clusterId]?.data?.environments ?? [];
  return envs.find((e) => e.name === specName)?.displayName ?? specName;
}

/**
 * "Python 3 on Lab server": an environment's name with its cluster's, unless the display name already says
 * where it runs (SSH and Docker environments are named "Python 3 on <cluster>" for JupyterLab's launcher).
 */
export function onCluster(displayName: string, clusterName: string): string {
  return displayName.includes(clusterName) ? displayName : `${displayName} on ${clusterName}`;
}
