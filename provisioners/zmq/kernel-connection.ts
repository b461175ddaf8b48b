// The ZMQ sockets to one kernel: one shared SUB on iopub, and per client a DEALER each for shell, control and
// stdin whose routing id is the client's session id (so the kernel routes replies and input_request back).
import { Dealer, Subscriber } from 'zeromq';
import type { Channel, ConnectionInfo, WireMessage } from '../types';
import { runReceiveLoop } from './receive-loop';
import { WireCodec, type RejectReason } from './wire';

export interface KernelConnectionOptions {
  /** Outgoing queue bound per socket (messages). Default 1000. */
  sendHighWaterMark?: number;
  /** Incoming queue bound per socket (messages). Default 0 = unlimited, so iopub output is never dropped. */
  receiveHighWaterMark?: number;
  /** Reports dropped incoming messages (bad signature, malformed). */
  onReject?: (reason: RejectReason, detail: string) => void;
  /** Diagnostics (socket errors). Default console.warn. */
  log?: (message: string) => void;
}

export type MessageHandler = (msg: WireMessage) => void;

const MAX_QUEUED_SENDS = 10_000;

/** Serialises sends on one socket: zeromq v6 rejects a send while a previous one is still pending. */
class SendQueue {
  private queue: Buffer[][] = [];
  private running = false;
  private closed = false;

  constructor(
    private readonly sock: Dealer,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(frames: Buffer[]): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUED_SENDS) {
      // The kernel is not taking messages (hung, or gone without us noticing yet): do not grow without bound.
      this.onError(new Error(`more than ${MAX_QUEUED_SENDS} messages waiting; message dropped`));
      return;
    }
    this.queue.push(frames);
    if (!this.running) void this.run();
  }

  get pending(): number {
    return this.queue.length;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length && !this.closed) {
        const frames = this.queue.shift() as Buffer[];
        try {
          await this.sock.send(frames);
        } catch (err) {
          if (this.closed) break;
          this.onError(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  close(): void {
    this.closed = true;
    this.queue = [];
  }
}

export function zmqUrl(info: ConnectionInfo, port: number): string {
  return info.transport === 'ipc' ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

function portFor(info: ConnectionInfo, channel: Channel | 'hb'): number {
  switch (channel) {
    case 'shell':
      return info.shell_port;
    case 'control':
      return info.control_port;
    case 'stdin':
      return info.stdin_port;
    case 'iopub':
      return info.iopub_port;
    case 'hb':
      return info.hb_port;
  }
}

/** A client's shell/control/stdin DEALERs, all with the same routing id. */
export class ClientChannels {
  private readonly sockets = new Map<Channel, { sock: Dealer; queue: SendQueue }>();
  private closed = false;

  constructor(
    private readonly conn: KernelConnection,
    readonly identity: string,
    private readonly onMessage: MessageHandler,
  ) {
    // Creating a socket can throw (EMFILE, a bad routing id): close what was opened so far, then rethrow.
    try {
      for (const channel of ['shell', 'control', 'stdin'] as const) {
        const sock = new Dealer({
          routingId: identity,
          linger: 0,
          sendHighWaterMark: conn.options.sendHighWaterMark ?? 1000,
          receiveHighWaterMark: conn.options.receiveHighWaterMark ?? 0,
        });
        this.sockets.set(channel, {
          sock,
          queue: new SendQueue(sock, (err) => conn.log(`send on ${channel} failed: ${String(err)}`)),
        });
        sock.connect(zmqUrl(conn.info, portFor(conn.info, channel)));
      }
    } catch (err) {
      this.close();
      throw err;
    }
    for (const [channel, { sock }] of this.sockets) void this.receiveLoop(channel, sock);
  }

  private async receiveLoop(channel: Channel, sock: Dealer): Promise<void> {
    const onFrames = (frames: Buffer[]): void => {
      const decoded = this.conn.codec.deserialize(channel, frames);
      if (!decoded) return;
      try {
        this.onMessage(decoded.msg);
      } catch (err) {
        this.conn.log(`message handler failed on ${channel}: ${String(err)}`);
      }
    };
    try {
      await runReceiveLoop(sock, onFrames, () => this.closed);
    } catch (err) {
      if (!this.closed && !sock.closed) this.conn.log(`receive on ${channel} failed: ${String(err)}`);
    }
  }

  /** Sign and send on the message's channel (shell, control or stdin). Returns false if it cannot be sent. */
  send(msg: WireMessage): boolean {
    if (this.closed) return false;
    const entry = this.sockets.get(msg.channel);
    if (!entry) {
      this.conn.log(`cannot send a client message on channel "${msg.channel}"`);
      return false;
    }
    entry.queue.push(this.conn.codec.serialize(msg));
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { sock, queue } of this.sockets.values()) {
      queue.close();
      try {
        sock.close();
      } catch {
        // already closed
      }
    }
    this.sockets.clear();
    this.conn.forget(this);
  }
}

/** All sockets to one running kernel (one connection file / one key). */
export class KernelConnection {
  readonly codec: WireCodec;
  private readonly iopub: Subscriber;
  private readonly iopubListeners = new Set<MessageHandler>();
  private readonly clients = new Set<ClientChannels>();
  private closed = false;

  constructor(
    readonly info: ConnectionInfo,
    readonly options: KernelConnectionOptions = {},
  ) {
    this.codec = new WireCodec({
      key: info.key,
      signatureScheme: info.signature_scheme,
      onReject: options.onReject,
    });
    this.iopub = new Subscriber({ linger: 0, receiveHighWaterMark: options.receiveHighWaterMark ?? 0 });
    this.iopub.subscribe();
    this.iopub.connect(zmqUrl(info, info.iopub_port));
    void this.iopubLoop();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  log(message: string): void {
    (this.options.log ?? ((m: string) => console.warn(`[zmq] ${m}`)))(message);
  }

  private async iopubLoop(): Promise<void> {
    const onFrames = (frames: Buffer[]): void => {
      const decoded = this.codec.deserialize('iopub', frames);
      if (!decoded) return;
      for (const l of this.iopubListeners) {
        try {
          l(decoded.msg);
        } catch (err) {
          this.log(`iopub handler failed: ${String(err)}`);
        }
      }
    };
    try {
      await runReceiveLoop(this.iopub, onFrames, () => this.closed);
    } catch (err) {
      if (!this.closed) this.log(`receive on iopub failed: ${String(err)}`);
    }
  }

  /** Receive every iopub message (the SUB is subscribed to all topics). Returns an unsubscribe function. */
  onIopub(listener: MessageHandler): () => void {
    this.iopubListeners.add(listener);
    return () => this.iopubListeners.delete(listener);
  }

  /** Open shell/control/stdin DEALERs with `identity` as routing id; replies go to `onMessage`. */
  openChannels(identity: string, onMessage: MessageHandler): ClientChannels {
    if (this.closed) throw new Error('kernel connection is closed');
    const c = new ClientChannels(this, identity, onMessage);
    this.clients.add(c);
    return c;
  }

  /** @internal called by ClientChannels.close */
  forget(c: ClientChannels): void {
    this.clients.delete(c);
  }

  /** Close every socket (linger 0). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.clients]) c.close();
    this.iopubListeners.clear();
    try {
      this.iopub.close();
    } catch {
      // already closed
    }
  }
}
