// Request checks shared by HTTP and WebSocket: token (constant-time), Host (DNS rebinding), Origin.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';

/** Constant-time token comparison (both sides hashed first, so lengths never leak). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** Parse a Cookie header into name -> value. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const piece of header.split(';')) {
    const i = piece.indexOf('=');
    if (i <= 0) continue;
    const k = piece.slice(0, i).trim();
    let v = piece.slice(i + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      // keep raw
    }
    out.set(k, v);
  }
  return out;
}

/** Where a request's token came from. */
export type TokenSource = 'header' | 'query' | 'cookie';

/**
 * The token a request carries: `Authorization: token T` (or `Bearer T`), else `?token=T`, else the cookie.
 * An empty or whitespace-only token counts as none (the gateway client sends `Authorization: token ` when
 * it has no token).
 */
export function requestToken(
  req: IncomingMessage,
  query: URLSearchParams,
  cookieName: string,
): { token: string; source: TokenSource } | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^\s*(token|bearer)\s+(.*)$/i.exec(auth);
    const t = m?.[2]?.trim();
    if (t) return { token: t, source: 'header' };
  }
  const q = query.get('token')?.trim();
  if (q) return { token: q, source: 'query' };
  const c = parseCookies(req.headers.cookie).get(cookieName)?.trim();
  if (c) return { token: c, source: 'cookie' };
  return null;
}

/**
 * The Host header values a server bound to `host:port` answers to: 127.0.0.1, localhost and [::1] with the
 * port, the bound host itself, every local interface address when bound to all interfaces, plus extras.
 */
export function allowedHostValues(host: string, port: number, extra: string[] = []): Set<string> {
  const names = new Set<string>(['127.0.0.1', 'localhost', '[::1]']);
  const add = (h: string) => names.add(h.includes(':') && !h.startsWith('[') ? `[${h}]` : h.toLowerCase());
  if (host === '0.0.0.0' || host === '::') {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) add(a.address);
    }
  } else {
    add(host);
  }
  const out = new Set<string>();
  for (const n of names) {
    out.add(`${n}:${port}`);
    if (port === 80) out.add(n);
  }
  for (const e of extra) out.add(e.toLowerCase());
  return out;
}

/** The origins of the proxy itself (`http://<allowed host>`). */
export function ownOrigins(hosts: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const h of hosts) out.add(`http://${h}`);
  return out;
}

/** A random token (URL-safe) for proxies started without one. */
export function generateToken(): string {
  return randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
}
