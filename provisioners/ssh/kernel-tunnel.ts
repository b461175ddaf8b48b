// The way from this computer to one remote kernel: a local port on 127.0.0.1 for each of its five ZMQ ports
// and its launcher's comm port, each carried over the SSH connection (ssh2 direct-tcpip channels, no `ssh`
// child processes). Nothing on the remote host has to accept an inbound connection from outside: the
// forwards end at the kernel's loopback ports there. The local ports stay the same across reconnects, so
// ZMQ sockets dialled once keep working when the link comes back.
import type { Duplex } from 'node:stream';
import type { ConnectionInfo } from '../types';
import { LocalForward } from './local-forward';

export const ZMQ_PORT_NAMES = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;
export type ZmqPortName = (typeof ZMQ_PORT_NAMES)[number];

/** The five kernel ports of a connection file, a report or a payload (and nothing else it holds). */
export function zmqPortsOf(o: Record<ZmqPortName, number>): Record<ZmqPortName, number> {
  return Object.fromEntries(ZMQ_PORT_NAMES.map((n) => [n, o[n]])) as Record<ZmqPortName, number>;
}

export interface RemotePorts {
  /** Address the kernel listens on, as seen from the remote host (usually 127.0.0.1). */
  ip: string;
  ports: Record<ZmqPortName, number>;
  commPort: number;
}

/** Opens a channel to `host:port` as seen from the remote host (over whichever connection is up now). */
export type RemoteDialer = (host: string, port: number) => Promise<Duplex>;

export class KernelTunnel {
  private constructor(
    private readonly forwards: Map<ZmqPortName | 'comm', LocalForward>,
    readonly remote: RemotePorts,
  ) {}

  static async open(remote: RemotePorts, dial: RemoteDialer): Promise<KernelTunnel> {
    const forwards = new Map<ZmqPortName | 'comm', LocalForward>();
    const connect = (port: number): Promise<Duplex> => dial(remote.ip, port);
    try {
      for (const name of ZMQ_PORT_NAMES)
        forwards.set(name, await LocalForward.open(remote.ports[name], connect, remote.ip));
      forwards.set('comm', await LocalForward.open(remote.commPort, connect, remote.ip));
    } catch (err) {
      await Promise.allSettled([...forwards.values()].map((f) => f.close()));
      throw err;
    }
    return new KernelTunnel(forwards, remote);
  }

  /** The connection to dial locally: the kernel's key and scheme with the tunnel's local ports. */
  localConnection(key: string, kernelName?: string): ConnectionInfo {
    const port = (n: ZmqPortName): number => this.forwards.get(n)!.localPort;
    return {
      transport: 'tcp',
      ip: '127.0.0.1',
      shell_port: port('shell_port'),
      iopub_port: port('iopub_port'),
      stdin_port: port('stdin_port'),
      control_port: port('control_port'),
      hb_port: port('hb_port'),
      key,
      signature_scheme: 'hmac-sha256',
      ...(kernelName ? { kernel_name: kernelName } : {}),
    };
  }

  /**
   * Resolves once the client's sockets on `ports` talk to the kernel again (each forward heard from its remote
   * end), or after `timeoutMs`. After a reconnect, messages the kernel publishes before iopub is back are lost:
   * the link is reported up only after this.
   */
  async whenCarrying(ports: readonly ZmqPortName[], timeoutMs: number): Promise<void> {
    const timeout = AbortSignal.timeout(timeoutMs);
    await Promise.all(ports.map((p) => this.forwards.get(p)?.whenAnswered(timeout)));
  }

  /** Local end of the comm port. */
  get commPort(): number {
    return this.forwards.get('comm')!.localPort;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.forwards.values()].map((f) => f.close()));
    this.forwards.clear();
  }
}
