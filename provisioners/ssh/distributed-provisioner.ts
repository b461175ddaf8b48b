// Gateway Provisioners' distributed provisioner (reference §1.7) on an SSH cluster: a GP kernelspec's argv
// (launch_ipykernel.py, or any launcher that speaks their protocol v1, §2) runs unchanged on one of the hosts.
// Unlike GP, nothing connects to this computer: the response address is a loopback port on the host,
// reverse-forwarded over our SSH connection (reverse-responses.ts), and the kernel's five ports and its comm port
// are reached through forwards over the same connection (ssh-kernel-way.ts). Signals and shutdown go to the
// launcher's comm port (§2.5). The launcher runs in its own process group (setsid), which `kill -9 -<pgid>`
// over SSH ends when its comm port no longer answers. While the launch waits for the payload, the exec that
// started the launcher waits for it too, so a launcher that dies at start fails the launch at once with its
// output; after that the session is let go (sshd's MaxSessions, 10 by default, would cap kernels per host) and
// liveness is the comm port's, as in GP.
import { LINUX_SIGNALS } from '../signals';
import { describeExit } from '../zmq/heartbeat';
import { isRefused } from '../remote/comm-port';
import { shellQuote } from '../remote/launcher-protocol';
import type {
  ConnectionInfo,
  KernelProvisioner,
  LaunchBounds,
  LaunchRequest,
  LinkState,
  ProvisionerState,
  SignalNumbers,
} from '../types';
import { zmqPortsOf } from './kernel-tunnel';
import type { ReverseResponses } from './reverse-responses';
import type { SshConnection } from './ssh-connection';
import { SshKernelWay, readSavedKernel, waitByPolling, type SavedSshKernel } from './ssh-kernel-way';
import type { SshHostAccess } from './ssh-host-access';

export const DISTRIBUTED_PROVISIONER_NAME = 'distributed-provisioner';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The kernel as its launcher reported it (payload v1), seen from the host. */
type RemoteKernel = Omit<SavedSshKernel, 'host'>;

/** `metadata.kernel_provisioner.config`, under Gateway Provisioners' names (ours as a fallback). */
function readConfig(config: Record<string, unknown>): { hosts?: string[]; portRange?: string } {
  const list = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.filter((h): h is string => typeof h === 'string' && h !== '') : undefined;
  const hosts = list(config.remote_hosts) ?? list(config.hosts);
  const range = config.port_range;
  return {
    ...(hosts?.length ? { hosts } : {}),
    ...(typeof range === 'string' && range.trim() ? { portRange: range.trim() } : {}),
  };
}

/** `${NAME}` in kernelspec env values, from the merged env (unknown names stay as written, as in GP). */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, n: string) => env[n] ?? m);
}

export class DistributedProvisioner implements KernelProvisioner {
  readonly name = DISTRIBUTED_PROVISIONER_NAME;
  /** Each poll after a reconnect is a comm-port round trip over SSH. */
  readonly pollIntervalMs = 3000;
  readonly signals: SignalNumbers = LINUX_SIGNALS;

  private readonly way: SshKernelWay;
  private readonly config: { hosts?: string[]; portRange?: string };
  private req: LaunchRequest | undefined;
  private remote: RemoteKernel | undefined;
  /** `$!` of the launch: the launcher's pid and, through setsid, its process group. */
  private launcherPid = 0;
  /** The exec waiting for the launcher during launch; gone once it exited, the launch ended or the link dropped. */
  private watch: AbortController | undefined;
  private lastProbe = 0;
  private exitCode: number | null = null;
  /** Something was started on the host: cleanup makes sure none of it is left. */
  private attempted = false;

  constructor(
    readonly kernelId: string,
    config: Record<string, unknown>,
    private readonly access: SshHostAccess,
    private readonly responses: ReverseResponses,
  ) {
    this.config = readConfig(config);
    this.way = new SshKernelWay(kernelId, access);
  }

  get hasProcess(): boolean {
    return this.remote !== undefined && this.exitCode === null;
  }

