// Picks the host API transport: the Electron preload's window.gatewayDesktop when present, otherwise the
// WebSocket of `npm run serve` with the token from the page URL (then removed from the address bar and
// kept in sessionStorage so a reload of this tab still works). Errors of both come out as HostError.
import { HOST_METHOD_NAMES, PRELOAD_GLOBAL, type HostApi } from '../../../electron/host-api/contract';
import { toHostError } from './errors';
import type { HostConnection } from './types';
import { createWsHost, wsUrlFor } from './ws-client';

export type { ConnectionState, HostConnection } from './types';

const TOKEN_KEY = 'gateway-desktop.token';

function wrapPreload(raw: HostApi): HostApi {
  const api: Record<string, unknown> = {};
  for (const m of HOST_METHOD_NAMES) {
    const fn = raw[m] as (...a: unknown[]) => Promise<unknown>;
    api[m] = (...args: unknown[]) =>
      fn(...args).catch((err: unknown) => {
        throw toHostError(err);
      });
  }
  api.on = raw.on;
  return api as unknown as HostApi;
}

/** Reads ?token= (or #token=) from the URL, strips it from the address bar, and remembers it for this tab. */
export function takeToken(win: Window): string | null {
  const url = new URL(win.location.href);
  let token = url.searchParams.get('token');
  if (token) {
    url.searchParams.delete('token');
    win.history.replaceState(null, '', url.pathname + url.search + url.hash);
    try {
      win.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // storage may be disabled; the token then lasts until reload
    }
  } else {
    try {
      token = win.sessionStorage.getItem(TOKEN_KEY);
    } catch {
      token = null;
    }
  }
  return token;
}

export function connectHost(win: Window): HostConnection {
  const preload = (win as unknown as Record<string, unknown>)[PRELOAD_GLOBAL] as HostApi | undefined;
  if (preload && typeof preload.listClusters === 'function') {
    const api = wrapPreload(preload);
    return { api, state: 'open', onState: () => () => undefined, close: () => undefined };
  }
  const token = takeToken(win);
  // Without a token in hand the proxy's HttpOnly cookie (set when a ?token= address was opened) may still
  // authorise the socket; if it does not, the UI says how to get in.
  if (!token) return createWsHost({ url: wsUrlFor(win.location, null), giveUpAfter: 2 });
  const tokenRefused = async (): Promise<boolean> => {
    const res = await win.fetch('/api/kernels', {
      headers: { Authorization: `token ${token}` },
      credentials: 'omit',
      cache: 'no-store',
    });
    return res.status === 401 || res.status === 403;
  };
  return createWsHost({ url: wsUrlFor(win.location, token), tokenRefused });
}
