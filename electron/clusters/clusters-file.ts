// Checking parsed clusters.json content: the file's own structure, then every cluster through the one
// validator of its kind (kinds/registry.ts), then what spans clusters (unique ids and names, the active one).
import type { ClustersFile } from './config-base';
import { clusterKinds, type ClusterKindRegistry } from './kinds';

/**
 * Validate parsed clusters.json content. Returns the typed file or a list of problems in words
 * (paths like `clusters[1].url`, naming the cluster).
 */
export function validateClustersFile(
  data: unknown,
  kinds: ClusterKindRegistry = clusterKinds,
): { ok: true; value: ClustersFile } | { ok: false; problems: string[] } {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { ok: false, problems: ['the file does not have the expected structure'] };
  const d = data as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(d))
    if (!['version', 'activeClusterId', 'clusters'].includes(k))
      problems.push(`the file has an unknown field "${k}"`);
  if (d.version !== 1) problems.push('version must be 1');
  if (typeof d.activeClusterId !== 'string') problems.push('the file is missing the field "activeClusterId"');
  if (!Array.isArray(d.clusters) || d.clusters.length === 0) {
    problems.push('clusters must be a list of at least one cluster');
    return { ok: false, problems };
  }
  const ids = new Set<string>();
  const names = new Set<string>();
  d.clusters.forEach((c: unknown, i: number) => {
    const r = kinds.check(c, `clusters[${i}]`);
    // Schema problems read "cluster "X": url must …": name the position too, as before.
    problems.push(
      ...r.problems.map((p) => p.replace(/^cluster "([^"]*)": (\S+)/, `clusters[${i}].$2 (cluster "$1")`)),
    );
    const item = c as { id?: unknown; name?: unknown };
    if (typeof item.id === 'string') {
      if (ids.has(item.id)) problems.push(`two clusters have the id "${item.id}"`);
      ids.add(item.id);
    }
    if (typeof item.name === 'string') {
      if (names.has(item.name.toLowerCase())) problems.push(`two clusters are named "${item.name}"`);
      names.add(item.name.toLowerCase());
    }
  });
  if (typeof d.activeClusterId === 'string' && !ids.has(d.activeClusterId))
    problems.push(`activeClusterId "${d.activeClusterId}" is not one of the clusters`);
  return problems.length ? { ok: false, problems } : { ok: true, value: data as ClustersFile };
}
