// Cluster config -> ClusterRuntime, and the binding that keeps a ClusterDirectory in step with the store:
// clusters added, changed, removed or switched in clusters.json (by the UI, the CLI or an editor) take effect
// at once. Switching the active cluster restarts nothing; a changed or removed cluster's runtime is
// retired, not killed: kernels already running through it keep working until they end.
import { createHash } from 'node:crypto';
import type { ClusterRuntime, ClusterKernelSpecs } from './types';
import type { KernelBackend } from '../../provisioners/types';
import type { StoredCluster } from './config-base';
import { clusterKinds } from './kinds';
import type { RuntimeFactoryOptions } from './kinds/types';
import type { ClusterDirectory } from './directory';
import { ClusterStore, type StoreFileError } from './store';
import {
  createSecretStore,
  type SafeStorageLike,
  type SecretLookup,
  type SecretStore,
} from '../secrets/secret-store';
import type { Diagnosis } from './diagnose';
import { installIdOf } from './install-id';
import { withSavedSizes } from './sized-runtime';
import { sizesOf } from './kinds/sizes';

export type { RuntimeFactoryOptions } from './kinds/types';

/** A cluster whose settings cannot be used (unreadable CA file ...): listed as a problem, starts fail clearly. */
export class UnusableClusterRuntime implements ClusterRuntime {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly kind: string,
    readonly reason: string,
  ) {}
  async listKernelSpecs(): Promise<ClusterKernelSpecs> {
    throw new Error(`cluster "${this.name}" cannot be used: ${this.reason}`);
  }
  async getResource(): Promise<null> {
    return null;
  }
  async startKernel(): Promise<KernelBackend> {
    throw new Error(`cluster "${this.name}" cannot be used: ${this.reason}`);
  }
  async dispose(): Promise<void> {}
}

/** Build the runtime for one cluster config. Never throws: unusable settings give an UnusableClusterRuntime. */
export function createClusterRuntime(cfg: StoredCluster, opts: RuntimeFactoryOptions): ClusterRuntime {
  try {
    return withSavedSizes(clusterKinds.of(cfg).createRuntime(cfg, opts), sizesOf(cfg));
  } catch (e) {
    return new UnusableClusterRuntime(cfg.id, cfg.name, cfg.kind, e instanceof Error ? e.message : String(e));
  }
}

/** A retired runtime that still carries kernels (a relay) is kept until they end. */
function stillRelaying(rt: ClusterRuntime): boolean {
  const r = rt as ClusterRuntime & { relayedKernels?: () => unknown[] };
  return typeof r.relayedKernels === 'function' && r.relayedKernels().length > 0;
}

/** What makes a runtime stale: its settings plus the values of the secrets it uses. */
function fingerprint(cfg: StoredCluster, secrets: SecretLookup): string {
  const h = createHash('sha256').update(JSON.stringify(cfg));
  const kind = clusterKinds.get(cfg.kind);
  for (const key of kind ? kind.secretKeys(cfg) : []) {
    let v: string | undefined;
    try {
      v = secrets.get(key);
    } catch {
      v = undefined;
    }
    h.update(`\0${key}=${v ?? ''}`);
  }
  return h.digest('hex');
}

export interface ClusterStoreBinding {
  readonly store: ClusterStore;
  readonly secrets: SecretStore;
  readonly directory: ClusterDirectory;
  /** Set while clusters.json is broken (the last good copy is in use). */
  readonly problem: StoreFileError | null;
  /** Re-read the store and apply it now (the file watch does this on its own). */
  sync(): void;
  /** Test connection for a gateway cluster by name or id. */
  diagnose(ref: string): Promise<Diagnosis>;
  /** Stop watching and dispose retired runtimes (live ones are disposed by the directory's owner). */
  dispose(): Promise<void>;
}

