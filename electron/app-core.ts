// Composition root shared by the Electron main process and the headless `serve` entry:
// cluster directory + kernel registry + gateway proxy on one HTTP server.
//
// Extension points:
//   * `clusters` / `directory`: pass your own cluster runtimes, or a whole directory (e.g. store-backed);
//   * `extensions`: functions run after the proxy listens, e.g. to attach a host API WebSocket and static UI
//     with `core.proxy.addRoute()` / `core.proxy.addUpgrade()`; what they return is run on close();
//   * `core.onClose(fn)`: more cleanup, run before kernels are shut down.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterRuntime } from './clusters/types';
import { ClusterDirectory } from './clusters/directory';
import { LocalCluster } from './clusters/local-cluster';
import { KernelRegistry, type KernelRegistryOptions } from './kernels/registry';
import { GatewayProxy, generateToken, type GatewayProxyOptions } from './gateway/proxy';
import { mountMetrics } from './gateway/metrics';
// Cluster store (issue 5): clusters from <dataDir>/clusters.json, kept in sync with the file.
import { openClusterStore, type ClusterStoreBinding } from './clusters/runtime-factory';
import type { SafeStorageLike } from './secrets/secret-store';
import { advertiseProxy } from './lab/running-app';

/** Run after the proxy listens; may return a cleanup function run on close(). */
export type AppCoreExtension = (
  core: AppCore,
) => void | (() => void | Promise<void>) | Promise<void | (() => void | Promise<void>)>;

export interface AppCoreOptions {
  /** Per-user data directory (created if missing). */
  dataDir: string;
  /** Interface for the proxy. Default 127.0.0.1. */
  host?: string;
  /** Proxy port; 0/absent picks a free one. */
  port?: number;
  /** Proxy token; empty/absent generates one (see `tokenGenerated`). */
  token?: string;
  /** Cluster runtimes to enable. Default: one LocalCluster (id 'local', "This computer"). */
  clusters?: ClusterRuntime[];
  /** Which of `clusters` is active. Default the first. */
  activeClusterId?: string;
  /** A ready-made directory (takes precedence over `clusters`). */
  directory?: ClusterDirectory;
  /** Kernelspec directories for the default local cluster (tests use temp dirs). */
  kernelSpecDirs?: string[];
  /** Proxy settings (allowed origins/hosts, max payload, ping interval, replay limits). */
  proxyOptions?: Omit<GatewayProxyOptions, 'registry' | 'directory'>;
  /** Registry settings (launch timeout, dead-kernel retention). */
  registryOptions?: Omit<KernelRegistryOptions, 'directory'>;
  /** Run after the proxy listens (host API, static UI, ...). */
  extensions?: AppCoreExtension[];
  /**
   * Issue 5: take the clusters from the cluster store in dataDir (clusters.json + secrets), and follow its
   * changes (CLI, UI) without a restart. Ignored when `clusters` or `directory` is given.
   */
  clusterStore?: boolean;
  /** Electron's safeStorage for secrets (main.ts); absent: an owner-only file in dataDir. */
  safeStorage?: SafeStorageLike | null;
}

/** The running core. */
export interface AppCore {
  readonly proxy: GatewayProxy;
  readonly registry: KernelRegistry;
  readonly directory: ClusterDirectory;
  /** `http://127.0.0.1:P/` */
  readonly proxyUrl: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** True when the token was generated (print it once). */
  readonly tokenGenerated: boolean;
  readonly dataDir: string;
  /** Issue 5: the cluster store binding (store, secrets, diagnose) when `clusterStore` was set. */
  readonly clusterStore: ClusterStoreBinding | null;
  /** Register cleanup run by close() before kernels are shut down (last registered runs first). */
  onClose(fn: () => void | Promise<void>): void;
  /** Shut down every kernel, then stop the proxy and the clusters' background work. Idempotent. */
  close(): Promise<void>;
}

/** Build and start the core: directory, registry, proxy listening. */
export async function createAppCore(opts: AppCoreOptions): Promise<AppCore> {
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const directory =
    opts.directory ??
    new ClusterDirectory({
      clusters: opts.clusters ?? [
        new LocalCluster({ id: 'local', name: 'This computer', kernelSpecDirs: opts.kernelSpecDirs }),
      ],
      activeId: opts.activeClusterId,
    });
  // Issue 5: replace the default clusters with the store's and keep them in step with clusters.json.
  const clusterStore =
    opts.clusterStore && !opts.directory && !opts.clusters
      ? openClusterStore({
          dataDir,
          directory,
          safeStorage: opts.safeStorage,
          localKernelSpecDirs: opts.kernelSpecDirs,
        })
      : null;
  const registry = new KernelRegistry({ ...opts.registryOptions, directory });
  const proxy = new GatewayProxy({ ...opts.proxyOptions, registry, directory });
  const tokenGenerated = !opts.token || !opts.token.trim();
  const token = tokenGenerated ? generateToken() : (opts.token as string).trim();
  const host = opts.host ?? '127.0.0.1';
  const { port } = await proxy.start({ host, port: opts.port ?? 0, token });
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const closeHooks: Array<() => void | Promise<void>> = [];
  // Issue 5: let `npm run lab` find this proxy (<dataDir>/proxy.json, owner-only) while it listens.
  if (clusterStore) closeHooks.push(advertiseProxy(dataDir, { url: `http://${shownHost}:${port}/`, token }));
  closeHooks.push(mountMetrics(proxy, registry));
  let closing: Promise<void> | null = null;

  const core: AppCore = {
    proxy,
    registry,
    directory,
    proxyUrl: `http://${shownHost}:${port}/`,
    host,
    port,
    token,
    tokenGenerated,
    dataDir,
    clusterStore,
    onClose(fn) {
      closeHooks.push(fn);
    },
    close() {
      if (!closing) {
        closing = (async () => {
          for (const fn of [...closeHooks].reverse()) {
            try {
              await fn();
            } catch (err) {
              console.error('close hook failed:', err);
            }
          }
          await registry.shutdownAll();
          await proxy.stop();
          await clusterStore?.dispose();
          await directory.disposeAll();
        })();
      }
      return closing;
    },
  };

  try {
    for (const ext of opts.extensions ?? []) {
      const cleanup = await ext(core);
      if (typeof cleanup === 'function') core.onClose(cleanup);
    }
  } catch (err) {
    await core.close();
    throw err;
  }
  return core;
}