  get hostName(): string | undefined {
    return this.way.hostName;
  }

  /** The launcher's output on the host (relative to the login's home). */
  get logFile(): string {
    return `.cache/gateway-desktop/gp-kernel-${this.kernelId}.log`;
  }

  /** The launcher's pid, for a cleanup that comes before its "pid" line did (a launch cut short). */
  private get pidFile(): string {
    return `.cache/gateway-desktop/gp-kernel-${this.kernelId}.pid`;
  }

  async preLaunch(req: LaunchRequest): Promise<void> {
    this.req = req;
    this.exitCode = null;
    this.way.chooseHost(req.env.KERNEL_REMOTE_HOST, this.config.hosts);
  }

  async launch(bounds: LaunchBounds): Promise<ConnectionInfo> {
    const req = this.req;
    const host = this.way.hostName;
    if (!req || !host) throw new Error('launch() before preLaunch()');
    bounds.progress('connecting', `Connecting to ${host}`);
    const conn = await this.way.connect(bounds.signal);
    const listener = await this.responses.listener();
    const responseAddress = await this.responses.addressOn(conn, host);
    // Waiting before the launcher starts: a payload nobody waits for is dropped.
    const payload = listener.waitFor(this.kernelId, bounds.signal);
    payload.catch(() => undefined);
    const portRange = this.config.portRange ?? this.clusterPortRange();
    const params: Record<string, string> = {
      kernel_id: this.kernelId,
      response_address: responseAddress,
      public_key: listener.publicKey,
      port_range: portRange,
    };
    const argv = req.spec.spec.argv.map((a) =>
      a.replace(/\{([A-Za-z0-9_]+)\}/g, (m, n: string) => params[n] ?? m),
    );
    const base: Record<string, string> = { ...req.env, KERNEL_ID: this.kernelId };
    const specEnv = Object.fromEntries(
      Object.entries(req.spec.spec.env ?? {}).map(([k, v]) => [k, expand(v, base)]),
    );
    // The kernelspec's env on top (as in GP), then what GP's launchers and bootstrap-kernel.sh read.
    const env: Record<string, string> = {
      ...base,
      ...specEnv,
      KERNEL_ID: this.kernelId,
      KERNEL_LANGUAGE:
        base.KERNEL_LANGUAGE ?? (req.spec.spec.language || 'unknown-kernel-language').toLowerCase(),
      RESPONSE_ADDRESS: responseAddress,
      PUBLIC_KEY: listener.publicKey,
      PORT_RANGE: portRange,
    };
    bounds.progress('spawning', `Starting ${argv[0]} on ${host}`);
    this.attempted = true;
    const { exited } = await this.start(conn, argv, env, bounds.signal);
    bounds.progress('waiting', `Waiting for the launcher on ${host} to report the kernel's ports`);
    const died = exited.then(async (code) => {
      if (code === null) return new Promise<never>(() => undefined); // watch lost: the deadline bounds the wait
      const tail = await this.outputTail().catch(() => '');
      throw new Error(
        `The launcher on ${host} exited (${describeExit(code, this.signals)}) before it reported the kernel's ` +
          `connection.` +
          (tail ? `\nLast output:\n${tail}` : ' It printed nothing.'),
      );
    });
    const p = await Promise.race([payload, died]);
    this.watch?.abort(); // reported: from now on the comm port says whether it lives
    this.watch = undefined;
    const ip = !p.ip || p.ip === '0.0.0.0' ? '127.0.0.1' : p.ip; // dialled from the host itself
    const pid = Number(p.pid);
    this.remote = {
      ip,
      ports: zmqPortsOf(p),
      commPort: p.comm_port,
      key: p.key,
      pid: Number.isInteger(pid) && pid > 0 ? pid : this.launcherPid,
      pgid: typeof p.pgid === 'number' && p.pgid > 0 ? p.pgid : this.launcherPid,
    };
    bounds.progress('connecting', `Kernel pid ${this.remote.pid} runs on ${host}; opening its tunnel`);
    const tunnel = await this.way.openTunnel({ ip, ports: this.remote.ports, commPort: p.comm_port });
    return tunnel.localConnection(p.key, req.spec.name);
  }

