// The local provisioner: the kernel is a child process that leads its own process group, so signals and
// kills reach everything it started and nothing is left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { access, chmod, lstat, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { allocateKernelPorts } from '../ports';
import type { ConnectionInfo, KernelProvisioner, LaunchRequest, ProvisionerState } from '../types';

export const LOCAL_PROVISIONER_NAME = 'local-provisioner';

/** A bounded text ring: keeps the last `max` bytes written (for launch diagnostics). */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = 16 * 1024) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.max && this.chunks.length > 1) {
      this.size -= this.chunks[0].length;
      this.chunks.shift();
    }
    if (this.size > this.max) {
      const only = this.chunks[0];
      this.chunks[0] = only.subarray(only.length - this.max);
      this.size = this.chunks[0].length;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}

/** The directory holding this user's connection files (0700, owned by us). */
export async function runtimeDir(): Promise<string> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const dir = path.join(tmpdir(), `gateway-desktop-${uid}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new Error(`Runtime directory ${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`Runtime directory ${dir} belongs to another user; refusing to write kernel keys there`);
  }
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) await chmod(dir, 0o700);
  return dir;
}

/** The last `max` bytes of a file as text ('' if unreadable). */
function readTail(file: string, max: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Linux: the live (non-zombie) pids whose process group is `pgid`, from /proc. A killed child whose parent has
 * not reaped it yet is a zombie: it no longer runs, but `kill(-pgid, 0)` still succeeds for it.
 * Returns null when /proc cannot be read.
 */
export function linuxGroupMembers(pgid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp ...
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') out.push(Number(e));
  }
  return out;
}

/**
 * Remove connection files (and kernel logs) in the runtime dir whose kernel no longer runs, e.g. after the app
 * was killed. Linux only (it checks /proc/<pid>/cmdline for the file path); elsewhere it removes nothing.
 * Files younger than `minAgeMs` are left alone (a launch may be writing them). Returns the removed paths.
 */
export async function sweepStaleRuntimeFiles(dir?: string, minAgeMs = 60_000): Promise<string[]> {
  if (process.platform !== 'linux') return [];
  const root = dir ?? (await runtimeDir());
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^kernel-.+\.json$/.test(n));
  } catch {
    return [];
  }
  if (!names.length) return [];
  let cmdlines: string[];
  try {
    cmdlines = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map((e) => {
        try {
          return readFileSync(`/proc/${e}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const file = path.join(root, n);
    try {
      if (Date.now() - (await stat(file)).mtimeMs < minAgeMs) continue;
    } catch {
      continue;
    }
    if (cmdlines.some((c) => c.includes(file))) continue;
    for (const f of [file, file.replace(/\.json$/, '.log')]) {
      if (
        await unlink(f).then(
          () => true,
          () => false,
        )
      )
        removed.push(f);
    }
  }
  return removed;
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await stat(p);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    await access(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolve a program like a shell would: a path is checked as is, a bare name is searched on PATH. */
export async function resolveProgram(
  program: string,
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<string | null> {
  if (!program) return null;
  if (program.includes('/') || (process.platform === 'win32' && program.includes('\\'))) {
    const p = path.resolve(cwd ?? process.cwd(), program);
    return (await isExecutableFile(p)) ? p : null;
  }
  const pathVar = env.PATH ?? env.Path ?? '';
  const exts =
    process.platform === 'win32'
      ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)]
      : [''];
  for (const d of pathVar.split(path.delimiter)) {
    if (!d) continue;
    for (const ext of exts) {
      const candidate = path.join(d, program + ext);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, pid: number, sig: NodeJS.Signals | 0): void {
  if (process.platform === 'win32') {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
    return;
  }
  try {
    process.kill(-pgid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export interface LocalProvisionerOptions {
  /** Where connection files go; default `os.tmpdir()/gateway-desktop-<uid>`. */
  runtimeDir?: string;
  /** IP the kernel binds; default 127.0.0.1. */
  ip?: string;
  /**
   * When true (default), JPY_PARENT_PID is set so ipykernel exits if the app dies (no orphans). Set false for
   * kernels that should survive an app restart and be re-attached.
   */
  tieToParent?: boolean;
}

export class LocalProvisioner implements KernelProvisioner {
  readonly name = LOCAL_PROVISIONER_NAME;
  readonly stdout = new OutputTail();
  readonly stderr = new OutputTail();

  private req: LaunchRequest | undefined;
  private argv: string[] = [];
  private env: NodeJS.ProcessEnv = {};
  private connection: ConnectionInfo | undefined;
  private connectionFile: string | undefined;
  private logFile: string | undefined;
  private child: ChildProcess | undefined;
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

  get hasProcess(): boolean {
    return this._pid !== undefined && this.exitCode === null;
  }

  /** The last output of the kernel (stderr, then stdout) for error messages. */
  outputTail(maxChars = 2000): string {
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
    this.connectionFile = path.join(dir, `kernel-${this.kernelId}.json`);
    await writeFile(this.connectionFile, JSON.stringify(this.connection, null, 1), { mode: 0o600 });
    await chmod(this.connectionFile, 0o600);

    this.argv = spec.spec.argv.map((a) =>
      a
        .replaceAll('{connection_file}', this.connectionFile as string)
        .replaceAll('{resource_dir}', spec.resourceDir),
    );
    this.argv[0] = resolved;
  }

  async launch(): Promise<ConnectionInfo> {
    const req = this.req;
    const connection = this.connection;
    if (!req || !connection) throw new Error('LocalProvisioner.launch() called before preLaunch()');
    if (req.signal?.aborted) throw abortError();
    this.stdout.clear();
    this.stderr.clear();
    this.exitCode = null;

    // A kernel that may outlive the app writes to a log file: a pipe to a dead app would break its output.
    let logFd: number | undefined;
    if (this.opts.tieToParent === false && this.connectionFile) {
      this.logFile = this.connectionFile.replace(/\.json$/, '') + '.log';
      logFd = openSync(this.logFile, 'a', 0o600);
    }
    let child: ChildProcess;
    try {
      child = spawn(this.argv[0], this.argv.slice(1), {
        cwd: req.cwd,
        env: this.env,
        detached: process.platform !== 'win32',
        stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
        windowsHide: true,
      });
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    this.child = child;
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
    if (this.pgid === undefined) return false;
    if (process.platform === 'win32') return this._pid !== undefined && processAlive(this._pid);
    if (process.platform === 'linux') {
      const members = linuxGroupMembers(this.pgid);
      if (members) return members.length > 0;
    }
    try {
      process.kill(-this.pgid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
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
    const log = this.logFile;
    this.logFile = undefined;
    if (log) await unlink(log).catch(() => undefined);
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

  async loadProvisionerInfo(state: ProvisionerState): Promise<void> {
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
    this.logFile = typeof state.details.logFile === 'string' ? state.details.logFile : undefined;
    this.child = undefined;
    this.childExit = undefined;
    this.exitCode = processAlive(pid) ? null : -1;
  }
}

/** Signal name -> number; a killed kernel reports -<signal> as its exit code, like Python's Popen. */
function signalNumber(sig: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}

export function abortError(message = 'Kernel launch was cancelled'): Error {
  const err = new Error(message);
  err.name = 'AbortError';
  return err;
}
