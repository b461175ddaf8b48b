// The SSH provisioner: a kernel on a remote host, started there by our launcher (GDL/1, launcher-protocol.ts)
// over an SSH connection that the laptop opens. Nothing connects back: the launcher reports its ports on the
// exec's stdout (signed with the kernel's key), and the kernel's ports and comm port are reached through
// forwards over the same connection. A dropped connection is a link down (the kernel is `disconnected`, not
// dead); the link reconnects and the tunnels' local ports stay. The launcher's lease stops the kernel when
// this app has not asked about it for a while (a laptop that crashed or went away), unless it outlives the app.
import { randomUUID } from 'node:crypto';
import { abortError } from '../abort';
import {
  launchCommandArgs,
  parseReport,
  shellQuote,
  statusCommandArgs,
  stdinLine,
  stopCommandArgs,
  type LauncherReport,
} from '../remote/launcher-protocol';
import { LINUX_SIGNALS } from '../signals';
import type {
  ConnectionInfo,
  JsonValue,
  KernelProvisioner,
  LaunchBounds,
  LaunchRequest,
  LinkState,
  ProvisionerState,
  SignalNumbers,
} from '../types';
import { readConfig, type SshHostAccess, type SshProvisionerConfig } from './ssh-host-access';
import { SshKernelWay, readSavedKernel, waitByPolling } from './ssh-kernel-way';

export type { SshHostAccess, SshProvisionerConfig } from './ssh-host-access';

export const SSH_PROVISIONER_NAME = 'ssh-provisioner';

const POLL_INTERVAL_MS = 3000;

export class SshProvisioner implements KernelProvisioner {
  readonly name = SSH_PROVISIONER_NAME;
  /** A status request is a round trip over SSH: every 3 s, not every second. */
  readonly pollIntervalMs = POLL_INTERVAL_MS;
  readonly signals: SignalNumbers = LINUX_SIGNALS;

  private readonly config: SshProvisionerConfig;
  private req: LaunchRequest | undefined;
  private key = '';
  /** Host, link lease, tunnel and link state (shared with the distributed provisioner). */
  private readonly way: SshKernelWay;
  private report: LauncherReport | undefined;
  private launcherFile: string | undefined;
  private exitCode: number | null = null;
  /** A launch was sent: cleanup must make sure nothing of it is left on the host. */
  private attempted = false;

  constructor(
    readonly kernelId: string,
    config: Record<string, unknown>,
    private readonly access: SshHostAccess,
    /** Outlives the app ("Leave running"): no lease. */
    private readonly outlivesApp = false,
  ) {
    this.config = readConfig(config);
    this.way = new SshKernelWay(kernelId, access);
  }

  get hasProcess(): boolean {
    return this.report !== undefined && this.exitCode === null;
  }

  /** The host the kernel runs on (after launch or re-attach). */
  get hostName(): string | undefined {
    return this.way.hostName;
  }

  async preLaunch(req: LaunchRequest): Promise<void> {
    this.req = req;
    this.key = randomUUID();
    this.exitCode = null;
    const pinned = req.env.KERNEL_REMOTE_HOST;
    // A restart stays on its host; a new kernel takes the balancer's pick.
    this.way.chooseHost(pinned, this.config.hosts);
  }

