// How this computer reaches a kernel in its container. Directly: 127.0.0.1 on a local engine's host network, the
// engine's host for tcp://, the container's IP on other networks, or the cluster's kernel address. On an ssh://
// engine's host network: through the SSH connection to that host (SshKernelWay: one pooled, reconnecting link
// per host; local forwards to the kernel's 127.0.0.1 ports there), so nothing but sshd has to be reachable and
// the kernel's ports stay on the host's loopback. A dropped link is reported to the kernel manager
// (onLinkChange), and the tunnel's local ports stay the same when it comes back.
import { connect as netConnect } from 'node:net';
import type Docker from 'dockerode';
import { commRequest, type CommResult } from '../remote/comm-port';
import type { LauncherReport } from '../remote/launcher-protocol';
import { SshKernelWay } from '../ssh/ssh-kernel-way';
import type { ZmqPortName } from '../ssh/kernel-tunnel';
import type { ConnectionInfo, JsonValue, LinkState } from '../types';
import { dialAddress, type DockerKernelHost } from './docker-host';

/** The kernel's ports on the engine's host, as the launcher reported them (and as saved state keeps them). */
export function reportedConnection(
  r: LauncherReport,
  ip: string,
  key: string,
  name?: string,
): ConnectionInfo {
  return {
    transport: 'tcp',
    ip,
    shell_port: r.shellPort,
    iopub_port: r.iopubPort,
    stdin_port: r.stdinPort,
    control_port: r.controlPort,
    hb_port: r.hbPort,
    key,
    signature_scheme: 'hmac-sha256',
    ...(name ? { kernel_name: name } : {}),
  };
}

export class KernelReach {
  private where: string | undefined;
  /** Set when the kernel's ports are carried over SSH; kept across restarts (its link listeners stay). */
  private readonly way: SshKernelWay | undefined;

  constructor(
    kernelId: string,
    private readonly host: DockerKernelHost,
  ) {
    const ssh = host.ssh;
    if (ssh)
      this.way = new SshKernelWay(kernelId, {
        chooseHost: () => ({ host: ssh.target.host, release: () => undefined }),
        link: (_host, signal) => ssh.link(signal),
      });
  }

  /** Whether the kernel binds the engine host's loopback and is reached over SSH. */
  get viaSsh(): boolean {
    return this.way !== undefined;
  }

  /** Where the kernel's ports are dialled from this computer's side (saved for re-attach). */
  get address(): string | undefined {
    return this.where;
  }

  /** Open the way to a kernel that just reported (or, with `address`, to a saved one). */
  async open(
    report: LauncherReport,
    from: { container: Docker.Container } | { address: string },
    signal?: AbortSignal,
  ): Promise<void> {
    if (!this.way) {
      this.where = 'address' in from ? from.address : await dialAddress(this.host, from.container);
      return;
    }
    this.way.chooseHost();
    await this.way.connect(signal);
    await this.way.openTunnel({ ip: '127.0.0.1', ports: portsOf(report), commPort: report.commPort });
    this.where = '127.0.0.1';
  }

  /** The connection the app's sockets dial: the tunnel's local ports, or the kernel's own. */
  connection(r: LauncherReport, key: string, name?: string): ConnectionInfo {
    const tunnel = this.way?.tunnel;
    if (tunnel) return tunnel.localConnection(key, name);
    if (!this.where) throw new Error('the way to the kernel is not open');
    return reportedConnection(r, this.where, key, name);
  }

  /** One comm-port request (to the engine host's 127.0.0.1 over SSH, or dialled directly). */
  async comm(r: LauncherReport, body: { [k: string]: JsonValue }): Promise<CommResult> {
    if (this.way) {
      const reply = await this.way.comm('127.0.0.1', r.commPort, body, true);
      return reply === 'refused' ? { delivered: false, reply: null } : { delivered: true, reply };
    }
    const address = this.where;
    if (!address) return { delivered: false, reply: null };
    return commRequest(() => netConnect(r.commPort, address), body, { readReply: true });
  }

  onLinkChange(listener: (state: LinkState) => void): () => void {
    return this.way?.onLinkChange(listener) ?? (() => undefined);
  }

  /** Close the tunnel and give back the link lease (the link closes with its last kernel). */
  async close(): Promise<void> {
    this.where = undefined;
    await this.way?.release();
  }
}

function portsOf(r: LauncherReport): Record<ZmqPortName, number> {
  return {
    shell_port: r.shellPort,
    iopub_port: r.iopubPort,
    stdin_port: r.stdinPort,
    control_port: r.controlPort,
    hb_port: r.hbPort,
  };
}
