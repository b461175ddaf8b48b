// Serves the built renderer (dist/renderer) in serve mode: GET / (index.html), /assets/*, icons.
// The page itself is not secret (the host API behind it needs the token), but it is only served to the
// server's own Host names, with a strict CSP and no-referrer (the first URL carries ?token=).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RENDERER_DIST = join(REPO_ROOT, 'dist', 'renderer');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export function contentTypeOf(file: string): string {
  return TYPES[extname(file)] ?? 'application/octet-stream';
}

/** The CSP of the UI in a browser (the same as the meta tag in index.html, plus frame-ancestors). */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*; frame-src 'self'; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

export interface StaticOptions {
  distDir?: string;
  allowedHosts: string[];
  /** While true, pages answer "building the UI" and reload themselves (serve builds in the background). */
  building?: () => boolean;
}

const BUILDING_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<link rel="icon" href="data:,"><title>Gateway Desktop</title></head><body style="font:16px system-ui,sans-serif;padding:40px">
<p>Gateway Desktop is building its user interface (first start after an update). This page reloads itself.</p>
</body></html>`;

/** Returns a handler that answers the UI's routes and returns false for anything else. */
export function createStaticHandler(
  opts: StaticOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const dir = opts.distDir ?? RENDERER_DIST;
  const allowed = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = new URL(req.url ?? '/', 'http://placeholder');
    let path = url.pathname;
    if (path === '/' || path === '/index.html') path = '/index.html';
    else if (!path.startsWith('/assets/') && !/^\/[\w.-]+\.(png|svg|ico)$/.test(path)) return false;
    if (!allowed.has((req.headers.host ?? '').toLowerCase())) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Forbidden host');
      return true;
    }
    const file = normalize(join(dir, decodeURIComponent(path)));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(404).end();
      return true;
    }
    if (opts.building?.() && path === '/index.html') {
      res
        .writeHead(503, {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-store',
          'Retry-After': '2',
          'Content-Security-Policy': UI_CSP,
          'Referrer-Policy': 'no-referrer',
        })
        .end(BUILDING_PAGE);
      return true;
    }
    let body: Buffer;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      body = await readFile(file);
    } catch {
      if (path === '/index.html') {
        res
          .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end('The UI is not built. Run `npm run build` (serve builds it when it starts).');
      } else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return true;
    }
    const headers: Record<string, string> = {
      'Content-Type': contentTypeOf(file),
      'Content-Length': String(body.length),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': path === '/index.html' ? 'no-store' : 'public, max-age=31536000, immutable',
    };
    if (path === '/index.html') {
      headers['Content-Security-Policy'] = UI_CSP;
      headers['X-Frame-Options'] = 'DENY';
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/**
 * Builds the renderer when dist/renderer is missing or older than its sources (serve "builds if needed").
 * Runs scripts/build.mjs in a child process (it takes a lock, so parallel serves do not collide).
 */
export function ensureRendererBuilt(log: (line: string) => void = () => undefined): Promise<void> {
  const script = join(REPO_ROOT, 'scripts', 'build.mjs');
  if (!existsSync(script)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--renderer', '--if-needed', '--quiet'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (out.trim()) log(out.trim());
      if (code === 0) resolve();
      else reject(new Error(`building the UI failed (exit ${code}):\n${out.trim()}`));
    });
  });
}
