// The comm-port client against a tiny TCP listener that records what it receives (as Gateway Provisioners'
// listener reads one JSON object to EOF), and against streams that fail the way an SSH forward fails.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { commRequest, requestShutdown, sendSignal, tcpConnector } from '../comm-port';

interface Received {
  text: string;
  /** Whether the client half-closed (EOF) after its request. */
  eof: boolean;
}

type Answer = 'close' | 'never' | { reply: string };

/** A comm-port stand-in: records each request; answers with nothing and closes, a reply, or never closes. */
class RecordingListener {
  readonly received: Received[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly next: ((r: Received) => void)[] = [];
  private constructor(
    readonly server: Server,
    private readonly answer: Answer,
  ) {}

  static async start(answer: Answer = 'close'): Promise<RecordingListener> {
    const server = createServer({ allowHalfOpen: true });
    const l = new RecordingListener(server, answer);
    server.on('connection', (s) => l.serve(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    listeners.push(l);
    return l;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The next request to arrive complete (with its EOF). */
  request(): Promise<Received> {
    return new Promise((resolve) => this.next.push(resolve));
  }

  private serve(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => {
      const r = { text, eof: true };
      this.received.push(r);
      this.next.shift()?.(r);
      if (this.answer === 'close') s.end();
      else if (this.answer !== 'never') s.end(this.answer.reply);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const listeners: RecordingListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

/** A port that certainly refuses: a listener's, once closed. */
async function closedPort(): Promise<number> {
  const l = await RecordingListener.start();
  const port = l.port;
  await l.close();
  listeners.splice(listeners.indexOf(l), 1);
  return port;
}

/** A stream like an ssh2 forward that the SSH server could not open (`reason` as ssh2 sets it). */
function failingForward(message: string, reason: number): () => Duplex {
  return () => {
    const d = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const err = Object.assign(new Error(message), { reason });
    queueMicrotask(() => d.destroy(err));
    return d;
  };
}

describe('commRequest', { timeout: 30_000 }, () => {
  test('a signal request arrives as one JSON object followed by EOF', async () => {
    const l = await RecordingListener.start();
    const arrived = l.request();
    assert.equal(await sendSignal(tcpConnector('127.0.0.1', l.port), 2), true);
    const got = await arrived;
    assert.deepEqual(JSON.parse(got.text), { signum: 2 });
    assert.equal(got.text, '{"signum":2}');
    assert.equal(got.eof, true);
  });

  test('a shutdown request is {"shutdown": 1}; Gateway Provisioners\' listener answers nothing (reply null)', async () => {
    const l = await RecordingListener.start();
    const arrived = l.request();
    assert.equal(await requestShutdown(tcpConnector('127.0.0.1', l.port)), true);
    assert.deepEqual(JSON.parse((await arrived).text), { shutdown: 1 });
    const arrived2 = l.request();
    const r = await commRequest(tcpConnector('127.0.0.1', l.port), { signum: 0 }, { readReply: true });
    assert.deepEqual(r, { delivered: true, reply: null });
    assert.equal((await arrived2).text, '{"signum":0}');
  });

  test('a refused connection means nothing listens: delivered false, not an error', async () => {
    const port = await closedPort();
    assert.deepEqual(await commRequest(tcpConnector('127.0.0.1', port), { signum: 0 }), {
      delivered: false,
      reply: null,
    });
    assert.equal(await sendSignal(tcpConnector('127.0.0.1', port), 0), false);
    assert.equal(await requestShutdown(tcpConnector('127.0.0.1', port)), false);
  });

  test('an SSH forward the server could not connect counts as refused; other forward failures throw', async () => {
    const refused = failingForward('(SSH) Channel open failure: Connection refused', 2);
    assert.equal(await sendSignal(refused, 0), false);
    const connectFailed = failingForward('(SSH) Channel open failure: connect failed', 2);
    assert.equal(await sendSignal(connectFailed, 0), false);
    const throwing = (): Duplex => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    };
    assert.equal(await sendSignal(throwing, 0), false);
    const prohibited = failingForward('(SSH) Channel open failure: administratively prohibited', 1);
    await assert.rejects(
      sendSignal(prohibited, 15),
      /request \{"signum":15\} failed: .*administratively prohibited/,
    );
  });

  test('reads and parses a reply when asked', async () => {
    const l = await RecordingListener.start({ reply: '{"ok": true, "pid": 12}' });
    const r = await commRequest(tcpConnector('127.0.0.1', l.port), { signum: 0 }, { readReply: true });
    assert.deepEqual(r, { delivered: true, reply: { ok: true, pid: 12 } });
    assert.equal(l.received[0].eof, true);
  });

  test('a reply that is not JSON is an error that shows it', async () => {
    const l = await RecordingListener.start({ reply: 'bogus reply' });
    await assert.rejects(
      commRequest(tcpConnector('127.0.0.1', l.port), { signum: 0 }, { readReply: true }),
      /reply to \{"signum":0\} is not JSON: bogus reply/,
    );
  });

  test('a comm port that does not answer in time is an error saying so', async () => {
    const l = await RecordingListener.start('never');
    const arrived = l.request();
    await assert.rejects(
      commRequest(tcpConnector('127.0.0.1', l.port), { signum: 0 }, { readReply: true, timeoutMs: 300 }),
      /The comm port did not answer in 300 ms/,
    );
    await arrived;
    // A stream that never takes the request (a forward that never opens) times out the same way.
    const stuck = (): Duplex => new Duplex({ read() {}, write() {} });
    await assert.rejects(
      sendSignal(stuck, 2, { timeoutMs: 200 }),
      /did not answer in 200 ms \(request \{"signum":2\}\)/,
    );
  });

  test('refuses a signal number that is no signal', async () => {
    await assert.rejects(sendSignal(tcpConnector('127.0.0.1', 1), -1), RangeError);
    await assert.rejects(sendSignal(tcpConnector('127.0.0.1', 1), 2.5), /not a signal/);
  });
});
