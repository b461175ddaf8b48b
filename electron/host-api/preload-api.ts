// The object the preload exposes as window.gatewayDesktop, built from the contract's method list over a
// structural slice of ipcRenderer (so the exact key set is unit-tested in Node). No Node or Electron imports:
// the sandboxed preload bundle includes this file.
import {
  ENCODED_ERROR_PREFIX,
  HOST_EVENT_NAMES,
  HOST_METHOD_NAMES,
  IPC_EVENT_CHANNEL,
  ipcMethodChannel,
  type HostApi,
  type HostEventMessage,
  type HostEventName,
  type HostIpcReply,
} from './contract';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, msg: unknown) => void): unknown;
}

export function createPreloadApi(ipc: IpcRendererLike): HostApi {
  const listeners = new Map<HostEventName, Set<(p: unknown) => void>>();
  ipc.on(IPC_EVENT_CHANNEL, (_event, raw) => {
    const m = raw as HostEventMessage | null;
    if (!m || m.t !== 'event' || !(HOST_EVENT_NAMES as readonly string[]).includes(m.event)) return;
    for (const l of [...(listeners.get(m.event) ?? [])]) {
      try {
        l(m.payload);
      } catch {
        // a renderer listener failing must not stop the others
      }
    }
  });
  const api: Record<string, unknown> = {};
  for (const method of HOST_METHOD_NAMES) {
    api[method] = async (...args: unknown[]): Promise<unknown> => {
      const reply = (await ipc.invoke(ipcMethodChannel(method), ...args)) as HostIpcReply;
      if (reply && reply.ok) return reply.value ?? undefined;
      const error =
        reply && !reply.ok ? reply.error : { code: 'internal', message: 'No answer from the app.' };
      throw new Error(ENCODED_ERROR_PREFIX + JSON.stringify(error));
    };
  }
  api.on = (event: HostEventName, listener: (p: unknown) => void): (() => void) => {
    if (!(HOST_EVENT_NAMES as readonly string[]).includes(event) || typeof listener !== 'function')
      throw new Error(`unknown event: ${String(event)}`);
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  };
  return api as unknown as HostApi;
}
