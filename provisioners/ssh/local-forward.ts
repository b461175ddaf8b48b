// One local TCP port on 127.0.0.1 whose every connection is carried to a remote port (`ssh -L`, in process).
// Each accepted socket asks `connect` for a fresh channel, so a forward outlives the SSH connection it first
// used: after a reconnect, ZMQ's own reconnect lands on a channel of the new connection, on the same local port.
import net from 'node:net';
import type { Duplex } from 'node:stream';

export type ChannelOpener = (port: number) => Promise<Duplex>;

export class LocalForward {
  private readonly sockets = new Set<net.Socket>();
  private readonly channels = new Set<Duplex>();
  /** Channels that have carried bytes back from the remote end (a live peer, not just an open channel). */
  private readonly answered = new Set<Duplex>();
  private readonly answerWaiters = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    private remotePort: number,
    private readonly connect: ChannelOpener,
    /** The remote address, for logs. */
    readonly remoteHost: string,
  ) {
    server.on('connection', (socket) => this.carry(socket));
  }

  static async open(
    remotePort: number,
    connect: ChannelOpener,
    remoteHost = '127.0.0.1',
  ): Promise<LocalForward> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new LocalForward(server, remotePort, connect, remoteHost);
  }

  get localPort(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves once a connection through this forward has heard from the remote port (e.g. a ZMTP greeting). */
  whenAnswered(signal?: AbortSignal): Promise<void> {
    if (this.answered.size > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.answerWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.answerWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Carry new connections to another remote port (a re-launched kernel); open ones are dropped. */
  retarget(remotePort: number): void {
    this.remotePort = remotePort;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    for (const c of this.channels) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private carry(socket: net.Socket): void {
    if (this.closed) return void socket.destroy();
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.pause(); // hold what the client sends until the channel is open
    this.connect(this.remotePort).then(
      (channel) => {
        if (socket.destroyed || this.closed) return void channel.destroy();
        this.channels.add(channel);
        const end = (): void => {
          socket.destroy();
          channel.destroy();
          this.channels.delete(channel);
          this.answered.delete(channel);
        };
        channel.once('data', () => {
          this.answered.add(channel);
          for (const w of [...this.answerWaiters]) w();
        });
        channel.on('error', end);
        channel.on('close', end);
        socket.on('close', end);
        socket.pipe(channel);
        channel.pipe(socket);
        socket.resume();
      },
      // No channel (the link is down): drop the socket; ZMQ retries, and a later try meets the new link.
      () => socket.destroy(),
    );
  }
}
