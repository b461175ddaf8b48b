// The host end of Gateway Provisioners' response address (reference §2.4 host side, §7.1): a TCP listener that
// remote launchers connect to once, send their encrypted connection info and close. Each connection is read to EOF
// (bounded in size and time), decoded, and routed to the kernel that waits for it. Nothing unsolicited is kept,
// and a bad connection is logged and closed without touching anyone else's wait.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import type { ResponseListener } from '../context';
import { decodeV1PayloadTagged, PayloadError, type V1Payload } from './payload-v1';

export interface ResponseListenerOptions {
  /** Address to bind (default 127.0.0.1; remote launchers usually reach it through an SSH reverse forward). */
  host?: string;
  /** Port to bind; 0 (default) lets the OS choose. */
  port?: number;
  /** RSA modulus size of the in-memory key pair (default 2048). */
  keyBits?: number;
  /** Largest response accepted; a connection sending more is cut (default 64 KiB). */
  maxBytes?: number;
  /** How long one connection may take to deliver its response and close (default 10 s). */
  connectionTimeoutMs?: number;
  log?: (message: string) => void;
}

interface Waiter {
  resolve: (payload: V1Payload) => void;
  reject: (reason: unknown) => void;
}

/** How many used payloads are remembered to refuse their replay (a launcher sends one per kernel start). */
const REPLAY_MEMORY = 4096;

const generateRsa = promisify(generateKeyPair);

export class V1ResponseListener implements ResponseListener {
  /** `ip:port` for the launcher's `--response-address`. */
  readonly address: string;
  readonly port: number;
  /** Base64 SPKI DER (PEM body without newlines) for the launcher's `--public-key`. */
  readonly publicKey: string;

  private readonly waiters = new Map<string, Waiter>();
  private readonly streams = new Set<Duplex>();
  private readonly used = new Set<string>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly privateKey: KeyObject,
    publicKey: KeyObject,
    private readonly maxBytes: number,
    private readonly connectionTimeoutMs: number,
    private readonly log: (message: string) => void,
  ) {
    const addr = server.address() as AddressInfo;
    this.port = addr.port;
    this.address = `${addr.address}:${addr.port}`;
    this.publicKey = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  }

  /** Generate the key pair (memory only, new at each start) and listen. */
  static async start(opts: ResponseListenerOptions = {}): Promise<V1ResponseListener> {
    const log = opts.log ?? ((m: string) => console.warn(`[response-listener] ${m}`));
    const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: opts.keyBits ?? 2048 });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `The response listener cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 0} (${err.code ?? err.message}): choose another port or address`,
          ),
        ),
      );
      server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, backlog: 128 }, resolve);
    });
    const listener = new V1ResponseListener(
      server,
      privateKey,
      publicKey,
      opts.maxBytes ?? 64 * 1024,
      opts.connectionTimeoutMs ?? 10_000,
      log,
    );
    server.on('error', (err) => log(`response listener error: ${err.message}`));
    server.on('connection', (socket) => listener.accept(socket));
    return listener;
  }

  waitFor(kernelId: string, signal: AbortSignal): Promise<V1Payload> {
    const id = kernelId.toLowerCase();
    if (this.closed) return Promise.reject(new Error('The response listener is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.waiters.has(id)) {
      return Promise.reject(new Error(`Kernel ${kernelId} already waits for its connection info`));
    }
    return new Promise<V1Payload>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.waiters.get(id) === waiter) this.waiters.delete(id);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve: (payload) => {
          signal.removeEventListener('abort', onAbort);
          resolve(payload);
        },
        reject: (reason) => {
          signal.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      this.waiters.set(id, waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Serve one connection that carries a response: a socket of our server, or a stream delivered from elsewhere
   * (an SSH reverse forward). `peer` names it in the log.
   */
  accept(stream: Duplex, peer = describePeer(stream)): void {
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.streams.add(stream);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (problem?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (problem) this.log(`response from ${peer} dropped: ${problem}`);
      stream.destroy();
    };
    const timer = setTimeout(
      () => finish(`it did not send and close within ${this.connectionTimeoutMs} ms`),
      this.connectionTimeoutMs,
    );
    stream.on('data', (chunk: Buffer | string) => {
      if (done) return;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > this.maxBytes) return finish(`more than ${this.maxBytes} bytes`);
      chunks.push(buf);
    });
    stream.on('end', () => {
      if (done) return;
      const wire = Buffer.concat(chunks).toString('latin1'); // base64 is ASCII; anything else fails decoding
      finish();
      this.deliver(wire, peer);
    });
    stream.on('error', (err) => finish(`connection error: ${err.message}`));
    stream.on('close', () => {
      this.streams.delete(stream);
      finish(done ? undefined : 'the connection closed before the end of its response');
    });
  }

  /** Stop listening, cut connections in progress, and reject every pending wait. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    for (const w of this.waiters.values()) w.reject(new Error('The response listener was closed'));
    this.waiters.clear();
    await closing;
  }

  private deliver(wire: string, peer: string): void {
    let payload: V1Payload;
    let replayTag: string;
    try {
      ({ payload, replayTag } = decodeV1PayloadTagged(wire, this.privateKey));
    } catch (err) {
      const why = err instanceof PayloadError ? `${err.reason}: ${err.message}` : String(err);
      this.log(`response from ${peer} rejected (${why})`);
      return;
    }
    const id = payload.kernel_id.toLowerCase();
    if (this.used.has(replayTag)) {
      this.log(
        `response from ${peer} for kernel ${id} dropped: that payload was already received (a replay)`,
      );
      return;
    }
    this.remember(replayTag);
    const waiter = this.waiters.get(id);
    if (!waiter) {
      this.log(`response from ${peer} for kernel ${id} dropped: no launch waits for that kernel`);
      return;
    }
    this.waiters.delete(id);
    waiter.resolve(payload);
  }

  private remember(tag: string): void {
    this.used.add(tag);
    if (this.used.size > REPLAY_MEMORY) this.used.delete(this.used.values().next().value as string);
  }
}

function describePeer(stream: Duplex): string {
  if (stream instanceof Socket && stream.remoteAddress) return `${stream.remoteAddress}:${stream.remotePort}`;
  return 'a forwarded connection';
}
