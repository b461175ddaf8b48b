// The local provisioner: the kernel is a child process that leads its own process group, so signals and
// kills reach everything it started and nothing is left behind; unless it is meant to outlive the app, it runs
// under a watchdog (watchdog.ts) so that its group dies with the app, however the app dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import { allocateKernelPorts } from '../ports';
import { abortError } from '../abort';
import { thisHostSignals } from '../signals';
import type {
  ConnectionInfo,
  KernelProvisioner,
  LaunchBounds,
  LaunchRequest,
  ProvisionerState,
  SignalNumbers,
} from '../types';
import { OutputTail, readTail } from './output';
import { groupAlive, processAlive, resolveProgram, signalGroup, signalNumber } from './processes';
import { connectionFileName, holdRuntimeFile, releaseRuntimeFile, runtimeDir } from './runtime-files';
import { WATCHDOG_FD, watchdogCommand } from './watchdog';

export { OutputTail } from './output';
export { linuxGroupMembers, processAlive, resolveProgram } from './processes';
export { connectionFileName, runtimeDir, sweepStaleRuntimeFiles, type SweepOptions } from './runtime-files';

export { abortError } from '../abort';

export const LOCAL_PROVISIONER_NAME = 'local-provisioner';

export interface LocalProvisionerOptions {
  /** Where connection files go; default `os.tmpdir()/gateway-desktop-<uid>`. */
  runtimeDir?: string;
  /** IP the kernel binds; default 127.0.0.1. */
  ip?: string;
  /**
   * When true (default), the kernel's process group cannot outlive the app: it runs under the watchdog
   * (`watchdog.ts`), and JPY_PARENT_PID is set too, so ipykernel exits when its parent becomes pid 1. Set
   * false for kernels that should survive an app restart and be re-attached.
   */
  tieToParent?: boolean;
  /** Tied kernels: run under the watchdog where it can (default true); false: only JPY_PARENT_PID, as before. */
  watchdog?: boolean;
}

export class LocalProvisioner implements KernelProvisioner {
  readonly name = LOCAL_PROVISIONER_NAME;
  /** A local process is cheap to poll. */
  readonly pollIntervalMs: number = 1000;
  /** The kernel runs on this computer: this OS's signal numbers. */
  readonly signals: SignalNumbers = thisHostSignals();
  readonly stdout = new OutputTail();
  readonly stderr = new OutputTail();

  private req: LaunchRequest | undefined;
  private argv: string[] = [];
  private env: NodeJS.ProcessEnv = {};
  private connection: ConnectionInfo | undefined;
  private connectionFile: string | undefined;
  private logFile: string | undefined;
  private child: ChildProcess | undefined;
  /** The app's end of the watchdog's pipe: it closes when this process dies, and then the kernel group dies. */
  private lifeline: Socket | undefined;
  private childExit: Promise<number> | undefined;
  private exitCode: number | null = null;
  private _pid: number | undefined;
  private pgid: number | undefined;

  constructor(
    readonly kernelId: string,
    private readonly opts: LocalProvisionerOptions = {},
  ) {}

  get pid(): number | undefined {
    return this._pid;
  }

  get processGroup(): number | undefined {
    return this.pgid;
  }

  get connectionFilePath(): string | undefined {
    return this.connectionFile;
  }

  /** Whether the running kernel is tied to this process by the watchdog. */
  get watched(): boolean {
    return this.lifeline !== undefined;
  }

  get hasProcess(): boolean {
    return this._pid !== undefined && this.exitCode === null;
  }

  /** The last output of the kernel (stderr, then stdout) for error messages. */
  async outputTail(maxChars = 2000): Promise<string> {
    return this.outputText(maxChars);
  }

  /** `outputTail`, at once (the output is in memory or in a local file). */
  outputText(maxChars = 2000): string {
    let text: string;
    if (this.logFile) {
      text = readTail(this.logFile, 16 * 1024).trim();
    } else {
      const err = this.stderr.text().trim();
      const out = this.stdout.text().trim();
      text = err || out;
    }
    return text.length > maxChars ? '…' + text.slice(text.length - maxChars) : text;
  }