  async poll(): Promise<number | null> {
    if (this.exitCode !== null) return this.exitCode;
    const r = this.remote;
    if (!r) return this.attempted && !this.watch ? -1 : null;
    if (this.watch || !this.way.linkUp) return null; // the launcher's exec still waits; or unknown while down
    if (Date.now() - this.lastProbe < 1000) return null; // wait() and the launch poll often: one probe a second
    this.lastProbe = Date.now();
    const reply = await this.way.comm(r.ip, r.commPort, { signum: 0 }, false).catch(() => undefined);
    if (reply !== 'refused') return null; // delivered, or failed on the way: ask again next time
    // The comm port is gone (the listener exits with its kernel, or after {"shutdown": 1}): the kernel lives
    // while its heartbeat port accepts (a channel, not an exec: no session, no process on the host).
    const hb = await this.way.dial(r.ip, r.ports.hb_port).then(
      (ch) => void ch.destroy(),
      (err: unknown) => err,
    );
    if (!isRefused(hb)) return null; // it accepts, or the way failed (not the kernel): ask again
    this.exitCode = -1;
    return this.exitCode;
  }

  async sendSignal(signal: NodeJS.Signals): Promise<void> {
    const signum = this.signals[signal];
    if (signum === undefined) throw new Error(`${signal} has no number on Linux`);
    const r = this.remote;
    if (!r) throw new Error(`kernel ${this.kernelId} has not been launched`);
    if ((await this.way.comm(r.ip, r.commPort, { signum }, false)) !== 'refused') return;
    if (signal === 'SIGTERM' || signal === 'SIGKILL') return this.signalGroup(signum);
    throw new Error(`the launcher of kernel ${this.kernelId} is gone (its comm port refuses)`);
  }

  /** jupyter_client's hook after shutdown_request: the launcher's listener leaves (§2.5). */
  async shutdownRequested(): Promise<void> {
    const r = this.remote;
    if (r) await this.way.comm(r.ip, r.commPort, { shutdown: 1 }, false).catch(() => undefined);
  }

  async terminate(): Promise<void> {
    await this.sendSignal('SIGTERM').catch(() => undefined);
  }

  /** SIGKILL through the comm port, then to the launcher's whole group over SSH (its listener included). */
  async kill(): Promise<void> {
    const r = this.remote;
    if (r) await this.way.comm(r.ip, r.commPort, { signum: 9 }, false).catch(() => undefined);
    await this.signalGroup(9).catch(() => undefined);
  }

  wait(timeoutMs: number): Promise<number | null> {
    return waitByPolling(() => this.poll(), timeoutMs);
  }

  async cleanup(restart = false): Promise<void> {
    if (this.attempted) {
      // Whatever of the launcher's group is left goes (a no-op after a clean exit), with its pid file and log.
      const files = shellQuote(restart ? [this.pidFile] : [this.pidFile, this.logFile]);
      const pgid = this.remote?.pgid || this.launcherPid;
      const group = pgid ? String(pgid) : `$(cat ${shellQuote([this.pidFile])} 2>/dev/null)`;
      const cmd = `g=${group}; [ -n "$g" ] && kill -9 -"$g" 2>/dev/null; rm -f ${files}; true`;
      await this.way
        .run(['sh', '-c', cmd])
        .catch((err: Error) =>
          this.access.log(`kernel ${this.kernelId}: cleanup on ${this.hostName} failed: ${err.message}`),
        );
    }
    this.watch?.abort();
    this.watch = undefined;
    this.attempted = false;
    this.remote = undefined;
    this.launcherPid = 0;
    await this.way.closeTunnel();
    if (!restart) await this.way.release();
  }

  /** Stop managing without stopping the kernel (its tunnel and link lease go). */
  async detach(): Promise<void> {
    this.watch?.abort();
    this.watch = undefined;
    await this.way.release();
  }