  async launch(bounds: LaunchBounds): Promise<ConnectionInfo> {
    const req = this.req;
    const host = this.way.hostName;
    if (!req || !host) throw new Error('launch() before preLaunch()');
    bounds.progress('connecting', `Connecting to ${host}`);
    const conn = await this.way.connect(bounds.signal);
    bounds.progress('preparing', `Checking the launcher on ${host}`);
    const launcherFile = await this.access.ensureLauncher(conn, bounds.signal);
    this.launcherFile = launcherFile;
    const python = this.config.python ?? this.access.python;
    const args = launchCommandArgs({
      python,
      launcherFile,
      kernelId: this.kernelId,
      argv: req.spec.spec.argv,
      ...(this.access.portRange ? { portRange: this.access.portRange } : {}),
      leaseSeconds: this.outlivesApp ? 0 : this.access.leaseSeconds,
    });
    const env = { ...(req.spec.spec.env ?? {}), ...req.env, KERNEL_ID: this.kernelId };
    bounds.progress('spawning', `Starting the kernel on ${host}`);
    this.attempted = true;
    const remaining = Math.max(1000, bounds.deadline - Date.now());
    const res = await conn.exec(shellQuote(args), {
      stdin: stdinLine(this.key, env),
      signal: bounds.signal,
      timeoutMs: remaining,
    });
    if (bounds.signal.aborted) throw abortError();
    const report = parseReport(res.stdout + (res.stdout ? '' : res.stderr), this.key, this.kernelId);
    this.report = report;
    bounds.progress('connecting', `Kernel pid ${report.pid} runs on ${host}; opening its tunnel`);
    const tunnel = await this.way.openTunnel({
      ip: report.ip,
      ports: {
        shell_port: report.shellPort,
        iopub_port: report.iopubPort,
        stdin_port: report.stdinPort,
        control_port: report.controlPort,
        hb_port: report.hbPort,
      },
      commPort: report.commPort,
    });
    return tunnel.localConnection(this.key, req.spec.name);
  }

  async poll(): Promise<number | null> {
    if (this.exitCode !== null || !this.report) return this.exitCode ?? (this.attempted ? -1 : null);
    if (!this.way.linkUp) return null; // link down: unknown, not dead
    const reply = await this.comm({ status: 1 }).catch(() => undefined);
    if (reply === undefined) return null; // the request failed on the way: ask again next time
    if (reply === 'refused') {
      // The launcher is gone; it takes its kernel with it, unless it was killed alone: ask the host.
      const st = await this.launcherCommand('status').catch(() => undefined);
      if (st && /"alive":\s*true/.test(st)) return null;
      this.exitCode = -1;
      return this.exitCode;
    }
    if (reply.alive === false) {
      this.exitCode = typeof reply.returncode === 'number' ? reply.returncode : -1;
      return this.exitCode;
    }
    return null;
  }

  async sendSignal(signal: NodeJS.Signals): Promise<void> {
    const signum = this.signals[signal];
    if (signum === undefined) throw new Error(`${signal} has no number on Linux`);
    const reply = await this.comm({ signum });
    if (reply === 'refused') throw new Error(`the launcher of kernel ${this.kernelId} is gone`);
    if (reply.ok === false && reply.alive !== false)
      throw new Error(`the launcher refused ${signal}: ${String(reply.error ?? 'no reason given')}`);
  }

  async terminate(): Promise<void> {
    await this.sendSignal('SIGTERM').catch(() => undefined);
  }

  async kill(): Promise<void> {
    await this.sendSignal('SIGKILL').catch(() => undefined);
  }

  wait(timeoutMs: number): Promise<number | null> {
    return waitByPolling(() => this.poll(), timeoutMs);
  }

  /** Ask the launcher to stop the kernel and exit; without an answer, stop it with the launcher's CLI. */
  async cleanup(restart = false): Promise<void> {
    if (this.attempted) {
      const reply = this.report ? await this.comm({ shutdown: 1 }).catch(() => undefined) : undefined;
      if (reply === undefined || reply === 'refused')
        await this.launcherCommand('stop').catch((err: Error) =>
          this.access.log(`kernel ${this.kernelId}: stop on ${this.hostName} failed: ${err.message}`),
        );
    }
    this.attempted = false;
    this.report = undefined;
    await this.way.closeTunnel();
    if (restart) return; // the same host and link serve the next launch
    await this.way.release();
  }

  /** "Leave running": the kernel must not stop when this app stops asking about it. */
  keepRunning(): Promise<void> {
    return this.setLease(0);
  }

