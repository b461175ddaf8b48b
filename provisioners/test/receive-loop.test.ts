// The shared receive loop: busy sockets must not starve timers and I/O, must share the event loop fairly,
// keep each socket's order, and end cleanly when the socket closes or the owner stops.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runReceiveLoop, type ReceivingSocket } from '../zmq/receive-loop';

/** A socket that always has a message ready (like zeromq resolving receive() synchronously) until closed. */
class BusySocket implements ReceivingSocket {
  closed = false;
  received = 0;
  private pending: ((err: Error) => void) | null = null;

  constructor(private readonly limit = Infinity) {}

  receive(): Promise<Buffer[]> {
    if (this.closed) return Promise.reject(Object.assign(new Error('closed'), { code: 'EAGAIN' }));
    if (this.received >= this.limit) {
      return new Promise((_, reject) => {
        this.pending = reject;
      });
    }
    this.received++;
    return Promise.resolve([Buffer.from(String(this.received))]);
  }

  close(): void {
    this.closed = true;
    this.pending?.(Object.assign(new Error('closed'), { code: 'EAGAIN' }));
  }
}

function busyWait(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // simulate per-message work (HMAC, encoding, writes)
  }
}

test(
  'sockets that always have messages queued do not starve timers, and share the loop fairly',
  { timeout: 20_000 },
  async () => {
    const socks = Array.from({ length: 4 }, () => new BusySocket());
    const handled = socks.map(() => 0);
    const loops = socks.map((s, i) =>
      runReceiveLoop(
        s,
        () => {
          handled[i]++;
          busyWait(20);
        },
        () => false,
      ),
    );
    // With a loop that never yields, neither of these would ever run.
    await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setImmediate(r));
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (++ticks === 10) {
          clearInterval(t);
          resolve();
        }
      }, 1);
    });
    for (const s of socks) s.close();
    await Promise.all(loops);
    const min = Math.min(...handled);
    const max = Math.max(...handled);
    assert.ok(min > 0, `every socket made progress: ${handled.join(', ')}`);
    assert.ok(min * 4 >= max, `no socket starved the others: ${handled.join(', ')}`);
  },
);

test('each socket is handled in order; the loop ends when the socket closes', async () => {
  const sock = new BusySocket(2000);
  const seen: number[] = [];
  const loop = runReceiveLoop(
    sock,
    (f) => seen.push(Number(f[0].toString())),
    () => false,
  );
  while (seen.length < 2000) await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    seen,
    Array.from({ length: 2000 }, (_, i) => i + 1),
  );
  sock.close();
  await loop; // resolves, does not throw
});

test('the loop stops handling messages once its owner says stop', async () => {
  const sock = new BusySocket();
  let stop = false;
  let handled = 0;
  const loop = runReceiveLoop(
    sock,
    () => {
      if (++handled === 100) stop = true;
    },
    () => stop,
  );
  await loop;
  assert.equal(handled, 100);
});

test('a receive error other than closing is passed on', async () => {
  const sock: ReceivingSocket = {
    closed: false,
    receive: () => Promise.reject(Object.assign(new Error('boom'), { code: 'EFSM' })),
  };
  await assert.rejects(
    runReceiveLoop(
      sock,
      () => undefined,
      () => false,
    ),
    /boom/,
  );
});
