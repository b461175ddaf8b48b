// The Electron IPC transport of the host API, written against a tiny structural slice of ipcMain so it runs
// (and is tested) in plain Node. main.ts passes the real ipcMain, a sender check, and a broadcast function.
import {
  HOST_METHOD_NAMES,
  IPC_EVENT_CHANNEL,
  ipcMethodChannel,
  type HostEventMessage,
  type HostIpcReply,
} from './contract';
import { dispatch } from './dispatch';
import type { HostService } from './service';

export interface IpcMainLike<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

export interface IpcTransportOptions<E> {
  ipcMain: IpcMainLike<E>;
  service: HostService;
  /** True when the event comes from a window and frame the app created (checked on every call). */
  isTrustedSender: (event: E) => boolean;
  /** Sends an event message to the app's renderer(s). */
  broadcast: (channel: string, msg: HostEventMessage) => void;
  onRejected?: (event: E, channel: string) => void;
}

export function registerIpcTransport<E>(opts: IpcTransportOptions<E>): () => void {
  const channels: string[] = [];
  for (const method of HOST_METHOD_NAMES) {
    const channel = ipcMethodChannel(method);
    channels.push(channel);
    opts.ipcMain.handle(channel, async (event, ...args): Promise<HostIpcReply> => {
      if (!opts.isTrustedSender(event)) {
        opts.onRejected?.(event, channel);
        return {
          ok: false,
          error: { code: 'unauthorized', message: 'This window may not use the host API.' },
        };
      }
      return dispatch(opts.service, method, args);
    });
  }
  const off = opts.service.onAny((event, payload) =>
    opts.broadcast(IPC_EVENT_CHANNEL, { t: 'event', event, payload }),
  );
  return () => {
    off();
    for (const c of channels) opts.ipcMain.removeHandler(c);
  };
}
