// Saved sizes: a named set of KERNEL_* values ("GPU, 16 GB") for one kernel environment of a cluster, stored
// in the cluster's entry of clusters.json as `sizes`. Kind-generic: the registry (registry.ts) checks them for
// every kind with the kind's own launch-parameter validators, so a size refuses what the launch form refuses,
// in the same words. Each size is listed as its own kernelspec `<env>--<size-slug>` (sized-runtime.ts).
import type { JSONSchemaType } from 'ajv';
import { slugify, type StoredCluster } from '../config-base';
import { checkLaunchValues } from './launch-parameters';
import type { ClusterKindDescriptor, FieldProblem } from './types';

export interface SavedSize {
  /** The kernel environment (kernelspec name on the cluster) the size is for. */
  environment: string;
  /** The name a person gave it ("GPU, 16 GB"). */
  name: string;
  /** KERNEL_* variable -> value, as the launch form would send them. */
  values: Record<string, string>;
}

/**
 * A stored cluster with its sizes. Kept off StoredCluster itself: every kind's schema is typed
 * JSONSchemaType<Config>, which would then have to spell `sizes` out; the registry checks them for all kinds.
 */
export type SizedCluster = StoredCluster & { sizes?: SavedSize[] };

/** Between an environment's name and a size's slug in the size's kernelspec name. */
export const SIZE_SEPARATOR = '--';

export const sizesSchema: JSONSchemaType<SavedSize[]> = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      environment: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1, maxLength: 60 },
      values: { type: 'object', required: [], additionalProperties: { type: 'string' } },
    },
    required: ['environment', 'name', 'values'],
    additionalProperties: false,
  },
};

/** The size's part of its kernelspec name: lowercase letters, digits and single '-' (never '--'). */
export function sizeSlug(name: string): string {
  return slugify(name);
}

/** The kernelspec name a size is listed under on its cluster (before the directory pins it). */
export function sizeSpecName(s: Pick<SavedSize, 'environment' | 'name'>): string {
  return `${s.environment}${SIZE_SEPARATOR}${sizeSlug(s.name)}`;
}

export function sizesOf(cfg: StoredCluster): SavedSize[] {
  const s = (cfg as SizedCluster).sizes;
  return Array.isArray(s) ? s : [];
}

/** The cluster with `sizes` replaced (dropped when empty, so clusters.json stays as it was). */
export function withSizes<C extends StoredCluster>(cfg: C, sizes: SavedSize[]): C {
  const { sizes: _old, ...rest } = cfg as C & { sizes?: SavedSize[] };
  void _old;
  return (sizes.length ? { ...rest, sizes } : rest) as C;
}

/** The size a cluster-side kernelspec name stands for (exact, then case-insensitive), or null. */
export function findSize(sizes: readonly SavedSize[], specName: string): SavedSize | null {
  const lower = specName.toLowerCase();
  return (
    sizes.find((s) => sizeSpecName(s) === specName) ??
    sizes.find((s) => sizeSpecName(s).toLowerCase() === lower) ??
    null
  );
}

/**
 * Checks beyond the schema, in words for people: names unique per environment (also as kernel names), at
 * least one value, and every value by the kind's launch parameters for that environment (the form's rules).
 * Problems name the field `sizes`.
 */
export function checkSizes(kind: ClusterKindDescriptor, cfg: StoredCluster): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const s of sizesOf(cfg)) {
    if (typeof s !== 'object' || s === null || typeof s.name !== 'string') continue; // the schema said so
    const label = `size "${s.name}" of environment "${s.environment}"`;
    const key = sizeSpecName(s).toLowerCase();
    if (seen.has(key))
      out.push({
        field: 'sizes',
        message: `${label}: another size of that environment has the same kernel name (${sizeSpecName(s)})`,
      });
    seen.add(key);
    if (!s.name.trim()) out.push({ field: 'sizes', message: `${label}: give the size a name` });
    const values = s.values && typeof s.values === 'object' ? s.values : {};
    const set = Object.entries(values).filter(([, v]) => v !== '');
    if (set.length === 0) out.push({ field: 'sizes', message: `${label}: set at least one KERNEL_* value` });
    // The environment's kernelspec env is not known here (a gateway lists it); validators do not need it.
    const params = kind.launchParameters?.(cfg, { name: s.environment, env: {} }) ?? [];
    for (const [name, message] of Object.entries(checkLaunchValues(params, values)))
      out.push({ field: 'sizes', message: `${label}: ${message || name}` });
  }
  return out;
}
