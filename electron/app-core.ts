// Composition root shared by the Electron main process and the headless `serve` entry:
// cluster directory + kernel registry + gateway proxy on one HTTP server.
//
// Extension points:
//   * `clusters` / `directory`: pass your own cluster runtimes, or a whole directory (e.g. store-backed);
//   * `extensions`: functions run after the proxy listens, e.g. to attach a host API WebSocket and static UI
//     with `core.proxy.addRoute()` / `core.proxy.addUpgrade()`; what they return is run on close();
//   * `core.onClose(fn)`: more cleanup, run before kernels are shut down.
//
// Kernels left running: `close({ leaveRunning: true })` keeps the kernels their clusters can keep and lists
// them in <dataDir>/kernels-left-running.json (owner-only); the next createAppCore() on that data dir
// re-attaches them under the same ids before the proxy listens. While the core runs the same file is kept
// as a journal of the kernels that would outlive it, so a crash is recovered the same way.
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
import { clusterKinds } from './clusters/kinds';
import type { SafeStorageLike } from './secrets/secret-store';
import { advertiseProxy } from './lab/running-app';
import { followClientCounts } from './clusters/gateway/follow-clients';
import { removeLeftRunning, writeLeftRunning } from './kernels/left-running';
import { restoreKernels, sweepKernelFiles, type LogLine, type RestoreReport } from './kernels/restore';

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
  /**
   * Launch local kernels so they can outlive the app, which makes `close({ leaveRunning: true })` keep them.
   * The desktop app sets it; `npm run serve` only with --leave-kernels-running: otherwise its kernels are tied
   * to it (JPY_PARENT_PID) and die with it even when it is killed.
   */
  kernelsOutliveApp?: boolean;
  /** Where the core's own messages go (re-attached kernels, a corrupt state file). Default stderr. */
  log?: (line: LogLine) => void;
}

export interface CloseOptions {
  /** Keep the kernels running (those their clusters can keep) for the next start to re-attach. */
  leaveRunning?: boolean;
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
  /** What startup re-attached from the kernels left running (for the app log). */
  readonly restored: RestoreReport;
  /** Register cleanup run by close() before kernels are shut down (last registered runs first). */
  onClose(fn: () => void | Promise<void>): void;
  /**
   * Shut down every kernel (or, with `leaveRunning`, keep those that can outlive the app and record them for
   * the next start), then stop the proxy and the clusters' background work. Idempotent: the first call's
   * options win.
   */
  close(opts?: CloseOptions): Promise<void>;
}

/** Rewrites the state file after kernel changes; one write at a time, coalescing bursts. */
class Journal {
  private writing: Promise<void> | null = null;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly dataDir: string,
    private readonly snapshot: () => ReturnType<KernelRegistry['keptRecords']>,
    private readonly log: (line: LogLine) => void,
  ) {}

  schedule(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.writing) this.writing = this.run();
  }

  /** No more writes; resolves once the current one is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.writing;
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      const kernels = this.snapshot();
      try {
        if (kernels.length) await writeLeftRunning(this.dataDir, 'running', kernels);
        else await removeLeftRunning(this.dataDir);
      } catch (err) {
        this.log({ level: 'warn', message: `cannot update the kernel state file: ${String(err)}` });
      }
    }
    this.writing = null;
  }
}

/** Build and start the core: directory, registry, proxy listening. */
export async function createAppCore(opts: AppCoreOptions): Promise<AppCore> {
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const directory =
    opts.directory ??
    new ClusterDirectory({
      clusters: opts.clusters ?? [
        new LocalCluster({
          id: 'local',
          name: 'This computer',
          kernelSpecDirs: opts.kernelSpecDirs,
          survivesApp: opts.kernelsOutliveApp === true,
        }),
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
          localKernelsSurviveApp: opts.kernelsOutliveApp === true,
        })
      : null;
  // Idle culling per cluster, read from the store at every check (its kind's `culling`, culling.ts).
  const store = clusterStore?.store;
  const cullPolicy = store
    ? (id: string) => {
        const cfg = store.get(id);
        return (cfg && clusterKinds.get(cfg.kind)?.culling?.(cfg)) || null;
      }
    : undefined;
  const registry = new KernelRegistry({ cullPolicy, ...opts.registryOptions, directory });
  // Relayed kernels close their upstream sockets when their last client has gone.
  followClientCounts(registry);
  const log = opts.log ?? ((l: LogLine) => process.stderr.write(`[${l.level}] kernels: ${l.message}\n`));
  // Before the proxy listens: a client holding an old kernel id must not get a 404 meanwhile.
  const restored = await restoreKernels({ dataDir, registry, clusterOf: (id) => directory.get(id) });
  for (const line of restored.log) log(line);
  // A file owned by another live process is left alone, and not overwritten by our journal either.
  const journal = restored.foreign ? null : new Journal(dataDir, () => registry.keptRecords(), log);
  if (journal) {
    for (const ev of ['kernel-added', 'kernel-removed', 'kernel-restarted', 'kernel-dead'] as const)
      registry.on(ev, () => journal.schedule());
    journal.schedule(); // rewrite (or remove) the file read above
  }
  const proxy = new GatewayProxy({ ...opts.proxyOptions, registry, directory });
  const tokenGenerated = !opts.token || !opts.token.trim();
  const token = tokenGenerated ? generateToken() : (opts.token as string).trim();
  const host = opts.host ?? '127.0.0.1';
  let port: number;
  try {
    ({ port } = await proxy.start({ host, port: opts.port ?? 0, token }));
  } catch (err) {
    // The caller may retry (another port): hand the re-attached kernels back to the state file untouched.
    await journal?.stop();
    const kept = await registry.releaseAll();
    if (journal && kept.length) await writeLeftRunning(dataDir, 'left-running', kept).catch(() => undefined);
    await clusterStore?.dispose();
    await directory.disposeAll();
    throw err;
  }
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
    restored,
    onClose(fn) {
      closeHooks.push(fn);
    },
    close(closeOpts: CloseOptions = {}) {
      if (!closing) {
        closing = (async () => {
          for (const fn of [...closeHooks].reverse()) {
            try {
              await fn();
            } catch (err) {
              console.error('close hook failed:', err);
            }
          }
          await journal?.stop();
          if (closeOpts.leaveRunning && !journal) {
            log({
              level: 'warn',
              message: 'Another process owns the kernel state file: shutting kernels down',
            });
          }
          if (closeOpts.leaveRunning && journal) {
            const kept = await registry.releaseAll();
            try {
              if (kept.length) await writeLeftRunning(dataDir, 'left-running', kept);
              else await removeLeftRunning(dataDir);
            } catch (err) {
              log({ level: 'error', message: `cannot record the kernels left running: ${String(err)}` });
            }
            if (kept.length) {
              const n = kept.length;
              log({
                level: 'info',
                message: `Left ${n} kernel${n === 1 ? '' : 's'} running; the next start re-attaches them`,
              });
            }
          } else {
            await registry.shutdownAll();
            if (journal) await removeLeftRunning(dataDir).catch(() => undefined);
          }
          await proxy.stop();
          await clusterStore?.dispose();
          await directory.disposeAll();
          const swept = await sweepKernelFiles(); // of kernels that died with files left
          if (swept) log(swept);
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
    // Startup failed: keep what can be kept (e.g. kernels just re-attached) for the next attempt.
    await core.close({ leaveRunning: true });
    throw err;
  }
  return core;
}
