// The WebSocket transport of the host API as seen from the browser (serve mode). Calls are queued while
// the socket (re)connects; events are fanned out to `on` listeners; reconnects back off up to 5 s.
import {
  HOST_METHOD_NAMES,
  HOST_WS_PATH,
  HOST_WS_PROTOCOL,
  HostError,
  type HostApi,
  type HostEventMessage,
  type HostEventName,
  type HostResultMessage,
} from '../../../electron/host-api/contract';
import type { ConnectionState, HostConnection } from './types';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type SocketLike = Pick<WebSocket, 'send' | 'close' | 'readyState'> & {
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
};

export interface WsClientOptions {
  url: string;
  /** No token in hand (relying on the proxy's cookie): after this many failed first attempts, give up as 'no-token'. */
  giveUpAfter?: number;
  /**
   * The proxy refuses a bad token with HTTP 401 before the upgrade, which a browser only sees as a closed
   * socket (1006). When a socket closes before it ever opened, this asks over HTTP whether the token is
   * refused (resolves true), so the UI shows "not accepted" instead of retrying forever.
   */
  tokenRefused?: () => Promise<boolean>;
  /** For tests: a WebSocket constructor. */
  createSocket?: (url: string, protocol: string) => SocketLike;
}

export function wsUrlFor(location: { protocol: string; host: string }, token: string | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}${HOST_WS_PATH}${q}`;
}

export function createWsHost(opts: WsClientOptions): HostConnection {
  const make = opts.createSocket ?? ((url: string, p: string) => new WebSocket(url, p) as SocketLike);
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  const listeners = new Map<HostEventName, Set<(p: unknown) => void>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let nextId = 1;
  let socket: SocketLike | null = null;
  let state: ConnectionState = 'connecting';
  let retry = 0;
  let everOpened = false;
  let closedForGood = false;

  const setState = (s: ConnectionState, detail?: string): void => {
    state = s;
    for (const l of [...stateListeners]) l(s);
    if (detail) console.warn(`host connection: ${detail}`);
  };

  const connect = (): void => {
    const ws = make(opts.url, HOST_WS_PROTOCOL);
    socket = ws;
    ws.onopen = () => {
      retry = 0;
      everOpened = true;
      setState('open');
      for (const text of queue.splice(0)) ws.send(text);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      let m: HostResultMessage | HostEventMessage;
      try {
        m = JSON.parse(ev.data) as HostResultMessage | HostEventMessage;
      } catch {
        return;
      }
      if (m.t === 'result') {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.ok) p.resolve(m.value === null ? undefined : m.value);
        else p.reject(new HostError(m.error));
      } else if (m.t === 'event') {
        for (const l of [...(listeners.get(m.event) ?? [])]) {
          try {
            l(m.payload);
          } catch (err) {
            console.error(`listener for ${m.event} failed`, err);
          }
        }
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      socket = null;
      for (const p of pending.values())
        p.reject(
          new HostError({ code: 'unavailable', message: 'The connection to Gateway Desktop was lost.' }),
        );
      pending.clear();
      if (closedForGood) return;
      if (ev.code === 1008 || ev.code === 4401) {
        setState('unauthorized');
        return;
      }
      if (!everOpened && opts.giveUpAfter !== undefined && retry + 1 >= opts.giveUpAfter) {
        setState('no-token');
        return;
      }
      setState(everOpened ? 'reconnecting' : 'connecting');
      const delay = Math.min(5000, 250 * 2 ** retry++);
      if (!everOpened && opts.tokenRefused) {
        void opts.tokenRefused().then(
          (refused) => {
            if (closedForGood) return;
            if (refused) setState('unauthorized');
            else setTimeout(connect, delay);
          },
          () => setTimeout(connect, delay),
        );
        return;
      }
      setTimeout(connect, delay);
    };
    ws.onerror = () => undefined;
  };

  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      const text = JSON.stringify({ t: 'call', id, method, args });
      if (socket && socket.readyState === 1) socket.send(text);
      else queue.push(text);
    });

  const api: Record<string, unknown> = {};
  for (const m of HOST_METHOD_NAMES) api[m] = (...args: unknown[]) => call(m, args);
  api.on = (event: HostEventName, listener: (p: unknown) => void) => {
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  };
  connect();
  return {
    api: api as unknown as HostApi,
    get state() {
      return state;
    },
    onState(l) {
      stateListeners.add(l);
      return () => stateListeners.delete(l);
    },
    close() {
      closedForGood = true;
      socket?.close();
    },
  };
}
