// Receive loops that share the event loop fairly.
//
// zeromq.js resolves receive() synchronously while a socket has messages queued (up to 512 in a row per
// socket), so a plain `for await` over busy sockets runs entirely in microtasks: timers, HTTP and WebSocket
// I/O wait until every socket is drained — over a second with 50 kernels streaming output. All loops started
// here share one time slice per event-loop turn; once it is used up, a loop holding a message parks until
// the next turn (setImmediate) before handling it, so timers and I/O run between slices. Parked loops resume
// in the order they parked, and a loop that just handled a message queues behind them, so no socket starves
// another.
import { performance } from 'node:perf_hooks';

/** Time (ms) the receive loops may run back to back before yielding to timers and I/O. */
export const RECEIVE_SLICE_MS = 3;

/** The part of a zeromq socket a receive loop needs. */
export interface ReceivingSocket {
  receive(): Promise<Buffer[]>;
  readonly closed: boolean;
}

let sliceOpen = false;
let sliceStart = 0;
let parked: Array<() => void> = [];

function endSlice(): void {
  sliceOpen = false;
  const resume = parked;
  parked = [];
  for (const r of resume) r();
}

/** True once this turn's slice is used up; the first call in a turn opens the slice. */
function sliceUsedUp(): boolean {
  if (!sliceOpen) {
    sliceOpen = true;
    sliceStart = performance.now();
    setImmediate(endSlice);
    return false;
  }
  return performance.now() - sliceStart > RECEIVE_SLICE_MS;
}

function nextSlice(): Promise<void> {
  return new Promise<void>((resolve) => parked.push(resolve));
}

/**
 * Receive from `sock` until it is closed or `stopped()` turns true, calling `onFrames` for each message.
 * Resolves when the socket closes; rejects on any other receive error.
 */
export async function runReceiveLoop(
  sock: ReceivingSocket,
  onFrames: (frames: Buffer[]) => void,
  stopped: () => boolean,
): Promise<void> {
  while (!sock.closed && !stopped()) {
    let frames: Buffer[];
    try {
      frames = await sock.receive();
    } catch (err) {
      // Closing a socket rejects its pending receive with EAGAIN (as zeromq's own async iterator treats it).
      if (sock.closed && (err as { code?: unknown }).code === 'EAGAIN') return;
      throw err;
    }
    if (stopped()) return;
    // Re-checked after parking: the first loop to resume opens the next slice, so one always makes progress;
    // the others that did not fit in it park again ahead of loops that just handled a message.
    while (sliceUsedUp()) {
      await nextSlice();
      if (stopped()) return;
    }
    onFrames(frames);
  }
}
