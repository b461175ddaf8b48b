// The renderer's model: the stores plus the actions that call the host API. Wires every pushed event into
// the stores once; components only read stores and call these actions (no polling anywhere).
import type { HostApi } from '../../../electron/host-api/contract';
import type {
  AcceptHostKeyRequest,
  ClusterInput,
  ConnectionDiagnosis,
  Settings,
} from '../../../electron/host-api/models';
import { errorText, toHostError } from '../host/errors';
import type { ConnectionState, HostConnection } from '../host/types';
import { createAppStore, type AppStore, type View } from './app';
import { createClockStore, type ClockStore } from './clock';
import { createClustersStore, type ClustersStore } from './clusters';
import { createConsoleStore, type ConsoleStore } from './console';
import { createKernelsStore, type KernelsStore } from './kernels';

export interface Model {
  host: HostApi;
  app: AppStore;
  clusters: ClustersStore;
  kernels: KernelsStore;
  console: ConsoleStore;
  clock: ClockStore;
  actions: ReturnType<typeof createActions>;
  dispose(): void;
}

function createActions(
  host: HostApi,
  app: AppStore,
  clusters: ClustersStore,
  kernels: KernelsStore,
  con: ConsoleStore,
) {
  const notifyError = (prefix: string) => (err: unknown) =>
    app.getState().notify('error', `${prefix}: ${errorText(err)}`);

  const loadEnvironments = async (clusterId: string): Promise<void> => {
    clusters.getState().envLoading(clusterId);
    try {
      clusters.getState().envLoaded(await host.listEnvironments(clusterId));
    } catch (err) {
      clusters.getState().envFailed(clusterId, errorText(err));
    }
  };

  const syncAll = async (): Promise<void> => {
    kernels.getState().beginLoad();
    const results = await Promise.allSettled([
      host.getAppInfo().then((i) => app.getState().setAppInfo(i)),
      host.listClusters().then((c) => clusters.getState().setClusters(c)),
      host.listKernels().then((k) => kernels.getState().loadedList(k)),
      host.getProxyInfo().then((p) => app.getState().setProxy(p)),
      host.getLabStatus().then((l) => app.getState().setLab(l)),
      host.getSettings().then((s) => app.getState().setSettings(s)),
      host.getLog().then((l) => app.getState().setLog(l)),
    ]);
    const [, c, k] = results;
    if (c.status === 'rejected') clusters.getState().loadFailed(errorText(c.reason));
    if (k.status === 'rejected') kernels.getState().loadFailed(errorText(k.reason));
    // Environments of every cluster that has kernels (for display names) and of the active one.
    const ids = new Set<string>(
      kernels.getState().order.map((id) => kernels.getState().kernels[id]?.clusterId ?? ''),
    );
    for (const cl of clusters.getState().clusters) if (cl.active) ids.add(cl.id);
    ids.delete('');
    await Promise.all([...ids].map((id) => loadEnvironments(id)));
  };

  return {
    syncAll,
    loadEnvironments,
    go: (view: View, editingClusterId?: string | null) => app.getState().go(view, editingClusterId ?? null),
    selectCluster: (id: string) => {
      clusters.getState().select(id);
      const e = clusters.getState().environments[id];
      if (!e || e.status === 'error') void loadEnvironments(id);
    },
    makeActive: async (id: string) => {
      try {
        await host.setActiveCluster(id);
        const c = clusters.getState().clusters.find((x) => x.id === id);
        app.getState().notify('info', `New kernels now start on ${c?.name ?? id}.`);
      } catch (err) {
        notifyError('Could not switch cluster')(err);
      }
    },
    addCluster: async (input: ClusterInput) => {
      const c = await host.addCluster(input);
      clusters.getState().select(c.id);
      app.getState().notify('info', `Cluster "${c.name}" saved.`);
      void loadEnvironments(c.id);
      return c;
    },
    editCluster: async (id: string, input: ClusterInput) => {
      const c = await host.editCluster(id, input);
      app.getState().notify('info', `Cluster "${c.name}" saved.`);
      void loadEnvironments(c.id);
      return c;
    },
    removeCluster: async (id: string) => {
      try {
        await host.removeCluster(id);
        clusters.getState().select(null);
      } catch (err) {
        notifyError('Could not remove the cluster')(err);
      }
    },
    testCluster: (
      target: { id: string } | { input: ClusterInput; baseId?: string },
    ): Promise<ConnectionDiagnosis> => host.testCluster(target),
    acceptHostKey: (req: AcceptHostKeyRequest): Promise<void> => host.acceptHostKey(req),
    startKernel: async (clusterId: string, specName: string) => {
      try {
        await host.startKernel({ clusterId, specName });
      } catch (err) {
        notifyError('Could not start the kernel')(err);
      }
    },
    getLaunchForm: (clusterId: string, specName: string) => host.getLaunchForm({ clusterId, specName }),
    /** A start from the launch form: rejects with the host's field errors (nothing was sent then). */
    startWithParameters: (clusterId: string, specName: string, env: Record<string, string>) =>
      host.startKernel({ clusterId, specName, env }),
    /** "Save as size…": rejects with the host's field errors (nothing was saved then). */
    saveSize: async (
      clusterId: string,
      environment: string,
      name: string,
      values: Record<string, string>,
    ) => {
      await host.saveSize({ clusterId, environment, name, values });
      await loadEnvironments(clusterId);
    },
    removeSize: async (clusterId: string, environment: string, name: string) => {
      try {
        await host.removeSize({ clusterId, environment, name });
        await loadEnvironments(clusterId);
      } catch (err) {
        notifyError('Could not remove the size')(err);
      }
    },
    interrupt: (id: string) => host.interruptKernel(id).catch(notifyError('Could not interrupt')),
    restart: (id: string) => host.restartKernel(id).catch(notifyError('Could not restart')),
    shutdown: (id: string) => host.shutdownKernel(id).catch(notifyError('Could not shut down')),
    adoptKernel: async (clusterId: string, kernelId: string): Promise<boolean> => {
      try {
        kernels.getState().upsert(await host.adoptKernel({ clusterId, kernelId }));
        return true;
      } catch (err) {
        notifyError('Could not adopt the kernel')(err);
        return false;
      }
    },
    openConsole: (kernelId: string) => {
      con.getState().selectKernel(kernelId);
      app.getState().go('console');
    },
    run: async (kernelId: string, code: string) => {
      const localId = con.getState().submitted(kernelId, code);
      try {
        const run = await host.execute({ kernelId, code });
        con.getState().started(localId, run.runId);
      } catch (err) {
        con.getState().failed(localId, toHostError(err).message);
      }
    },
    answerInput: (runId: string, value: string) =>
      host.answerInput({ runId, value }).catch(notifyError('Could not send the answer')),
    openLab: async () => {
      try {
        const s = await host.openLab({});
        app.getState().setLab(s);
        return s;
      } catch (err) {
        notifyError('Could not open JupyterLab')(err);
        return null;
      }
    },
    stopLab: async () => {
      try {
        app.getState().setLab(await host.stopLab());
      } catch (err) {
        notifyError('Could not stop JupyterLab')(err);
      }
    },
    updateSettings: async (patch: Partial<Settings>): Promise<boolean> => {
      try {
        app.getState().setSettings(await host.updateSettings(patch));
        return true;
      } catch (err) {
        notifyError('Could not save settings')(err);
        return false;
      }
    },
  };
}

