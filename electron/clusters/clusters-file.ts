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
    // Where the schema found a problem is named by its place in the file: clusters[1].url (cluster "Uni").
    const item = c as { id?: unknown; name?: unknown };
    const named = typeof item.name === 'string' ? ` (cluster "${item.name}")` : '';
    // (check() lists the schema's problems first, then the kind's own checks.)
    problems.push(
      ...r.at.map((a) => `clusters[${i}]${a.path ? `.${a.path}` : ''}${named} ${a.message}`),
      ...r.problems.slice(r.at.length),
    );
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
