// Replica of the registry's kernels and launches, fed by pushed events (kernel-added/updated/removed,
// launch-progress). A list fetched at start is merged so an event that raced it is never lost.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { KernelSummary, LaunchProgressEvent } from '../../../electron/host-api/models';

export interface KernelsState {
  kernels: Record<string, KernelSummary>;
  /** Kernels in the order they appeared. */
  order: string[];
  launches: Record<string, LaunchProgressEvent>;
  /** Every phase a launch went through, with the time it was reached. */
  launchPhases: Record<string, { phase: string; elapsedMs: number }[]>;
  loaded: boolean;
  error: string | null;
  /** The latest launch of each environment (`clusterId\0specName`), shown where Start was pressed; kept
   * until dismissed there or replaced by the next launch of that environment. */
  latestByEnv: Record<string, LaunchProgressEvent>;
  /** Ids touched by events since the last full list was requested (so an older list does not undo them). */
  touched: Record<string, 'set' | 'removed'>;
}

export interface KernelsActions {
  beginLoad(): void;
  loadedList(list: KernelSummary[]): void;
  loadFailed(message: string): void;
  upsert(k: KernelSummary): void;
  remove(id: string): void;
  launch(e: LaunchProgressEvent): void;
  dismissLaunch(launchId: string): void;
  dismissEnvLaunch(clusterId: string, specName: string): void;
}

export function envKey(clusterId: string, specName: string): string {
  return `${clusterId}\0${specName}`;
}

export type KernelsStore = StoreApi<KernelsState & KernelsActions>;

/** How long a finished (successful) launch stays visible. */
export const DONE_LAUNCH_VISIBLE_MS = 4000;

export function createKernelsStore(): KernelsStore {
  const store = createStore<KernelsState & KernelsActions>()((set, get) => ({
    kernels: {},
    order: [],
    launches: {},
    launchPhases: {},
    latestByEnv: {},
    loaded: false,
    error: null,
    touched: {},
    beginLoad: () => set({ touched: {} }),
    loadedList: (list) =>
      set((s) => {
        const kernels: Record<string, KernelSummary> = {};
        const order: string[] = [];
        for (const k of list) {
          if (s.touched[k.id] === 'removed') continue;
          kernels[k.id] = s.touched[k.id] === 'set' && s.kernels[k.id] ? s.kernels[k.id] : k;
          order.push(k.id);
        }
        for (const [id, how] of Object.entries(s.touched)) {
          if (how === 'set' && !kernels[id] && s.kernels[id]) {
            kernels[id] = s.kernels[id];
            order.push(id);
          }
        }
        return { kernels, order, loaded: true, error: null };
      }),
    loadFailed: (message) => set({ error: message, loaded: true }),
    upsert: (k) =>
      set((s) => ({
        kernels: { ...s.kernels, [k.id]: k },
        order: s.order.includes(k.id) ? s.order : [...s.order, k.id],
        touched: { ...s.touched, [k.id]: 'set' },
      })),
    remove: (id) =>
      set((s) => {
        const kernels = { ...s.kernels };
        delete kernels[id];
        return {
          kernels,
          order: s.order.filter((x) => x !== id),
          touched: { ...s.touched, [id]: 'removed' },
        };
      }),
    launch: (e) => {
      set((s) => {
        const prev = s.launchPhases[e.launchId] ?? [];
        const phases =
          prev.at(-1)?.phase === e.phase ? prev : [...prev, { phase: e.phase, elapsedMs: e.elapsedMs }];
        return {
          launches: { ...s.launches, [e.launchId]: e },
          launchPhases: { ...s.launchPhases, [e.launchId]: phases },
          latestByEnv: { ...s.latestByEnv, [envKey(e.clusterId, e.specName)]: e },
        };
      });
      if (e.status === 'done') {
        setTimeout(() => {
          if (get().launches[e.launchId]?.status === 'done') get().dismissLaunch(e.launchId);
        }, DONE_LAUNCH_VISIBLE_MS);
      }
    },
    dismissLaunch: (launchId) =>
      set((s) => {
        const launches = { ...s.launches };
        const launchPhases = { ...s.launchPhases };
        delete launches[launchId];
        // The phases stay while the in-place status still shows this launch.
        const inPlace = Object.values(s.latestByEnv).some((l) => l.launchId === launchId);
        if (!inPlace) delete launchPhases[launchId];
        return { launches, launchPhases };
      }),
    dismissEnvLaunch: (clusterId, specName) =>
      set((s) => {
        const key = envKey(clusterId, specName);
        const l = s.latestByEnv[key];
        if (!l) return {};
        const latestByEnv = { ...s.latestByEnv };
        delete latestByEnv[key];
        const launchPhases = { ...s.launchPhases };
        if (!s.launches[l.launchId]) delete launchPhases[l.launchId];
        return { latestByEnv, launchPhases };
      }),
  }));
  return store;
}

export function kernelList(s: KernelsState): KernelSummary[] {
  return s.order.map((id) => s.kernels[id]).filter((k): k is KernelSummary => k !== undefined);
}

/** Kernels that are alive (the navigation's count; dead ones stay listed until removed). */
export function liveKernelCount(s: KernelsState): number {
  return s.order.filter((id) => s.kernels[id] && s.kernels[id].state !== 'dead').length;
}