  async preLaunch(req: LaunchRequest): Promise<void> {
    this.req = req;
    const spec = req.spec;
    const kernelJson = path.join(spec.resourceDir, 'kernel.json');
    const env: NodeJS.ProcessEnv = { ...process.env, ...(spec.spec.env ?? {}), ...req.env };
    if (this.opts.tieToParent !== false) env.JPY_PARENT_PID = String(process.pid);
    else delete env.JPY_PARENT_PID;
    this.env = env;

    const program = spec.spec.argv[0];
    const resolved = await resolveProgram(program, env, req.cwd);
    if (!resolved) {
      throw new Error(
        `Kernel "${spec.name}" cannot start: program "${program}" was not found` +
          (program.includes('/') ? '' : ' on PATH') +
          ` or is not executable. Fix the "argv" in ${kernelJson} or install the program.`,
      );
    }
    if (req.cwd) {
      const ok = await stat(req.cwd).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!ok)
        throw new Error(`Kernel "${spec.name}" cannot start: working directory "${req.cwd}" does not exist`);
    }

    const ip = this.opts.ip ?? '127.0.0.1';
    const ports = await allocateKernelPorts(ip);
    this.connection = {
      transport: 'tcp',
      ip,
      ...ports,
      key: randomBytes(32).toString('hex'),
      signature_scheme: 'hmac-sha256',
      kernel_name: spec.name,
    };
    const dir = this.opts.runtimeDir ?? (await runtimeDir());
    if (this.opts.runtimeDir) await mkdir(dir, { recursive: true, mode: 0o700 });
    this.connectionFile = path.join(dir, connectionFileName(this.kernelId));
    holdRuntimeFile(this.connectionFile);
    await writeFile(this.connectionFile, JSON.stringify(this.connection, null, 1), { mode: 0o600 });
    await chmod(this.connectionFile, 0o600);

