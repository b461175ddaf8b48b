// Small HTTP helpers: JSON responses, Jupyter-style `{reason, message}` errors, bounded body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BadRequestError, GatewayError } from '../kernels/errors';

/** Send a JSON body with a status code. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Send a `{reason, message}` error body, as KG, EG and jupyter_server do. */
export function sendError(res: ServerResponse, status: number, reason: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // After a 413 the rest of the body is not read: the connection cannot be reused.
  sendJson(res, status, { reason, message }, status === 413 ? { Connection: 'close' } : {});
}

/** Send 204 No Content. */
export function sendNoContent(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(204, { 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** Read a request body, up to `limit` bytes (413 beyond). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new GatewayError(413, 'Payload Too Large', `Request body over ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        // A chunked body has no declared length: stop keeping it and let the rest drain, so the client gets
        // the 413 (sent with Connection: close) instead of a reset connection.
        req.off('data', onData);
        chunks.length = 0;
        req.resume();
        reject(new GatewayError(413, 'Payload Too Large', `Request body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Read and parse a JSON body; an empty body is `{}`. Malformed JSON → 400 saying what is wrong. */
export async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const body = await readBody(req, limit);
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`Malformed JSON in request body: ${(err as Error).message}`);
  }
}

/** Narrow to a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A parsed request handed to route handlers. Auth, Host and Origin were already checked. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Raw path (percent-encoded as sent). */
  pathname: string;
  /** Decoded path segments (`/a/b%20c` → ['a', 'b c']). */
  segments: string[];
  query: URLSearchParams;
}

/** An error answered with its status and `{reason, message}`. */
export class HttpError extends GatewayError {}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'Not Found', message);
}

/** Decode path segments; null when a segment is not valid percent-encoding. */
export function decodeSegments(pathname: string): string[] | null {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop(); // one trailing slash is fine
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

/** A path segment that names one file or directory: no traversal, no separators. */
export function safeSegment(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\\') && !s.includes('\0');
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Refuse a WebSocket upgrade with an HTTP status and a JSON `{reason, message}` body. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ reason: STATUS_TEXT[status] ?? 'Error', message });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  setTimeout(() => socket.destroy(), 1000).unref();
}
