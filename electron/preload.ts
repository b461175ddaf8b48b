// The preload: exposes exactly the host API contract as window.gatewayDesktop (methods + `on`), over IPC.
// Bundled into one CommonJS file (dist/electron/preload.cjs) so it loads in a sandboxed renderer, where a
// preload may only require 'electron'. No generic ipcRenderer passthrough is exposed.
import { contextBridge, ipcRenderer } from 'electron';
import { PRELOAD_GLOBAL } from './host-api/contract';
import { createPreloadApi } from './host-api/preload-api';

contextBridge.exposeInMainWorld(
  PRELOAD_GLOBAL,
  createPreloadApi({
    invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
    on: (channel, listener) => ipcRenderer.on(channel, listener),
  }),
);
