// App-wide replica: host connection state, app info, proxy info, JupyterLab status, settings, the log,
// the current screen, and short notices.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppInfo, LabStatus, LogEntry, ProxyInfo, Settings } from '../../../electron/host-api/models';
import type { ConnectionState } from '../host/types';

export type View = 'clusters' | 'kernels' | 'console' | 'lab' | 'settings' | 'add-cluster' | 'edit-cluster';

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface AppState {
  connection: ConnectionState;
  appInfo: AppInfo | null;
  proxy: ProxyInfo | null;
  lab: LabStatus | null;
  settings: Settings | null;
  log: LogEntry[];
  view: View;
  editingClusterId: string | null;
  notices: Notice[];
}

export interface AppActions {
  setConnection(c: ConnectionState): void;
  setAppInfo(i: AppInfo): void;
  setProxy(p: ProxyInfo): void;
  setLab(l: LabStatus): void;
  setSettings(s: Settings): void;
  setLog(entries: LogEntry[]): void;
  appendLog(e: LogEntry): void;
  go(view: View, editingClusterId?: string | null): void;
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
}

export type AppStore = StoreApi<AppState & AppActions>;

const MAX_LOG = 500;
const NOTICE_MS = 6000;

export function createAppStore(initialView: View = 'clusters'): AppStore {
  let nextNotice = 1;
  return createStore<AppState & AppActions>()((set, get) => ({
    connection: 'connecting',
    appInfo: null,
    proxy: null,
    lab: null,
    settings: null,
    log: [],
    view: initialView,
    editingClusterId: null,
    notices: [],
    setConnection: (connection) => set({ connection }),
    setAppInfo: (appInfo) => set({ appInfo }),
    setProxy: (proxy) => set({ proxy }),
    setLab: (lab) => set({ lab }),
    setSettings: (settings) => set({ settings }),
    setLog: (entries) => set({ log: entries.slice(-MAX_LOG) }),
    appendLog: (e) =>
      set((s) => (s.log.some((x) => x.seq === e.seq) ? {} : { log: [...s.log.slice(-MAX_LOG + 1), e] })),
    go: (view, editingClusterId = null) => set({ view, editingClusterId }),
    notify: (kind, text) => {
      const id = nextNotice++;
      set((s) => ({ notices: [...s.notices.slice(-3), { id, kind, text }] }));
      setTimeout(() => get().dismiss(id), NOTICE_MS);
    },
    dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  }));
}
