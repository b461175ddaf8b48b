// The app's side of our remote launcher protocol, GDL/1 (provisioners/launchers/gd_launcher.py; described in
// provisioners/README.md, "Remote launcher protocol (GDL/1)"): the command lines that start, stop and ask about
// a kernel, the stdin line that carries its key, and the parse of the one line the launcher prints. The report
// comes back on the exec's stdout, signed with the kernel's own key, so nothing has to connect back to the app
// and a line forged by anything else on the host is refused.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const LAUNCHER_PROTOCOL = 1;

let file: string | undefined;
let source: Buffer | undefined;

/** The launcher's path on this computer. Sources: provisioners/remote/ -> provisioners/launchers/; bundle: dist/. */
export function launcherPath(): string {
  if (file) return file;
  const p = fileURLToPath(new URL('../launchers/gd_launcher.py', import.meta.url)).replace(
    /app\.asar([\\/])/,
    'app.asar.unpacked$1',
  );
  if (!existsSync(p)) throw new Error(`the remote launcher is missing from this install (${p})`);
  file = p;
  return p;
}

/** The launcher's source, uploaded to hosts that do not have this version yet. */
export function launcherSource(): Buffer {
  source ??= readFileSync(launcherPath());
  return source;
}

/** Names the uploaded copy: a changed launcher is a new file on the host, never a stale one. */
export function launcherDigest(): string {
  return createHash('sha256').update(launcherSource()).digest('hex').slice(0, 16);
}

/** The launcher's VERSION. */
export function launcherVersion(): string {
  const m = /^VERSION = "([^"]+)"/m.exec(launcherSource().toString('utf8'));
  return m?.[1] ?? 'unknown';
}

export interface LauncherTarget {
  /** The remote Python that runs the launcher. */
  python: string;
  /** The launcher's path on the host. */
  launcherFile: string;
  kernelId: string;
  /** Default ~/.cache/gateway-desktop/kernels on the host. */
  stateDir?: string;
}

export interface LaunchCommandOptions extends LauncherTarget {
  /** Address the kernel binds on the host (default 127.0.0.1: reached through SSH, never from outside). */
  ip?: string;
  portRange?: { lo: number; hi: number };
  /** Seconds without a comm-port request after which the launcher stops the kernel (0: never). */
  leaseSeconds?: number;
  /** The kernel's argv; `{connection_file}` is replaced on the host. */
  argv: string[];
}

function base(cmd: string, o: LauncherTarget): string[] {
  return [
    o.python,
    o.launcherFile,
    cmd,
    '--kernel-id',
    o.kernelId,
    ...(o.stateDir ? ['--state-dir', o.stateDir] : []),
  ];
}

export function launchCommandArgs(o: LaunchCommandOptions): string[] {
  return [
    ...base('launch', o),
    ...(o.ip ? ['--ip', o.ip] : []),
    ...(o.portRange ? ['--port-range', `${o.portRange.lo}..${o.portRange.hi}`] : []),
    ...(o.leaseSeconds !== undefined ? ['--lease-seconds', String(o.leaseSeconds)] : []),
    '--',
    ...o.argv,
  ];
}

export function stopCommandArgs(o: LauncherTarget): string[] {
  return base('stop', o);
}

export function statusCommandArgs(o: LauncherTarget): string[] {
  return base('status', o);
}

/** One command line for a POSIX shell (what sshd runs an exec request with): every word single-quoted. */
export function shellQuote(args: string[]): string {
  return args
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** The launcher's stdin: the key never appears on a command line (`ps` on the host would show it). */
export function stdinLine(key: string, env: Record<string, string>): string {
  return JSON.stringify({ protocol: LAUNCHER_PROTOCOL, key, env }) + '\n';
}

export interface LauncherReport {
  kernelId: string;
  ip: string;
  shellPort: number;
  iopubPort: number;
  stdinPort: number;
  controlPort: number;
  hbPort: number;
  commPort: number;
  pid: number;
  pgid: number;
  /** The kernel's log file on the host. */
  log: string;
  launcherVersion: string;
}

/** The launcher said the kernel could not start: its reason and the kernel's last output. */
export class LauncherReportError extends Error {
  override name = 'LauncherReportError';
  constructor(
    readonly reason: string,
    readonly logTail: string,
  ) {
    super(logTail ? `${reason}\n--- last output of the kernel ---\n${logTail}` : reason);
  }
}

const isPort = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

function quote(text: string): string {
  const t = text.trim();
  return t ? `: ${t.length > 500 ? `${t.slice(0, 500)}…` : t}` : ' (it printed nothing)';
}

/** The launcher's report among whatever else the login printed (a banner, a motd); throws what went wrong. */
export function parseReport(stdout: string, key: string, kernelId: string): LauncherReport {
  const lines = stdout.split(/\r?\n/);
  const err = lines.find((l) => l.startsWith('GDL1-ERROR '));
  if (err) {
    let body: { reason?: unknown; log_tail?: unknown };
    try {
      body = JSON.parse(err.slice('GDL1-ERROR '.length)) as typeof body;
    } catch {
      throw new LauncherReportError(`the launcher failed: ${err.slice(11, 300)}`, '');
    }
    throw new LauncherReportError(
      typeof body.reason === 'string' ? body.reason : 'the launcher failed without a reason',
      typeof body.log_tail === 'string' ? body.log_tail : '',
    );
  }
  const line = lines.find((l) => l.startsWith('GDL1 '));
  if (!line)
    throw new Error(
      `The launcher did not report the kernel${quote(stdout)}. Is the remote Python right, Python 3.8+, ` +
        'and is ipykernel installed for it?',
    );
  const m = /^GDL1 (\{.*\}) ([0-9a-f]{64})\s*$/.exec(line);
  if (!m) throw new Error(`The launcher's report is mangled: ${line.slice(0, 300)}`);
  const expected = createHmac('sha256', key).update(m[1]!, 'utf8').digest();
  const given = Buffer.from(m[2]!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new Error("The launcher's report is not signed with this kernel's key: refused (was it forged?)");
  const r = JSON.parse(m[1]!) as Record<string, unknown>;
  if (r.protocol !== LAUNCHER_PROTOCOL)
    throw new Error(`The launcher speaks protocol ${String(r.protocol)}, this app ${LAUNCHER_PROTOCOL}`);
  if (r.kernel_id !== kernelId)
    throw new Error(`The launcher reported kernel ${String(r.kernel_id)}, not ${kernelId}`);
  const ports = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port', 'comm_port'];
  for (const p of ports) if (!isPort(r[p])) throw new Error(`The launcher's report has no valid ${p}`);
  if (typeof r.ip !== 'string' || !Number.isInteger(r.pid) || !Number.isInteger(r.pgid))
    throw new Error("The launcher's report lacks the kernel's address or process");
  return {
    kernelId,
    ip: r.ip,
    shellPort: r.shell_port as number,
    iopubPort: r.iopub_port as number,
    stdinPort: r.stdin_port as number,
    controlPort: r.control_port as number,
    hbPort: r.hb_port as number,
    commPort: r.comm_port as number,
    pid: r.pid as number,
    pgid: r.pgid as number,
    log: typeof r.log === 'string' ? r.log : '',
    launcherVersion: typeof r.launcher_version === 'string' ? r.launcher_version : '',
  };
}