export interface BindOptions extends Omit<RuntimeFactoryOptions, 'secrets'> {
  store: ClusterStore;
  secrets: SecretStore;
  directory: ClusterDirectory;
  /** Watch clusters.json for changes by other processes (default true). */
  watch?: boolean;
  /** Told about every applied change (for logs/UI). */
  onSync?: (info: {
    added: string[];
    removed: string[];
    replaced: string[];
    activeId: string | null;
  }) => void;
}

/**
 * Make `directory` mirror the store (enabled clusters, active cluster) and keep it so. Runtimes the directory
 * holds that the store does not know (e.g. app-core's default local cluster) are replaced by the store's.
 */
export function bindStoreToDirectory(opts: BindOptions): ClusterStoreBinding {
  const { store, secrets, directory } = opts;
  const prints = new Map<string, string>();
  const retired = new Set<ClusterRuntime>();
  let disposed = false;

  const retire = (rt: ClusterRuntime): void => {
    if (stillRelaying(rt)) retired.add(rt);
    else void rt.dispose().catch(() => undefined);
  };
  const sweep = (): void => {
    for (const rt of [...retired]) {
      if (stillRelaying(rt)) continue;
      retired.delete(rt);
      void rt.dispose().catch(() => undefined);
    }
  };
  const sweeper = setInterval(sweep, 10_000);
  sweeper.unref();

  const sync = (): void => {
    if (disposed) return;
    const data = store.snapshot();
    const wanted = data.clusters.filter((c) => c.enabled !== false);
    const wantedIds = new Set(wanted.map((c) => c.id));
    const added: string[] = [];
    const removed: string[] = [];
    const replaced: string[] = [];
    for (const rt of directory.clusters) {
      if (!wantedIds.has(rt.id) || !prints.has(rt.id)) {
        if (wantedIds.has(rt.id) && !prints.has(rt.id)) replaced.push(rt.id);
        else removed.push(rt.id);
        directory.remove(rt.id);
        prints.delete(rt.id);
        retire(rt);
      }
    }
    for (const cfg of wanted) {
      const fp = fingerprint(cfg, secrets);
      const existing = directory.get(cfg.id);
      if (existing && prints.get(cfg.id) === fp) continue;
      if (existing) {
        directory.remove(cfg.id);
        retire(existing);
        replaced.push(cfg.id);
      } else if (!replaced.includes(cfg.id)) added.push(cfg.id);
      directory.add(createClusterRuntime(cfg, { ...opts, secrets }));
      prints.set(cfg.id, fp);
    }
    const active = wantedIds.has(data.activeClusterId) ? data.activeClusterId : (wanted[0]?.id ?? null);
    if (active && directory.activeId !== active) directory.setActive(active);
    sweep();
    opts.onSync?.({ added, removed, replaced, activeId: directory.activeId });
  };

  sync();
  const off = store.onChange(() => sync());
  if (opts.watch !== false) store.watch();

  return {
    store,
    secrets,
    directory,
    get problem() {
      return store.problem;
    },
    sync: () => {
      store.reload();
      sync();
    },
    diagnose: async (ref: string) => {
      const cfg = store.require(ref);
      return clusterKinds.of(cfg).diagnose(cfg, secrets);
    },
    dispose: async () => {
      disposed = true;
      off();
      clearInterval(sweeper);
      store.close();
      await Promise.allSettled([...retired].map((rt) => rt.dispose()));
      retired.clear();
    },
  };
}

export interface OpenClusterStoreOptions extends Omit<BindOptions, 'store' | 'secrets'> {
  dataDir: string;
  /** Electron's safeStorage in the app; absent in plain Node (then secrets go to an owner-only file). */
  safeStorage?: SafeStorageLike | null;
}

/** Open the store and the secret store in dataDir and bind them to the directory. */
export function openClusterStore(opts: OpenClusterStoreOptions): ClusterStoreBinding {
  const store = ClusterStore.open(opts.dataDir);
  const secrets = createSecretStore({ dataDir: opts.dataDir, safeStorage: opts.safeStorage });
  const installId = opts.installId ?? installIdOf(opts.dataDir);
  return bindStoreToDirectory({ ...opts, installId, store, secrets });
}
