// The cluster directory: which cluster runtimes are enabled, which one is active, and how a kernelspec
// name a client sends maps to (cluster, spec on that cluster).
//
// Routing rule:
//   * the ACTIVE cluster's specs are listed under their own names (a notebook saved with `python3` runs on
//     whichever cluster is active when the kernel starts);
//   * every OTHER enabled cluster's specs are listed under pinned names `<cluster-slug>--<spec>`, with
//     " (on <cluster name>)" appended to the display name;
//   * a pinned name of ANY cluster (the active one included) always resolves to that cluster.
// Switching the active cluster affects the next start at once; running kernels stay where they are.
import type { ClusterKernelSpec, ClusterRuntime, SpecQuery } from './types';
import type { KernelSpecFile } from '../../provisioners/types';
import { TypedEmitter } from '../kernels/emitter';
import { GatewayError, errorMessage } from '../kernels/errors';

/** Separator between a cluster slug and a spec name in pinned kernelspec names. */
export const PIN_SEPARATOR = '--';

/** A kernelspec as the gateway lists it: the name clients use, and where it really lives. */
export interface RoutedKernelSpec {
  /** Name clients see and send back in POST /api/kernels (own name, or `<slug>--<spec>`). */
  name: string;
  /** The spec as the cluster describes it (display_name already suffixed for pinned names). */
  spec: KernelSpecFile;
  /** Resource key -> file name (the proxy turns these into `/kernelspecs/<name>/<file>` URLs). */
  resources: Record<string, string>;
  clusterId: string;
  clusterName: string;
  /** The spec's name on its cluster. */
  specName: string;
  /** True when listed under a pinned `<slug>--<spec>` name. */
  pinned: boolean;
}

/** A spec or cluster that could not be listed, with a reason for the UI. */
export interface DirectoryProblem {
  clusterId: string;
  name: string;
  path: string;
  message: string;
}

/** The merged kernelspec listing over all enabled clusters. */
export interface DirectoryListing {
  /** Default spec name (the active cluster's default, else the first listed spec, else null). */
  default: string | null;
  specs: RoutedKernelSpec[];
  problems: DirectoryProblem[];
}

/** Where a kernelspec name leads. */
export interface ResolvedSpec {
  cluster: ClusterRuntime;
  /** The spec's name on that cluster. */
  specName: string;
}

/** A summary of one cluster for UIs and events. */
export interface ClusterSummary {
  id: string;
  name: string;
  kind: string;
  slug: string;
  active: boolean;
}

export interface DirectoryState {
  activeId: string | null;
  clusters: ClusterSummary[];
}

/** Events of a {@link ClusterDirectory}. */
export interface ClusterDirectoryEvents extends Record<string, unknown> {
  /** A cluster was added or removed (payload: the new state). */
  'clusters-changed': DirectoryState;
  /** The active cluster changed (payload: the new state). */
  'active-changed': DirectoryState;
}

export interface ClusterDirectoryOptions {
  /** Enabled clusters, in display order. */
  clusters?: ClusterRuntime[];
  /** Id of the active cluster; default the first cluster. */
  activeId?: string;
  /** Per-cluster time limit for listing kernelspecs (a slow remote must not stall the list). Default 10 s. */
  listTimeoutMs?: number;
}

