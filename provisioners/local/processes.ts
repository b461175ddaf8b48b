// Processes of local kernels: finding programs, liveness, process groups and signals.
import { readdirSync, readFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';

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

/** Send `sig` to the process group `pgid` (Windows: to the process; there are no groups). */
export function signalGroup(pgid: number, pid: number, sig: NodeJS.Signals | 0): void {
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

/** True while any process of group `pgid` is alive (zombies do not count where /proc can tell). */
export function groupAlive(pgid: number, leaderPid: number | undefined): boolean {
  if (process.platform === 'win32') return leaderPid !== undefined && processAlive(leaderPid);
  if (process.platform === 'linux') {
    const members = linuxGroupMembers(pgid);
    if (members) return members.length > 0;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signal name -> number; a killed kernel reports -<signal> as its exit code, like Python's Popen. */
export function signalNumber(sig: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}
