// The host's client of a remote launcher's comm port (reference §2.5, §7.2): one connection per request, one
// JSON object written, then a half-close. Gateway Provisioners' listener answers nothing and closes; a refused
// connection means the launcher's listener (and so the kernel) is gone, which is an answer, not a failure.
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { JsonValue } from '../types';

/** Opens a fresh stream to the comm port: a TCP socket, or an SSH forward (ssh2 `forwardOut` channel). */
export type CommConnector = () => Duplex;

export interface CommRequestOptions {
  /** Limit for the whole exchange (default 5000 ms). */
  timeoutMs?: number;
  /** Read the peer's answer to EOF and parse it as JSON (Gateway Provisioners' listener sends none). */
  readReply?: boolean;
}

export interface CommResult {
  /** False when the connection was refused: nothing listens on the comm port any more. */
  delivered: boolean;
  /** The parsed reply, or null when none was asked for or the peer sent nothing. */
  reply: JsonValue | null;
}

const MAX_REPLY_BYTES = 64 * 1024;
/** ssh2's channel-open failure code for "the server could not connect to the target" (RFC 4254 §5.1). */
const SSH_OPEN_CONNECT_FAILED = 2;

/** Whether `err` says the comm port refused the connection (TCP ECONNREFUSED, or an SSH forward's equivalent). */
export function isRefused(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as NodeJS.ErrnoException & { reason?: unknown };
  return e.code === 'ECONNREFUSED' || e.reason === SSH_OPEN_CONNECT_FAILED || /refused/i.test(e.message);
}

/** Send `body` to the comm port; resolves `delivered: false` if it refuses, throws on other failures. */
export function commRequest(
  connect: CommConnector,
  body: { [k: string]: JsonValue },
  opts: CommRequestOptions = {},
): Promise<CommResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const request = JSON.stringify(body);
  return new Promise<CommResult>((resolve, reject) => {
    let stream: Duplex;
    try {
      stream = connect();
    } catch (err) {
      if (isRefused(err)) resolve({ delivered: false, reply: null });
      else reject(commError(request, err));
      return;
    }
    let settled = false;
    const settle = (outcome: { result: CommResult } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };
    const timer = setTimeout(
      () =>
        settle({ error: new Error(`The comm port did not answer in ${timeoutMs} ms (request ${request})`) }),
      timeoutMs,
    );
    let written = false;
    stream.on('error', (err) => {
      if (!written && isRefused(err)) settle({ result: { delivered: false, reply: null } });
      else settle({ error: commError(request, err) });
    });
    if (opts.readReply) readReply(stream, request, settle);
    else stream.resume(); // an unexpected answer must not stall the stream
    stream.end(request, (err?: Error | null) => {
      if (err) return; // reported by the 'error' handler
      written = true;
      if (!opts.readReply) settle({ result: { delivered: true, reply: null } });
    });
  });
}

function readReply(
  stream: Duplex,
  request: string,
  settle: (outcome: { result: CommResult } | { error: Error }) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_REPLY_BYTES) {
      settle({
        error: new Error(`The comm port's reply to ${request} is larger than ${MAX_REPLY_BYTES} bytes`),
      });
    } else chunks.push(buf);
  });
  stream.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (text === '') return settle({ result: { delivered: true, reply: null } });
    try {
      settle({ result: { delivered: true, reply: JSON.parse(text) as JsonValue } });
    } catch {
      settle({ error: new Error(`The comm port's reply to ${request} is not JSON: ${text.slice(0, 200)}`) });
    }
  });
}

function commError(request: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`The comm port request ${request} failed: ${msg}`);
}

/** A connector for a comm port reachable over TCP. */
export function tcpConnector(host: string, port: number): CommConnector {
  return () => netConnect({ host, port });
}

/** Deliver signal `signum` to the remote kernel (0 probes liveness). Resolves false if nothing listens. */
export async function sendSignal(
  connect: CommConnector,
  signum: number,
  opts: { timeoutMs?: number } = {},
): Promise<boolean> {
  if (!Number.isInteger(signum) || signum < 0 || signum > 64) {
    throw new RangeError(`Signal number ${signum} is not a signal (0..64)`);
  }
  return (await commRequest(connect, { signum }, opts)).delivered;
}

/** Ask the remote launcher's listener to exit. Resolves false if nothing listens (already gone). */
export async function requestShutdown(
  connect: CommConnector,
  opts: { timeoutMs?: number } = {},
): Promise<boolean> {
  return (await commRequest(connect, { shutdown: 1 }, opts)).delivered;
}
