// Writes kernel messages to client sockets: each message encoded once per protocol (iopub fans the same
// message out to every session), small frames of one burst batched into one write, and a socket whose unsent
// output grows past a bound (a consumer that cannot keep up) terminated rather than buffered without end.
import type { WireMessage } from '../../provisioners/types';
import { BATCH_MAX_FRAME_BYTES, endTick, uncork, type SocketState } from './channel-session';
import { encodeLegacy, encodeV1 } from './frames';

export class FrameWriter {
  private readonly encoded = new WeakMap<
    WireMessage,
    { v1?: Buffer; legacy?: { data: Buffer; binary: boolean } }
  >();

  constructor(
    private readonly maxBufferedAmount: number,
    private readonly log: (message: string) => void,
  ) {}

  /** Send one kernel message to one socket in its protocol. */
  send(s: SocketState, msg: WireMessage): void {
    const ws = s.ws;
    if (ws.bufferedAmount > this.maxBufferedAmount) {
      this.log(`socket too slow (${ws.bufferedAmount} bytes unsent); terminating it`);
      ws.terminate();
      return;
    }
    // iopub fans out the same message object to every session: encode it once per protocol.
    let cached = this.encoded.get(msg);
    if (!cached) {
      cached = {};
      this.encoded.set(msg, cached);
    }
    let data: Buffer;
    let binary = true;
    if (s.protocol === 'v1') {
      data = cached.v1 ??= encodeV1(msg);
    } else {
      cached.legacy ??= encodeLegacy(msg);
      data = cached.legacy.data;
      binary = cached.legacy.binary;
    }
    this.batch(s, data.length);
    ws.send(data, { binary });
  }

  /**
   * Batch small frames of one burst of kernel messages (many short prints, status + reply + idle...): the
   * first frame of a tick goes out at once (no added latency), later ones are corked until the current run
   * of callbacks and microtasks is over (one receive slice at most) and flushed with one writev. A large frame
   * flushes what is batched and goes out at once, so big output is not held for the rest of the slice.
   */
  private batch(s: SocketState, size: number): void {
    if (!s.raw) return;
    if (size >= BATCH_MAX_FRAME_BYTES) {
      if (s.corked) uncork(s);
    } else if (!s.inTick) {
      s.inTick = true;
      process.nextTick(endTick, s);
    } else if (!s.corked) {
      s.corked = true;
      s.raw.cork();
    }
  }
}
