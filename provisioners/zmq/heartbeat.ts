// Liveness of one kernel: a REQ/echo heartbeat on hb_port plus the provisioner's poll(). Only the poll can
// report death (the process is gone, with its exit code), as in Jupyter Server: a kernel whose process still
// runs but misses heartbeats (paused by a debugger or SIGSTOP, a swapping or sleeping machine) is reported
// "not answering" and kept, and reported answering again when an echo comes back. The owner decides.
// While the way to the kernel is down (`setLinkUp(false)`: a tunnel dropped), misses are not counted at all.
import { Request } from 'zeromq';
import { LINUX_SIGNALS, signalName } from '../signals';
import type { ConnectionInfo, SignalNumbers } from '../types';
import { zmqUrl } from './kernel-connection';

export interface MonitorOptions {
  /** Time between heartbeats (ms). Default 1000. */
  intervalMs: number;
  /** How long to wait for each echo (ms). Default 1500. */
  timeoutMs: number;
  /** Missed echoes in a row before the kernel is considered hung. Default 3. */
  maxMisses: number;
  /** Time between provisioner polls (ms). Default 1000. */
  pollIntervalMs: number;
  /** Turn the heartbeat off (poll only). Default false. */
  disableHeartbeat: boolean;
}

export const DEFAULT_MONITOR_OPTIONS: MonitorOptions = {
  intervalMs: 1000,
  timeoutMs: 1500,
  maxMisses: 3,
  pollIntervalMs: 1000,
  disableHeartbeat: false,
};

export interface MonitorTarget {
  connection: ConnectionInfo | null;
  /** The provisioner's poll: null while running, else the exit code. */
  poll: () => Promise<number | null>;
  /** The kernel's process is gone. Called once; the monitor stops. */
  onDead: (reason: string, exitCode: number) => void;
  /** The process runs but missed `maxMisses` heartbeats in a row. */
  onUnresponsive?: (reason: string) => void;
  /** It answers heartbeats again after onUnresponsive. */
  onResponsive?: () => void;
  /** Signal numbers of the kernel's host, to name an exit by signal (default Linux's). */
  signals?: SignalNumbers;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** `exit code -9, killed by SIGKILL`: a negative code is a signal, named with the kernel host's numbers. */
export function describeExit(code: number, signals: SignalNumbers = LINUX_SIGNALS): string {
  if (code < 0 && code !== -1) {
    const name = signalName(-code, signals);
    return `exit code ${code}${name ? `, killed by ${name}` : ''}`;
  }
  return code === -1 ? 'exit code unknown' : `exit code ${code}`;
}

export class KernelMonitor {
  private readonly opts: MonitorOptions;
  private running = false;
  private fired = false;
  private hb: Request | undefined;
  private misses = 0;
  private unresponsive = false;
  private linkUp = true;
  /** Heartbeats missed while the link was down (not counted towards maxMisses). */
  missesWhileLinkDown = 0;
  /** Round trip of the last answered heartbeat (ms). */
  lastRttMs: number | undefined;

  constructor(
    private readonly target: MonitorTarget,
    opts: Partial<MonitorOptions> = {},
  ) {
    this.opts = { ...DEFAULT_MONITOR_OPTIONS, ...opts };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.fired = false;
    this.misses = 0;
    this.unresponsive = false;
    this.linkUp = true;
    void this.pollLoop();
    if (!this.opts.disableHeartbeat && this.target.connection)
      void this.heartbeatLoop(this.target.connection);
  }

  stop(): void {
    this.running = false;
    this.closeHb();
  }

  /**
   * The way to the kernel went down (false) or came back (true). While down, missed heartbeats are not
   * counted (a dropped tunnel is not a hung kernel); counting starts afresh when it is back.
   */
  setLinkUp(up: boolean): void {
    if (this.linkUp === up) return;
    this.linkUp = up;
    this.misses = 0;
    if (!up) this.closeHb();
  }

  get linkIsUp(): boolean {
    return this.linkUp;
  }

  /** Time between provisioner polls (ms). */
  get pollIntervalMs(): number {
    return this.opts.pollIntervalMs;
  }

  private fire(code: number): void {
    if (this.fired || !this.running) return;
    this.fired = true;
    this.stop();
    this.target.onDead(
      `Kernel process exited unexpectedly (${describeExit(code, this.target.signals)})`,
      code,
    );
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      let code: number | null = null;
      try {
        code = await this.target.poll();
      } catch {
        code = null; // a failing poll is not a death
      }
      if (!this.running) return;
      if (code !== null) {
        this.fire(code);
        return;
      }
      await sleep(this.opts.pollIntervalMs);
    }
  }

  private closeHb(): void {
    const s = this.hb;
    this.hb = undefined;
    if (s) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  private async heartbeatLoop(info: ConnectionInfo): Promise<void> {
    const ping = Buffer.from('ping');
    while (this.running) {
      const started = Date.now();
      if (!this.hb) {
        this.hb = new Request({
          linger: 0,
          receiveTimeout: this.opts.timeoutMs,
          sendTimeout: this.opts.timeoutMs,
        });
        this.hb.connect(zmqUrl(info, info.hb_port));
      }
      const sock = this.hb;
      let ok = false;
      try {
        await sock.send(ping);
        await sock.receive();
        ok = true;
      } catch {
        ok = false;
      }
      if (!this.running) return;
      if (ok) {
        this.misses = 0;
        this.lastRttMs = Date.now() - started;
        if (this.unresponsive) {
          this.unresponsive = false;
          this.target.onResponsive?.();
        }
      } else {
        // A REQ socket that missed its reply is stuck: throw it away (lazy pirate).
        this.closeHb();
        if (this.linkUp) this.misses++;
        else this.missesWhileLinkDown++;
        if (this.misses >= this.opts.maxMisses && !this.unresponsive) {
          // Before calling it unresponsive, give a poll the chance to report a clean exit reason.
          let code: number | null = null;
          try {
            code = await this.target.poll();
          } catch {
            code = null;
          }
          if (!this.running) return;
          if (code !== null) {
            this.fire(code);
            return;
          }
          this.unresponsive = true;
          this.target.onUnresponsive?.(
            `Kernel is not answering heartbeats (${this.misses} missed in a row, ${this.opts.timeoutMs} ms each); its process is still running`,
          );
        }
      }
      const rest = this.opts.intervalMs - (Date.now() - started);
      if (rest > 0) await sleep(rest);
    }
  }
}
