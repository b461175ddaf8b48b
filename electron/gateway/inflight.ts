// A bound on what all kernel WebSocket clients together can make the proxy hold at once. `ws` keeps a frame
// in memory until it is complete, and a frame may be hundreds of megabytes (a file upload through a widget):
// three clients each sending one would take gigabytes. Each socket's raw bytes are watched for frame headers;
// a big frame reserves its size from one shared budget before its payload is read, and a socket whose frame
// does not fit waits (its reads pause: TCP backpressure, nothing is lost) until earlier frames are through.
// One frame may always proceed alone, so a frame up to the per-message limit never waits forever.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** Frames smaller than this are not metered (they are never what fills memory). */
const METERED_MIN_BYTES = 256 * 1024;

interface Metered {
  /** Paused through ws (not the TCP socket directly: ws resumes that itself when its parser drains). */
  ws: WebSocket;
  /** Bytes this socket reserved for the message it is receiving. */
  reserved: number;
  /** A frame that is waiting for room (its size), or 0. */
  waiting: number;
}

/** Reads WebSocket frame headers from a client's raw bytes (client frames are masked). */
class FrameHeaderReader {
  private header = Buffer.alloc(14);
  private have = 0;
  private skip = 0;

  constructor(private readonly onDataFrame: (payloadBytes: number, opcode: number) => void) {}

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.header[this.have++] = chunk[i++];
      const need = this.headerLength();
      if (need === 0 || this.have < need) continue;
      const opcode = this.header[0] & 0x0f;
      const len = this.payloadLength();
      this.have = 0;
      this.skip = len;
      if (opcode <= 2) this.onDataFrame(len, opcode); // continuation, text, binary
    }
  }

  /** Total header length once enough of it is known, else 0. */
  private headerLength(): number {
    if (this.have < 2) return 0;
    const l7 = this.header[1] & 0x7f;
    const mask = this.header[1] & 0x80 ? 4 : 0;
    return 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + mask;
  }

  private payloadLength(): number {
    const l7 = this.header[1] & 0x7f;
    if (l7 === 126) return this.header.readUInt16BE(2);
    if (l7 === 127) return Number(this.header.readBigUInt64BE(2) & 0x1f_ffff_ffff_ffffn);
    return l7;
  }
}

export interface InflightLimits {
  /** Bytes all clients' incomplete messages may hold at once. */
  totalBytes: number;
  /** The largest message one client may send (also given to ws as maxPayload). */
  messageBytes: number;
  /** Names the settings in close reasons, e.g. "serve --max-message-mb". */
  messageSettingHint?: string;
}

const MB = 1024 * 1024;

export class InflightBudget {
  private used = 0;
  private readonly queue: Metered[] = [];

  constructor(private readonly limits: InflightLimits) {}

  /** Watch one kernel WebSocket: call right after the upgrade, with the TCP socket under it. */
  watch(ws: WebSocket, socket: Duplex): void {
    const m: Metered = { ws, reserved: 0, waiting: 0 };
    let messageBytes = 0;
    const reader = new FrameHeaderReader((len, opcode) => {
      messageBytes = opcode === 0 ? messageBytes + len : len;
      if (messageBytes > this.limits.messageBytes) {
        // Said before ws refuses it (with 1009 and no reason), so the client learns what to change.
        const hint = this.limits.messageSettingHint ? ` (${this.limits.messageSettingHint})` : '';
        ws.close(
          1009,
          `message of ${(messageBytes / MB).toFixed(1)} MB is over the ${(this.limits.messageBytes / MB).toFixed(0)} MB limit${hint}`.slice(
            0,
            123,
          ),
        );
        return;
      }
      if (len < METERED_MIN_BYTES) return;
      if (this.used > 0 && this.used + len > this.limits.totalBytes) {
        m.waiting = len;
        this.queue.push(m);
        ws.pause();
        return;
      }
      this.reserve(m, len);
    });
    const onData = (chunk: Buffer): void => reader.feed(chunk);
    socket.prependListener('data', onData); // before ws's own parser sees the chunk
    // The message is complete and handed on: what it reserved is free again.
    ws.on('message', () => this.release(m));
    ws.once('close', () => {
      socket.off('data', onData);
      const i = this.queue.indexOf(m);
      if (i >= 0) this.queue.splice(i, 1);
      this.release(m);
    });
  }

  private reserve(m: Metered, len: number): void {
    m.reserved += len;
    this.used += len;
  }

  private release(m: Metered): void {
    if (m.reserved === 0) return;
    this.used -= m.reserved;
    m.reserved = 0;
    // Let waiting sockets go, oldest first, while their frames fit (one always goes when nothing is held).
    while (this.queue.length) {
      const next = this.queue[0];
      if (this.used > 0 && this.used + next.waiting > this.limits.totalBytes) break;
      this.queue.shift();
      this.reserve(next, next.waiting);
      next.waiting = 0;
      next.ws.resume();
    }
  }
}
