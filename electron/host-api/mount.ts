// Mounting the host API on app-core: an AppCoreExtension that builds the host service over app-core (with
// the cluster store, secrets and lab launcher when available), serves it on the proxy's HTTP server as a
// token-protected WebSocket at /host-api, and (serve mode) serves the built UI at `/`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterStore } from '../clusters/store';
import type { AppCore, AppCoreExtension } from '../app-core';
import { createSecretStore, type SafeStorageLike, type SecretStore } from '../secrets/secret-store';
import { createAppCoreBackend } from './app-core-backend';
import type { BackendLab } from './backend';
import { HOST_WS_PATH } from './contract';
import { AppLog } from './log';
import type { AppInfo, LogEntry } from './models';
import { HostService } from './service';
import { createLabBackend } from './lab-backend';
import { REPO_ROOT, createStaticHandler, ensureRendererBuilt } from './static';
import { createHostWsTransport } from './ws-transport';

export interface HostApiMountOptions {
  shell: AppInfo['shell'];
  /** Serve the built UI at `/` (serve mode). Builds it first when missing or stale. */
  serveUi: boolean;
  appVersion?: string;
  /** Electron's safeStorage for secrets (desktop); absent in serve mode (owner-only file). */
  safeStorage?: SafeStorageLike | null;
  /** Use these instead of app-core's cluster store binding (or opening the store/secrets here). */
  store?: ClusterStore | null;
  secrets?: SecretStore | null;
  /** JupyterLab launcher; default: the lab launcher of electron/lab against this proxy. null: none. */
  lab?: BackendLab | ((core: AppCore) => BackendLab | null) | null;
  /** Where log lines also go (default: warnings and errors to stderr). */
  logSink?: (e: LogEntry) => void;
  /** Called with JupyterLab's URL once a lab the user asked for runs (Electron opens a window). */
  onLabUrl?: (url: string) => void;
  /** Called once the service runs (Electron main wires IPC to it). */
  onReady?: (service: HostService, core: AppCore) => void;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function defaultSink(e: LogEntry): void {
  if (e.level === 'warn' || e.level === 'error')
    process.stderr.write(`[${e.level}] ${e.source}: ${e.message}\n`);
}

export function hostApiExtension(opts: HostApiMountOptions): AppCoreExtension {
  return async (core) => {
    const log = new AppLog(1000, opts.logSink ?? defaultSink);
    // Kernels re-attached (or dropped) at startup: app-core printed these already; the UI shows them too.
    for (const l of core.restored.log) log.write(l.level, 'kernels', l.message, false);
    // Serve mode builds the UI when it is missing or stale, in the background: the proxy answers at once
    // and the page says "building" until the UI is there.
    let building = false;
    if (opts.serveUi) {
      building = true;
      void ensureRendererBuilt((line) => log.info('build', line))
        .catch((err: unknown) => log.error('build', err instanceof Error ? err.message : String(err)))
        .finally(() => {
          building = false;
        });
    }
    // The cluster store: app-core's binding (issue 5) when it has one (it keeps the directory in step with
    // clusters.json); otherwise open the store here and let the adapter do the syncing.
    const binding = core.clusterStore;
    let store = opts.store ?? binding?.store ?? null;
    let ownStore = false;
    if (opts.store === undefined && !binding) {
      try {
        store = ClusterStore.open(core.dataDir);
        store.watch();
        ownStore = true;
      } catch (err) {
        log.error(
          'clusters',
          `the cluster list cannot be opened: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    if (binding?.problem) log.warn('clusters', binding.problem.message);
    const secrets =
      opts.secrets !== undefined
        ? opts.secrets
        : (binding?.secrets ??
          createSecretStore({ dataDir: core.dataDir, safeStorage: opts.safeStorage ?? null }));
    const lab =
      typeof opts.lab === 'function'
        ? opts.lab(core)
        : opts.lab === undefined
          ? createLabBackend({ proxyUrl: core.proxyUrl, token: core.token, dataDir: core.dataDir })
          : opts.lab;
    const backend = createAppCoreBackend({
      core,
      store,
      secrets,
      lab,
      syncDirectory: !binding,
      log: (level, message) => log.write(level, 'clusters', message),
    });
    const service = new HostService({
      backend,
      shell: opts.shell,
      appVersion: opts.appVersion ?? packageVersion(),
      log,
      onLabUrl: opts.onLabUrl,
    });
    await service.init();

    const port = core.port;
    const transport = createHostWsTransport({
      service,
      token: core.token,
      allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`],
    });
    const offs: (() => void)[] = [];
    offs.push(
      core.proxy.addUpgrade(HOST_WS_PATH, (_req, _socket, _head, ctx) => {
        ctx.accept().then(
          (ws) => transport.attach(ws),
          (err: unknown) => log.warn('host-api', `WebSocket upgrade failed: ${String(err)}`),
        );
      }),
    );
    if (opts.serveUi) {
      const handler = createStaticHandler({
        allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${core.host}:${port}`],
        building: () => building,
      });
      offs.push(core.proxy.addRoute('/', (ctx) => handler(ctx.req, ctx.res), { auth: false }));
    }
    opts.onReady?.(service, core);
    return async () => {
      for (const off of offs) off();
      await transport.close();
      service.close();
      backend.dispose();
      if (lab && 'dispose' in lab && typeof lab.dispose === 'function')
        await (lab.dispose as () => Promise<void>)();
      if (ownStore) store?.close();
    };
  };
}
