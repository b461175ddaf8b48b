// The way from this computer to one kernel on an SSH host, as every SSH-backed provisioner needs it: the host
// the balancer chose, a lease on that host's shared reconnecting link, the kernel's tunnel, comm-port requests
// over direct-tcpip channels, commands and log tails over exec, and link state reported up only once the
// tunnel carries bytes again. Which launcher started the kernel (ours or Gateway Provisioners') is not its
// business.
import type { Duplex } from 'node:stream';
import type { PoolLease } from '../context';
import { commRequest, isRefused } from '../remote/comm-port';
import { shellQuote } from '../remote/launcher-protocol';
import type { ConnectionInfo, JsonValue, LinkState, ProvisionerState } from '../types';
import { KernelTunnel, zmqPortsOf, type RemotePorts, type ZmqPortName } from './kernel-tunnel';
import type { SshConnection } from './ssh-connection';
import type { SshLink } from './ssh-link';
import type { SshHostAccess } from './ssh-host-access';

const COMM_TIMEOUT_MS = 8000;

/** What both SSH provisioners save of a kernel (getProvisionerInfo) and need to reach it again. */
export interface SavedSshKernel {
  host: string;
  ip: string;
  ports: Record<ZmqPortName, number>;
  commPort: number;
  key: string;
  /** 0 when not saved. */
  pid: number;
  pgid: number;
}

/** The saved state's host, ports and key; throws when it names no host or comm port. */
export function readSavedKernel(state: ProvisionerState): SavedSshKernel {
  const d = state.details;
  const c = state.connection;
  if (typeof d.host !== 'string' || typeof d.commPort !== 'number')
    throw new Error(`saved state of kernel ${state.kernelId} names no host or comm port`);
  return {
    host: d.host,
    ip: c.ip,
    ports: zmqPortsOf(c),
    commPort: d.commPort,
    key: c.key,
    pid: typeof d.pid === 'number' ? d.pid : 0,
    pgid: typeof d.pgid === 'number' ? d.pgid : 0,
  };
}

export class SshKernelWay {
  private host: { host: string; release(): void } | undefined;
  private lease: PoolLease<SshLink> | undefined;
  private tunnelNow: KernelTunnel | undefined;
  private readonly linkListeners = new Set<(s: LinkState) => void>();
  private unsubscribeLink: (() => void) | undefined;

  constructor(
    private readonly kernelId: string,
    // Only hosts and links: a Docker kernel on an ssh:// engine's host uses this way too (no launcher upload).
    private readonly access: Pick<SshHostAccess, 'chooseHost' | 'link'>,
  ) {}

  /** The host the kernel runs on, once chosen. */
  get hostName(): string | undefined {
    return this.host?.host;
  }

  get tunnel(): KernelTunnel | undefined {
    return this.tunnelNow;
  }

  /** Choose the host unless one is chosen already (a restart stays on its host). */
  chooseHost(pinned?: string, among?: readonly string[]): string {
    this.host ??= this.access.chooseHost(pinned, among);
    return this.host.host;
  }

  /** A lease on the host's shared link (opened by the first kernel there), its state relayed to listeners. */
  async acquire(signal?: AbortSignal): Promise<SshLink> {
    const host = this.host?.host;
    if (!host) throw new Error(`kernel ${this.kernelId} has no host yet`);
    this.lease ??= await this.access.link(host, signal);
    this.watchLink(this.lease.value);
    return this.lease.value;
  }

  /** The host's connection of the moment, connecting (and waiting for a reconnect) as needed. */
  async connect(signal?: AbortSignal): Promise<SshConnection> {
    return (await this.acquire(signal)).ready(signal);
  }

  /** The connection when the link is up, else null. */
  current(): SshConnection | null {
    return this.lease?.value.current() ?? null;
  }

  get linkUp(): boolean {
    return this.current() !== null;
  }

  async openTunnel(remote: RemotePorts): Promise<KernelTunnel> {
    await this.closeTunnel();
    this.tunnelNow = await KernelTunnel.open(remote, (h, p) => this.dial(h, p));
    return this.tunnelNow;
  }

  /**
   * The way back to a saved kernel on the host chosen for it: a lease on the link (with `waitForLink`, once it
   * is connected), a new tunnel to its ports, and the connection through it.
   */
  async reopen(saved: SavedSshKernel, waitForLink: boolean): Promise<ConnectionInfo> {
    await (waitForLink ? this.connect() : this.acquire());
    const tunnel = await this.openTunnel({ ip: saved.ip, ports: saved.ports, commPort: saved.commPort });
    return tunnel.localConnection(saved.key);
  }

  async closeTunnel(): Promise<void> {
    const t = this.tunnelNow;
    this.tunnelNow = undefined;
    await t?.close();
  }

  /** A channel to `host:port` as seen from the kernel's host, over the connection of the moment. */
  async dial(host: string, port: number): Promise<Duplex> {
    const conn = this.current();
    if (!conn)
      throw new Error(this.lease ? 'the SSH link is down' : `kernel ${this.kernelId} has no SSH link`);
    return conn.forwardOut(host, port);
  }

  /**
   * One comm-port request: 'refused' when nothing listens there (the launcher is gone), else the reply (null
   * when the launcher answers nothing, as Gateway Provisioners' does). Throws when the request failed on the way.
   */
  async comm(
    ip: string,
    port: number,
    body: { [k: string]: JsonValue },
    readReply: boolean,
  ): Promise<'refused' | JsonValue | null> {
    let channel: Duplex;
    try {
      channel = await this.dial(ip, port);
    } catch (err) {
      if (isRefused(err)) return 'refused';
      throw err;
    }
    const res = await commRequest(() => channel, body, { timeoutMs: COMM_TIMEOUT_MS, readReply });
    return res.delivered ? res.reply : 'refused';
  }

  /** Run `args` on the host (quoted), over the link of the moment. */
  async run(args: string[], timeoutMs = 20_000): Promise<string> {
    const conn = this.current();
    if (!conn) throw new Error('the SSH link is down');
    return (await conn.exec(shellQuote(args), { timeoutMs })).stdout;
  }

  /** The last `maxChars` of a file on the host ('' when the link is down). */
  async tail(file: string | undefined, maxChars: number): Promise<string> {
    const conn = this.current();
    if (!file || !conn) return '';
    const res = await conn.exec(`tail -c ${Math.max(1, Math.floor(maxChars))} ${shellQuote([file])}`, {
      timeoutMs: 5000,
    });
    return res.stdout.trim();
  }

  onLinkChange(listener: (state: LinkState) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  /** Let go of the tunnel, the link lease and the host's count. */
  async release(): Promise<void> {
    await this.closeTunnel();
    this.unsubscribeLink?.();
    this.unsubscribeLink = undefined;
    const lease = this.lease;
    this.lease = undefined;
    void lease?.release();
    this.host?.release();
    this.host = undefined;
  }

  private watchLink(link: SshLink): void {
    if (this.unsubscribeLink) return;
    this.unsubscribeLink = link.onState((s) => {
      const emit = (): void => {
        for (const l of [...this.linkListeners]) l(s);
      };
      // Up only once the kernel's iopub, shell and control flow again through the new connection.
      if (s.up && this.tunnelNow)
        void this.tunnelNow.whenCarrying(['iopub_port', 'shell_port', 'control_port'], 5000).then(emit);
      else emit();
    });
  }
}

/** Poll until an exit code or `timeoutMs` (remote kernels: each poll is a round trip). */
export async function waitByPolling(
  poll: () => Promise<number | null>,
  timeoutMs: number,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = await poll();
    if (code !== null || Date.now() >= deadline) return code;
    await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
  }
}
