// One (kernel, session_id) pairing of the channel layer: the port to the kernel, the socket now attached,
// and the replay buffer kept while no socket is. Plus the per-socket state the hub uses to batch writes.
import type { WebSocket } from 'ws';
import type { KernelPort, WireMessage } from '../../provisioners/types';
import type { WsProtocol } from './frames';

/** What a session needs from the hub that owns it. */
export interface SessionHost {
  readonly replayMaxBytes: number;
  sendTo(s: SocketState, msg: WireMessage): void;
  dropSession(s: ChannelSession): void;
  log(message: string): void;
}

/** The TCP socket under a WebSocket, for write batching. */
export interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

export interface SocketState {
  ws: WebSocket;
  protocol: WsProtocol;
  lastPong: number;
  counted: boolean;
  raw: CorkableSocket | null;
  /** A frame went out in this tick (later small frames of the tick are batched). */
  inTick: boolean;
  corked: boolean;
}

/** Frames at least this big are not batched (see ChannelHub.batch). */
export const BATCH_MAX_FRAME_BYTES = 16 * 1024;

export function uncork(s: SocketState): void {
  if (!s.corked) return;
  s.corked = false;
  s.raw?.uncork();
}

export function endTick(s: SocketState): void {
  s.inTick = false;
  uncork(s);
}

/** One (kernel, session_id) pairing: the port to the kernel, the current socket, the replay buffer. */
export class ChannelSession {
  socket: SocketState | null = null;
  queue: WireMessage[] = [];
  queuedBytes = 0;
  orphanTimer: NodeJS.Timeout | null = null;
  closed = false;
  port: KernelPort | null = null;

  constructor(
    readonly hub: SessionHost,
    readonly kernelId: string,
    readonly sessionId: string,
    /** False when the client sent no session_id: nobody can come back for the buffer. */
    readonly resumable: boolean,
  ) {}

  get key(): string {
    return `${this.kernelId}:${this.sessionId}`;
  }

  deliver(msg: WireMessage): void {
    if (this.closed) return;
    const s = this.socket;
    if (s && s.ws.readyState === 1) {
      this.hub.sendTo(s, msg);
      return;
    }
    this.enqueue(msg);
  }

  private enqueue(msg: WireMessage): void {
    let size = msg.header.length + msg.parentHeader.length + msg.metadata.length + msg.content.length;
    for (const b of msg.buffers) size += b.length;
    if (this.queuedBytes + size > this.hub.replayMaxBytes) {
      this.hub.log(`session ${this.key}: replay buffer over ${this.hub.replayMaxBytes} bytes; discarded`);
      this.hub.dropSession(this);
      return;
    }
    this.queue.push(msg);
    this.queuedBytes += size;
  }

  /** Send what was buffered to the (new) socket, in order. */
  flush(): void {
    const s = this.socket;
    if (!s) return;
    const q = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const m of q) this.hub.sendTo(s, m);
  }
}
