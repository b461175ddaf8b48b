// A client's port on a kernel: its shell/control/stdin DEALERs use the session id as routing id; sends made
// while the kernel restarts are buffered for the new process.
import type { ClientChannels, KernelConnection } from '../zmq/kernel-connection';
import type { KernelPort, WireMessage } from '../types';
import { errorMessage } from './util';

const MAX_BUFFERED_WHILE_RESTARTING = 1000;

/** What a port needs from the manager that owns it. */
export interface PortOwner {
  log(message: string): void;
  /** Whether sends are buffered for the next kernel process (during start and restart). */
  readonly acceptsBufferedSends: boolean;
  forgetPort(port: ManagedPort): void;
}

/** A client's port. Survives restarts: its DEALERs are re-created against the new kernel's ports. */
export class ManagedPort implements KernelPort {
  private channels: ClientChannels | undefined;
  private buffered: WireMessage[] = [];
  closed = false;

  constructor(
    private readonly manager: PortOwner,
    readonly sessionId: string,
    readonly identity: string,
    private readonly onMessage: (msg: WireMessage) => void,
    private readonly onClosed: ((reason: string) => void) | undefined,
  ) {}

  /**
   * Open this port's sockets on the (new) kernel connection. Opening can fail (no file descriptors left): the
   * port is then closed and its owner told why, and the kernel and every other port carry on.
   */
  bind(conn: KernelConnection, opening = false): void {
    if (this.closed) return;
    this.channels?.close();
    this.channels = undefined;
    try {
      this.channels = conn.openChannels(this.identity, (m) => this.deliver(m));
    } catch (err) {
      const reason = `cannot open sockets to the kernel: ${errorMessage(err)}`;
      this.close();
      if (opening) throw new Error(reason); // openPort's caller handles it
      this.manager.log(`port ${this.identity}: ${reason}`);
      this.onClosed?.(reason);
      return;
    }
    const pending = this.buffered;
    this.buffered = [];
    for (const m of pending) this.channels.send(m);
  }

  unbind(): void {
    this.channels?.close();
    this.channels = undefined;
  }

  deliver(msg: WireMessage): void {
    if (this.closed) return;
    try {
      this.onMessage(msg);
    } catch (err) {
      this.manager.log(`port ${this.sessionId}: onMessage threw: ${String(err)}`);
    }
  }

  send(msg: WireMessage): void {
    if (this.closed) return;
    if (msg.channel === 'iopub') {
      this.manager.log(`port ${this.sessionId}: clients cannot send on iopub; message dropped`);
      return;
    }
    if (this.channels) {
      this.channels.send(msg);
    } else if (this.manager.acceptsBufferedSends && this.buffered.length < MAX_BUFFERED_WHILE_RESTARTING) {
      this.buffered.push(msg); // restarting: delivered to the new kernel once it is up
    } else {
      this.manager.log(`port ${this.sessionId}: kernel not running; ${msg.channel} message dropped`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffered = [];
    this.unbind();
    this.manager.forgetPort(this);
  }
}

/** Routing ids are 1..255 bytes: a session id is cut to 200 bytes of UTF-8 (room for a clash suffix). */
export function routingIdentity(sessionId: string, maxBytes = 200): string {
  if (!sessionId) return 'client';
  if (Buffer.byteLength(sessionId) <= maxBytes) return sessionId;
  const cut = Buffer.from(sessionId).subarray(0, maxBytes);
  // Drop a character split by the cut (a trailing partial UTF-8 sequence decodes to U+FFFD).
  return cut.toString('utf8').replace(/\uFFFD+$/, '') || 'client';
}