export function createModel(
  conn: HostConnection,
  opts: { initialView?: View; clockMs?: number } = {},
): Model {
  const host = conn.api;
  const app = createAppStore(opts.initialView);
  const clusters = createClustersStore();
  const kernels = createKernelsStore();
  const con = createConsoleStore();
  const clock = createClockStore(opts.clockMs ?? 1000);
  const actions = createActions(host, app, clusters, kernels, con);
  const offs: (() => void)[] = [
    host.on('clusters-changed', (list) => {
      const before = new Set(clusters.getState().clusters.map((c) => c.id));
      clusters.getState().setClusters(list);
      for (const c of list)
        if (!before.has(c.id) || c.active) {
          const e = clusters.getState().environments[c.id];
          if (!e || (c.active && e.status === 'error')) void actions.loadEnvironments(c.id);
        }
    }),
    host.on('environments-changed', ({ clusterId }) => {
      if (clusters.getState().environments[clusterId]) void actions.loadEnvironments(clusterId);
    }),
    host.on('kernel-added', (k) => {
      kernels.getState().upsert(k);
      if (!clusters.getState().environments[k.clusterId]) void actions.loadEnvironments(k.clusterId);
      if (!con.getState().kernelId) con.getState().selectKernel(k.id);
    }),
    host.on('kernel-updated', (k) => {
      const prev = kernels.getState().kernels[k.id];
      kernels.getState().upsert(k);
      // A restart is a break in the console's history: what was defined before is gone.
      if (prev?.state === 'restarting' && k.state !== 'restarting' && k.state !== 'dead')
        con.getState().marker(k.id, 'Kernel restarted: variables and imports from before are gone.');
    }),
    host.on('kernel-removed', ({ id }) => {
      kernels.getState().remove(id);
      if (con.getState().kernelId === id) con.getState().selectKernel(null);
    }),
    host.on('launch-progress', (e) => {
      kernels.getState().launch(e);
      // The console follows the kernel just started from the app.
      if (e.status === 'done' && e.kernelId) con.getState().selectKernel(e.kernelId);
    }),
    host.on('console-output', (e) => con.getState().output(e)),
    host.on('console-done', (e) => con.getState().done(e)),
    host.on('lab-status', (s) => app.getState().setLab(s)),
    host.on('settings-changed', (s) => app.getState().setSettings(s)),
    host.on('log', (e) => app.getState().appendLog(e)),
  ];
  // Take a snapshot whenever the connection (re)opens: events may have been missed while it was down.
  let last: ConnectionState = conn.state;
  app.getState().setConnection(last);
  offs.push(
    conn.onState((s) => {
      app.getState().setConnection(s);
      if (s === 'open' && last !== 'open') void actions.syncAll();
      last = s;
    }),
  );
  if (conn.state === 'open') void actions.syncAll();
  return {
    host,
    app,
    clusters,
    kernels,
    console: con,
    clock: clock.store,
    actions,
    dispose: () => {
      for (const off of offs) off();
      clock.stop();
      conn.close();
    },
  };
}
