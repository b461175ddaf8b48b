// What every stored cluster has, whatever its kind (id, name, kind, enabled), the clusters.json file around
// them, and the rules for ids. Each kind's own settings live in its folder (electron/clusters/kinds/<kind>/).

export interface StoredCluster {
  /** Stable id: lowercase letters, digits and '-' (used in pinned kernelspec names and secret keys). */
  id: string;
  /** Display name the user picked; unique (case-insensitive) within the store. */
  name: string;
  /** The kind's name as registered in electron/clusters/kinds/index.ts. */
  kind: string;
  /** Disabled clusters are kept but not offered (their kernelspecs are not listed). Default true. */
  enabled?: boolean;
}

export interface ClustersFile {
  version: 1;
  activeClusterId: string;
  clusters: StoredCluster[];
}

export const LOCAL_CLUSTER_ID = 'local';
export const LOCAL_CLUSTER_NAME = 'This computer';

export function defaultClustersFile(): ClustersFile {
  return {
    version: 1,
    activeClusterId: LOCAL_CLUSTER_ID,
    clusters: [{ id: LOCAL_CLUSTER_ID, name: LOCAL_CLUSTER_NAME, kind: 'local' }],
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A cluster id from a display name: lowercase letters, digits and '-', never empty. */
export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return s || 'cluster';
}

export function uniqueClusterId(name: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const base = slugify(name);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}
