// Small HTTP helpers: JSON responses, Jupyter-style `{reason, message}` errors, bounded body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';
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