  getProvisionerInfo(): ProvisionerState {
    const r = this.remote;
    const host = this.hostName;
    if (!r || !host) throw new Error(`kernel ${this.kernelId} has not been launched`);
    return {
      provisioner: DISTRIBUTED_PROVISIONER_NAME,
      kernelId: this.kernelId,
      connection: { transport: 'tcp', ip: r.ip, ...r.ports, key: r.key, signature_scheme: 'hmac-sha256' },
      details: { host, ip: r.ip, commPort: r.commPort, pid: r.pid, pgid: r.pgid, log: this.logFile },
    };
  }

  async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    const saved = readSavedKernel(state);
    this.way.chooseHost(saved.host);
    this.remote = saved;
    this.launcherPid = saved.pgid;
    this.attempted = true;
    try {
      return await this.way.reopen(saved, true);
    } catch (err) {
      this.attempted = false;
      await this.detach();
      throw err;
    }
  }

  async outputTail(maxChars = 2000): Promise<string> {
    return this.way.tail(this.attempted ? this.logFile : undefined, maxChars);
  }

  onLinkChange(listener: (state: LinkState) => void): () => void {
    return this.way.onLinkChange(listener);
  }

  /** `kill -<signum> -<pgid>` over SSH: the launcher's whole group (kernel, listener), whatever its comm port does. */
  private async signalGroup(signum: number): Promise<void> {
    const pgid = this.remote?.pgid || this.launcherPid;
    if (pgid > 1) await this.way.run(['sh', '-c', `kill -${signum} -${pgid} 2>/dev/null; true`]);
  }

  /** `lo..hi` of the cluster, or GP's "no range". */
  private clusterPortRange(): string {
    const r = this.access.portRange;
    return r ? `${r.lo}..${r.hi}` : '0..0';
  }

  /**
   * Start the launcher detached (nohup, its own group, output to its log) from a shell that waits for it.
   * Resolves once its pid is known, with a promise of its exit code (null: the wait was lost with the connection
   * or given up by cleanup).
   */
  private start(
    conn: SshConnection,
    argv: string[],
    env: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ exited: Promise<number | null> }> {
    const exports = Object.entries(env)
      .filter(([k]) => ENV_NAME.test(k))
      .map(([k, v]) => `export ${k}=${shellQuote([v])}`);
    const log = shellQuote([this.logFile]);
    const script = [
      'umask 077',
      'mkdir -p .cache/gateway-desktop',
      ...exports,
      's=$(command -v setsid)',
      `$s nohup ${shellQuote(argv)} > ${log} 2>&1 < /dev/null &`,
      'pid=$!',
      `echo $pid > ${shellQuote([this.pidFile])}`,
      'echo "pid $pid"',
      'wait $pid',
      'echo "exit $?"',
    ].join('\n');
    const watch = new AbortController();
    this.watch = watch;
    return new Promise((resolve, reject) => {
      let out = '';
      let started = false;
      const onAbort = (): void => watch.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const done = conn.exec(script, {
        signal: watch.signal,
        onStdout: (chunk) => {
          out += chunk.toString('utf8');
          const m = /^pid (\d+)$/m.exec(out);
          if (m && !started) {
            started = true;
            this.launcherPid = Number(m[1]);
            signal.removeEventListener('abort', onAbort); // from now on, cleanup ends the launcher
            resolve({ exited });
          }
        },
      });
      const exited = done.then(
        (res): number | null => {
          const m = /^exit (\d+)$/m.exec(res.stdout);
          if (!m) return null;
          const code = Number(m[1]);
          return code > 128 ? -(code - 128) : code; // the shell's 128+n for "killed by signal n"
        },
        () => null,
      );
      void exited.then((code) => {
        // Only this launch's watch may say it exited (a restart's old one was aborted by cleanup).
        if (this.watch === watch) {
          this.watch = undefined;
          if (code !== null) this.exitCode = code;
        }
        if (!started)
          done.then(
            (res) =>
              reject(new Error(`The launch on ${this.hostName} failed: ${res.stderr.trim() || 'no output'}`)),
            (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
          );
      });
    });
  }
}
