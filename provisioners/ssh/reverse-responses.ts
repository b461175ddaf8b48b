// Where Gateway Provisioners' launchers on SSH hosts send their connection info. Their protocol has the launcher
// connect to a "response address"; here that address is a port on the host's own loopback, reverse-forwarded
// over the SSH connection this computer opened (`ssh -R`, in process), so the payload reaches the app's response
// listener without anything on the network connecting to this computer. One listener (one RSA key pair) per
// cluster; one reverse forward per SSH connection, shared by the kernels on that host.
import { V1ResponseListener } from '../remote/response-listener';
import type { InboundForward, SshConnection } from './ssh-connection';

export class ReverseResponses {
  private started: Promise<V1ResponseListener> | undefined;
  private readonly forwards = new WeakMap<SshConnection, Promise<InboundForward>>();
  private closed = false;

  constructor(private readonly log: (message: string) => void) {}

  /** The listener (key pair made at first use); payloads are routed to waiting kernels by kernel id. */
  listener(): Promise<V1ResponseListener> {
    if (this.closed) return Promise.reject(new Error('the response listener is closed'));
    // Its own TCP port stays on 127.0.0.1 and unused: payloads arrive as forwarded streams (accept()).
    this.started ??= V1ResponseListener.start({ log: this.log });
    return this.started;
  }

  /** `127.0.0.1:<port>` on the host of `conn`, the reverse forward opened once per connection. */
  async addressOn(conn: SshConnection, host: string): Promise<string> {
    const listener = await this.listener();
    let fwd = this.forwards.get(conn);
    if (!fwd) {
      fwd = conn.forwardIn('127.0.0.1', 0, (stream) =>
        listener.accept(stream, `the reverse forward on ${host}`),
      );
      this.forwards.set(conn, fwd);
      fwd.catch(() => this.forwards.delete(conn));
    }
    return `127.0.0.1:${(await fwd).port}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    const l = this.started;
    this.started = undefined;
    await (await l?.catch(() => undefined))?.close();
  }
}