  /** After a re-attach the app watches the kernel again: its lease applies again (none if it outlives the app). */
  watchAgain(): Promise<void> {
    return this.setLease(this.outlivesApp ? 0 : this.access.leaseSeconds);
  }

  /** Stop managing without stopping the kernel (its tunnel and link lease go; the kernel stays). */
  async detach(): Promise<void> {
    await this.way.release();
  }

  getProvisionerInfo(): ProvisionerState {
    const r = this.report;
    const host = this.way.hostName;
    if (!r || !host) throw new Error(`kernel ${this.kernelId} has not been launched`);
    const details: { [k: string]: JsonValue } = {
      host,
      ip: r.ip,
      commPort: r.commPort,
      pid: r.pid,
      pgid: r.pgid,
      log: r.log,
      launcherFile: this.launcherFile ?? null,
    };
    return {
      provisioner: SSH_PROVISIONER_NAME,
      kernelId: this.kernelId,
      connection: {
        transport: 'tcp',
        ip: r.ip,
        shell_port: r.shellPort,
        iopub_port: r.iopubPort,
        stdin_port: r.stdinPort,
        control_port: r.controlPort,
        hb_port: r.hbPort,
        key: this.key,
        signature_scheme: 'hmac-sha256',
      },
      details,
    };
  }

  async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    const saved = readSavedKernel(state);
    const d = state.details;
    this.way.chooseHost(saved.host);
    this.key = saved.key;
    this.launcherFile = typeof d.launcherFile === 'string' ? d.launcherFile : undefined;
    this.report = {
      kernelId: state.kernelId,
      ip: saved.ip,
      shellPort: saved.ports.shell_port,
      iopubPort: saved.ports.iopub_port,
      stdinPort: saved.ports.stdin_port,
      controlPort: saved.ports.control_port,
      hbPort: saved.ports.hb_port,
      commPort: saved.commPort,
      pid: saved.pid,
      pgid: saved.pgid,
      log: typeof d.log === 'string' ? d.log : '',
      launcherVersion: '',
    };
    this.attempted = true;
    try {
      return await this.way.reopen(saved, false);
    } catch (err) {
      this.attempted = false;
      await this.detach();
      throw err;
    }
  }

  outputTail(maxChars = 2000): Promise<string> {
    return this.way.tail(this.report?.log, maxChars);
  }

  onLinkChange(listener: (state: LinkState) => void): () => void {
    return this.way.onLinkChange(listener);
  }

  private async setLease(seconds: number): Promise<void> {
    const reply = await this.comm({ lease: seconds });
    if (reply === 'refused' || reply.ok !== true)
      throw new Error(`the launcher of kernel ${this.kernelId} did not take a lease of ${seconds} s`);
  }

  /** One comm-port request over the link: the reply object, or 'refused' when no launcher listens. */
  private async comm(body: { [k: string]: JsonValue }): Promise<'refused' | Record<string, unknown>> {
    const r = this.report;
    if (!r) return 'refused';
    const reply = await this.way.comm(r.ip, r.commPort, body, true);
    // null: the launcher closed without answering: it is on its way out
    if (reply === 'refused' || reply === null) return 'refused';
    if (typeof reply !== 'object' || Array.isArray(reply)) throw new Error('the launcher sent no object');
    return reply;
  }

  /** The launcher's `stop` or `status` subcommand over SSH (when its comm port does not answer). */
  private async launcherCommand(cmd: 'stop' | 'status'): Promise<string> {
    if (!this.way.linkUp || !this.launcherFile) throw new Error('no SSH link or launcher to ask');
    const o = { python: this.config.python ?? this.access.python, launcherFile: this.launcherFile };
    const args = (cmd === 'stop' ? stopCommandArgs : statusCommandArgs)({ ...o, kernelId: this.kernelId });
    return this.way.run(args);
  }
}