    this.argv = spec.spec.argv.map((a) =>
      a
        .replaceAll('{connection_file}', this.connectionFile as string)
        .replaceAll('{resource_dir}', spec.resourceDir),
    );
    this.argv[0] = resolved;
  }

  async launch(bounds?: LaunchBounds): Promise<ConnectionInfo> {
    const req = this.req;
    const connection = this.connection;
    if (!req || !connection) throw new Error('LocalProvisioner.launch() called before preLaunch()');
    // Spawning is quick; the deadline and the abort bind what follows (the manager's wait for the kernel).
    if (req.signal?.aborted || bounds?.signal.aborted) throw abortError();
    this.stdout.clear();
    this.stderr.clear();
    this.exitCode = null;

    // A kernel that may outlive the app writes to a log file: a pipe to a dead app would break its output.
    let logFd: number | undefined;
    if (this.opts.tieToParent === false && this.connectionFile) {
      this.logFile = this.connectionFile.replace(/\.json$/, '') + '.log';
      logFd = openSync(this.logFile, 'a', 0o600);
    }
    const tied = this.opts.tieToParent !== false && this.opts.watchdog !== false;
    const watched = tied
      ? await watchdogCommand(this.argv, this.connectionFile ? [this.connectionFile] : [], this.env)
      : null;
    let child: ChildProcess;
    try {
      const out = logFd === undefined ? ('pipe' as const) : logFd;
      child = spawn(watched?.command ?? this.argv[0], watched?.args ?? this.argv.slice(1), {
        cwd: req.cwd,
        env: this.env,
        detached: process.platform !== 'win32',
        // fd 3 (WATCHDOG_FD): the watchdog's pipe; only the watchdog keeps it, the kernel never sees it.
        stdio: watched ? ['ignore', out, out, 'pipe'] : ['ignore', out, out],
        windowsHide: true,
      });
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    this.child = child;
    const pipe = watched ? (child.stdio[WATCHDOG_FD] as Socket | null) : null;
    if (pipe) {
      pipe.on('error', () => undefined); // the watchdog exited: nothing to do, the kernel is gone too
      pipe.unref(); // never keeps the app running
      this.lifeline = pipe;
    }
    child.on('error', () => undefined); // a late error (e.g. a failed kill) must not crash the app
    child.stdout?.on('data', (b: Buffer) => this.stdout.push(b));
    child.stderr?.on('data', (b: Buffer) => this.stderr.push(b));
    this.childExit = new Promise<number>((resolve) => {
      child.once('exit', (code, sig) => {
        this.exitCode = code ?? (sig ? -(signalNumber(sig) || 1) : -1);
        resolve(this.exitCode);
      });
    });

    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err: NodeJS.ErrnoException) => {
        this.exitCode = -1;
        reject(
          new Error(
            `Kernel "${req.spec.name}" cannot start: ${err.code === 'ENOENT' ? `program "${this.argv[0]}" was not found` : err.message}`,
          ),
        );
      });
    });
    this._pid = child.pid;
    this.pgid = child.pid; // detached: the child leads its own process group
    return connection;
  }

  async poll(): Promise<number | null> {
    if (this._pid === undefined) return this.exitCode ?? -1;
    if (this.exitCode !== null) return this.exitCode;
    if (this.child) return null; // our child: the 'exit' event sets exitCode
    if (processAlive(this._pid)) return null;
    this.exitCode = -1;
    return -1;
  }

  async sendSignal(signal: NodeJS.Signals): Promise<void> {
    if (this._pid === undefined) return;
    signalGroup(this.pgid ?? this._pid, this._pid, signal);
  }

  async terminate(_restart?: boolean): Promise<void> {
    await this.sendSignal('SIGTERM');
  }

  async kill(_restart?: boolean): Promise<void> {
    if (this._pid === undefined) return;
    // Even if the leader already exited, the rest of its group may still run.
    signalGroup(this.pgid ?? this._pid, this._pid, 'SIGKILL');
  }

  processesAlive(): boolean {
    return this.groupAlive();
  }

  /** True while any process of the kernel's group is alive (leader included; zombies do not count). */
  groupAlive(): boolean {
    return this.pgid !== undefined && groupAlive(this.pgid, this._pid);
  }

  async wait(timeoutMs: number): Promise<number | null> {
    if (this._pid === undefined) return this.exitCode ?? -1;
    if (this.exitCode !== null) return this.exitCode;
    if (this.childExit) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((r) => {
        timer = setTimeout(() => r(null), timeoutMs);
        timer.unref();
      });
      const res = await Promise.race([this.childExit, timeout]);
      clearTimeout(timer);
      return res;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = await this.poll();
      if (code !== null) return code;
      if (Date.now() >= deadline) return null;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async cleanup(_restart?: boolean): Promise<void> {
    const file = this.connectionFile;
    this.connectionFile = undefined;
    if (file) await unlink(file).catch(() => undefined);
    if (file) releaseRuntimeFile(file);
    const log = this.logFile;
    this.logFile = undefined;
    if (log) await unlink(log).catch(() => undefined);
    this.lifeline?.destroy();
    this.lifeline = undefined;
    if (this.child) {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.child.removeAllListeners('spawn');
      this.child = undefined;
    }
    this.childExit = undefined;
    this._pid = undefined;
    this.pgid = undefined;
    this.connection = undefined;
  }

  getProvisionerInfo(): ProvisionerState {
    if (!this.connection)
      throw new Error(`Kernel ${this.kernelId}: no connection to describe (not launched)`);
    return {
      provisioner: this.name,
      kernelId: this.kernelId,
      connection: { ...this.connection },
      details: {
        pid: this._pid ?? null,
        pgid: this.pgid ?? null,
        connectionFile: this.connectionFile ?? null,
        logFile: this.logFile ?? null,
      },
    };
  }

  /** Local kernels are reached directly: the saved connection is the one to dial. */
  async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    if (state.provisioner !== this.name) {
      throw new Error(`Cannot load state of provisioner "${state.provisioner}" into ${this.name}`);
    }
    const pid = state.details.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) {
      throw new Error(`Saved state of kernel ${state.kernelId} has no valid pid`);
    }
    const pgid = state.details.pgid;
    this._pid = pid;
    this.pgid = typeof pgid === 'number' && pgid > 0 ? pgid : pid;
    this.connection = { ...state.connection };
    this.connectionFile =
      typeof state.details.connectionFile === 'string' ? state.details.connectionFile : undefined;
    if (this.connectionFile) holdRuntimeFile(this.connectionFile);
    this.logFile = typeof state.details.logFile === 'string' ? state.details.logFile : undefined;
    this.child = undefined;
    this.childExit = undefined;
    this.exitCode = processAlive(pid) ? null : -1;
    return { ...this.connection };
  }
}