/** Turn a cluster id into a slug usable inside a kernel name: [a-z0-9._-], never containing "--". */
export function slugify(id: string): string {
  const s = id
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return s || 'cluster';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    t.unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * The set of enabled cluster runtimes plus the active one, with change events and kernelspec routing.
 * Cluster lifetimes (dispose) belong to whoever added them; {@link ClusterDirectory.disposeAll} is a helper.
 */
export class ClusterDirectory extends TypedEmitter<ClusterDirectoryEvents> {
  private readonly runtimes = new Map<string, ClusterRuntime>();
  private readonly slugs = new Map<string, string>(); // cluster id -> slug
  private active: string | null = null;
  private readonly listTimeoutMs: number;

  constructor(opts: ClusterDirectoryOptions = {}) {
    super();
    this.listTimeoutMs = opts.listTimeoutMs ?? 10_000;
    for (const c of opts.clusters ?? []) this.addInternal(c);
    if (opts.activeId !== undefined) {
      if (!this.runtimes.has(opts.activeId)) throw new Error(`unknown active cluster: ${opts.activeId}`);
      this.active = opts.activeId;
    } else {
      this.active = this.runtimes.keys().next().value ?? null;
    }
  }

  /** Enabled clusters in insertion order. */
  get clusters(): ClusterRuntime[] {
    return [...this.runtimes.values()];
  }

  /** The cluster with this id, if enabled. */
  get(id: string): ClusterRuntime | undefined {
    return this.runtimes.get(id);
  }

  /** Id of the active cluster (null when no cluster is enabled). */
  get activeId(): string | null {
    return this.active;
  }

  /** The active cluster (null when no cluster is enabled). */
  get activeCluster(): ClusterRuntime | null {
    return this.active === null ? null : (this.runtimes.get(this.active) ?? null);
  }

  /** The slug used in pinned names for this cluster id. */
  slugOf(clusterId: string): string | undefined {
    return this.slugs.get(clusterId);
  }

  /** The pinned kernelspec name `<slug>--<spec>` for a spec of a cluster. */
  pinnedName(clusterId: string, specName: string): string {
    const slug = this.slugs.get(clusterId);
    if (!slug) throw new Error(`unknown cluster: ${clusterId}`);
    return `${slug}${PIN_SEPARATOR}${specName}`;
  }

  /**
   * The kernelspec name a kernel of `clusterId`'s spec `specName` goes by now: the spec's own name while its
   * cluster is active, its pinned name otherwise (after a switch, `python3` means the new active cluster's
   * spec). Null when the cluster is no longer enabled.
   */
  listedName(clusterId: string, specName: string): string | null {
    if (!this.slugs.has(clusterId)) return null;
    return clusterId === this.active ? specName : this.pinnedName(clusterId, specName);
  }

  /** Snapshot for UIs. */
  state(): DirectoryState {
    return {
      activeId: this.active,
      clusters: this.clusters.map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        slug: this.slugs.get(c.id) ?? slugify(c.id),
        active: c.id === this.active,
      })),
    };
  }

  /** Enable a cluster. `activate` makes it the active one (so does being the first cluster). */
  add(cluster: ClusterRuntime, opts: { activate?: boolean } = {}): void {
    this.addInternal(cluster);
    if (opts.activate || this.active === null) this.active = cluster.id;
    this.emit('clusters-changed', this.state());
    if (this.active === cluster.id) this.emit('active-changed', this.state());
  }

  /**
   * Disable a cluster (its running kernels are not touched; the registry still owns them).
   * When it was active, the first remaining cluster becomes active. Returns the removed runtime.
   */
  remove(id: string): ClusterRuntime | undefined {
    const c = this.runtimes.get(id);
    if (!c) return undefined;
    this.runtimes.delete(id);
    this.slugs.delete(id);
    const wasActive = this.active === id;
    if (wasActive) this.active = this.runtimes.keys().next().value ?? null;
    this.emit('clusters-changed', this.state());
    if (wasActive) this.emit('active-changed', this.state());
    return c;
  }

  /** Make a cluster the active one; the next kernel started under an unpinned name goes there. */
  setActive(id: string): void {
    if (!this.runtimes.has(id)) throw new Error(`unknown cluster: ${id}`);
    if (this.active === id) return;
    this.active = id;
    this.emit('active-changed', this.state());
  }

  /** Read a pinned name: the cluster whose slug prefixes it, and the rest as the spec name. */
  parsePinned(name: string): ResolvedSpec | null {
    const i = name.indexOf(PIN_SEPARATOR);
    if (i <= 0) return null;
    const slug = name.slice(0, i).toLowerCase();
    const specName = name.slice(i + PIN_SEPARATOR.length);
    if (!specName) return null;
    for (const [id, s] of this.slugs) {
      if (s === slug) {
        const cluster = this.runtimes.get(id);
        if (cluster) return { cluster, specName };
      }
    }
    return null;
  }

  /**
   * Where a kernelspec name leads: a pinned name to its cluster, any other name to the active cluster.
   * Resolves to null when that cluster has no such spec (names compare case-insensitively); rejects with a
   * 503 {@link GatewayError} when the cluster cannot list its specs.
   */
  async resolveSpec(name: string, q: SpecQuery = {}): Promise<ResolvedSpec | null> {
    const pinned = this.parsePinned(name);
    if (pinned) {
      const found = await this.findOn(pinned.cluster, pinned.specName, q);
      if (found) return { cluster: pinned.cluster, specName: found.name };
    }
    const active = this.activeCluster;
    if (!active) return null;
    const found = await this.findOn(active, name, q);
    return found ? { cluster: active, specName: found.name } : null;
  }

  /** One routed spec by the name clients use, or null. */
  async getSpec(name: string, q: SpecQuery = {}): Promise<RoutedKernelSpec | null> {
    const r = await this.resolveSpec(name, q);
    if (!r) return null;
    const found = await this.findOn(r.cluster, r.specName, q);
    if (!found) return null;
    const pinned = r.cluster.id !== this.active || this.parsePinned(name) !== null;
    return this.route(r.cluster, found, pinned);
  }

  /** A kernelspec resource file (logo, kernel.js) by the routed spec name. */
  async getResource(name: string, file: string): Promise<{ body: Buffer; contentType: string } | null> {
    const r = await this.resolveSpec(name);
    if (!r) return null;
    return r.cluster.getResource(r.specName, file);
  }

  /** Every enabled cluster's specs, routed per the rule above. A failing cluster becomes a problem entry. */
  async listKernelSpecs(q: SpecQuery = {}): Promise<DirectoryListing> {
    const clusters = this.clusters;
    const activeId = this.active;
    const results = await Promise.all(
      clusters.map(async (c) => {
        try {
          return {
            c,
            ok: await withTimeout(c.listKernelSpecs(q), this.listTimeoutMs, `cluster "${c.name}"`),
          };
        } catch (err) {
          return { c, err: errorMessage(err) };
        }
      }),
    );
    const specs: RoutedKernelSpec[] = [];
    const problems: DirectoryProblem[] = [];
    let def: string | null = null;
    // The active cluster first, so its own names are listed first and win.
    results.sort((a, b) => Number(b.c.id === activeId) - Number(a.c.id === activeId));
    for (const r of results) {
      if (!('ok' in r) || !r.ok) {
        problems.push({ clusterId: r.c.id, name: r.c.name, path: '', message: r.err ?? 'no answer' });
        continue;
      }
      const isActive = r.c.id === activeId;
      for (const p of r.ok.problems) problems.push({ clusterId: r.c.id, ...p });
      for (const s of r.ok.specs) specs.push(this.route(r.c, s, !isActive));
      if (isActive && r.ok.default && r.ok.specs.some((s) => s.name === r.ok.default)) def = r.ok.default;
    }
    if (def === null && specs.length > 0) def = specs[0].name;
    return { default: def, specs, problems };
  }

  /** Dispose every enabled cluster's background work (used on app exit). */
  async disposeAll(): Promise<void> {
    await Promise.allSettled(this.clusters.map((c) => c.dispose()));
  }

  private route(cluster: ClusterRuntime, s: ClusterKernelSpec, pinned: boolean): RoutedKernelSpec {
    const spec: KernelSpecFile = pinned
      ? { ...s.spec, display_name: `${s.spec.display_name} (on ${cluster.name})` }
      : s.spec;
    return {
      name: pinned ? this.pinnedName(cluster.id, s.name) : s.name,
      spec,
      resources: s.resources,
      clusterId: cluster.id,
      clusterName: cluster.name,
      specName: s.name,
      pinned,
    };
  }

  private async findOn(
    cluster: ClusterRuntime,
    specName: string,
    q: SpecQuery = {},
  ): Promise<ClusterKernelSpec | null> {
    let listing;
    try {
      listing = await withTimeout(
        cluster.listKernelSpecs(q),
        this.listTimeoutMs,
        `cluster "${cluster.name}"`,
      );
    } catch (err) {
      throw new GatewayError(
        503,
        'Service Unavailable',
        `Cluster "${cluster.name}" could not list its kernelspecs: ${errorMessage(err)}`,
      );
    }
    const exact = listing.specs.find((s) => s.name === specName);
    if (exact) return exact;
    const lower = specName.toLowerCase();
    return listing.specs.find((s) => s.name.toLowerCase() === lower) ?? null;
  }

  private addInternal(cluster: ClusterRuntime): void {
    if (this.runtimes.has(cluster.id)) throw new Error(`cluster already enabled: ${cluster.id}`);
    const taken = new Set(this.slugs.values());
    const base = slugify(cluster.id);
    let slug = base;
    for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
    this.runtimes.set(cluster.id, cluster);
    this.slugs.set(cluster.id, slug);
  }
}
