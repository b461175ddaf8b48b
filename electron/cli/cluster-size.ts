// `npm run cluster -- size add|list|remove`: saved sizes (electron/clusters/kinds/sizes.ts), named sets of
// KERNEL_* values for one kernel environment of a cluster, each listed on /api/kernelspecs as its own kernel.
// A change goes through the one validator (the kind registry), so a value the launch form refuses is refused
// here in the same words, and nothing is saved.
import { ConfigError, type StoredCluster } from '../clusters/config-base';
import { slugify as pinSlug } from '../clusters/directory';
import { clusterKinds } from '../clusters/kinds';
import { sizeSpecName, sizesOf, withSizes, type SavedSize } from '../clusters/kinds/sizes';
import { StoreError, type ClusterStore } from '../clusters/store';

export const SIZE_USAGE = `  size add CLUSTER ENV NAME --set KERNEL_X=VALUE...
                                         save a size of kernel environment ENV (e.g. "GPU, 16 GB" with
                                         --set KERNEL_GPUS=1 --set KERNEL_MEMORY=16G): listed as the kernelspec
                                         ENV--<name-slug>, starting it applies the values (a client's own
                                         KERNEL_* still win); checked as the launch form checks them
  size list [CLUSTER] [--json]           saved sizes with their kernel names and values
  size remove CLUSTER ENV NAME           remove a size (kernels started with it keep running)`;

export interface SizeIo {
  out: (s: string) => void;
  usage: (message: string) => Error;
}

export type SizeFlags = Record<string, string | boolean | string[] | undefined>;

/** `--set K=V` flags -> values; a word without '=' is a usage error. */
function valuesOf(set: SizeFlags[string], io: SizeIo): Record<string, string> {
  const words = set === undefined ? [] : Array.isArray(set) ? set : [String(set)];
  if (words.length === 0) throw io.usage('size add needs at least one --set KERNEL_X=VALUE');
  const values: Record<string, string> = {};
  for (const w of words) {
    const i = w.indexOf('=');
    if (i <= 0) throw io.usage(`--set "${w}": write it as KERNEL_X=VALUE`);
    values[w.slice(0, i).trim()] = w.slice(i + 1);
  }
  return values;
}

/** The kernelspec names a size is listed under: its own on the active cluster, pinned on any cluster. */
function kernelNames(store: ClusterStore, c: StoredCluster, s: SavedSize): string {
  const own = sizeSpecName(s);
  const pinned = `${pinSlug(c.id)}--${own}`;
  return store.activeId() === c.id ? `${own} (or ${pinned})` : pinned;
}

function save(store: ClusterStore, c: StoredCluster, sizes: SavedSize[]): void {
  const next = withSizes(c, sizes);
  const r = clusterKinds.check(next);
  if (r.problems.length) throw new ConfigError(`nothing was saved:\n  ${r.problems.join('\n  ')}`);
  store.update(next);
}

const same = (s: SavedSize, env: string, name: string): boolean =>
  s.environment === env && s.name.toLowerCase() === name.toLowerCase();

/** `size ...`; returns the exit code. */
export function runSizeCommand(store: ClusterStore, args: string[], o: SizeFlags, io: SizeIo): number {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      if (rest.length !== 3)
        throw io.usage('usage: npm run cluster -- size add CLUSTER ENV NAME --set KERNEL_X=VALUE...');
      const [ref, env, name] = rest as [string, string, string];
      const c = store.require(ref);
      const values = valuesOf(o.set, io);
      const sizes = sizesOf(c);
      if (sizes.some((s) => same(s, env, name)))
        throw new StoreError(`"${c.name}" has a size "${name}" of "${env}" already: remove it first`);
      const size: SavedSize = { environment: env, name: name.trim(), values };
      save(store, c, [...sizes, size]);
      io.out(
        `Saved size "${size.name}" of "${env}" on "${c.name}": kernel ${kernelNames(store, c, size)}.\n` +
          (envKnown(c, env) ? '' : `  Note: "${env}" is listed only if the cluster has that environment.\n`),
      );
      return 0;
    }
    case 'list': {
      if (rest.length > 1) throw io.usage('usage: npm run cluster -- size list [CLUSTER] [--json]');
      const clusters = rest[0] ? [store.require(rest[0])] : store.list();
      const rows = clusters.flatMap((c) => sizesOf(c).map((s) => ({ c, s })));
      if (o.json) {
        const out = rows.map(({ c, s }) => ({ cluster: c.name, ...s, kernelName: sizeSpecName(s) }));
        io.out(JSON.stringify(out, null, 2) + '\n');
      } else if (rows.length === 0) io.out('No saved sizes.\n');
      else
        for (const { c, s } of rows) {
          const vals = Object.entries(s.values).map(([k, v]) => `${k}=${v}`);
          io.out(`  ${c.name} / ${s.environment} / ${s.name}\n    kernel ${kernelNames(store, c, s)}\n`);
          io.out(`    ${vals.join(' ')}\n`);
        }
      return 0;
    }
    case 'remove': {
      if (rest.length !== 3) throw io.usage('usage: npm run cluster -- size remove CLUSTER ENV NAME');
      const [ref, env, name] = rest as [string, string, string];
      const c = store.require(ref);
      const sizes = sizesOf(c);
      if (!sizes.some((s) => same(s, env, name)))
        throw new StoreError(`"${c.name}" has no size "${name}" of "${env}" (size list shows them)`);
      save(
        store,
        c,
        sizes.filter((s) => !same(s, env, name)),
      );
      io.out(`Removed size "${name}" of "${env}" on "${c.name}". Kernels started with it keep running.\n`);
      return 0;
    }
    default:
      throw io.usage('usage: npm run cluster -- size add|list|remove ... (see --help)');
  }
}

/** False only when the kind keeps its environments in its settings and ENV is not one of them. */
function envKnown(c: StoredCluster, env: string): boolean {
  const envs = clusterKinds.of(c).environments;
  return !envs || envs.describe(c).some((r) => r.name === env);
}
