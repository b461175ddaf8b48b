// The runtime directory where local kernels' connection files (with their HMAC keys) and logs live, and the
// sweep that removes the ones whose kernel no longer runs.
//
// Only this app writes there (a directory of its own, 0700), and every file it writes is named
// `kernel-<kernel id>.owner-<pid of the app that launched it>.json` (and `.log`): the sweep touches nothing
// else, and a file whose owner app is gone and that no running process names on its command line belongs to a
// dead kernel, however young it is. Kernels left running on purpose keep their file on their command line.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processAlive } from './processes';

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

/** The connection file name of a kernel this process launches. */
export function connectionFileName(kernelId: string, ownerPid = process.pid): string {
  return `kernel-${kernelId}.owner-${ownerPid}.json`;
}

const OUR_FILE = /^kernel-.+\.(json|log)$/;
const OWNER = /\.owner-(\d+)\.(?:json|log)$/;

/**
 * The command lines of all running processes (Linux: /proc; other Unixes: `ps`), or null when they cannot be
 * read, in which case nothing may be removed. `via` forces one source (tests).
 */
export async function runningCommandLines(via?: 'proc' | 'ps'): Promise<string[] | null> {
  const source = via ?? (process.platform === 'linux' ? 'proc' : process.platform === 'win32' ? null : 'ps');
  if (source === 'proc') {
    try {
      return readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .map((e) => {
          try {
            return readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ');
          } catch {
            return ''; // exited meanwhile
          }
        });
    } catch {
      return null;
    }
  }
  if (source === 'ps') {
    return new Promise((resolve) => {
      execFile('ps', ['-axww', '-o', 'args='], { maxBuffer: 64 * 1024 * 1024 }, (err, out) =>
        resolve(err ? null : out.split('\n')),
      );
    });
  }
  return null;
}

export interface SweepOptions {
  /** Files of another live owner younger than this are kept: it may be launching that kernel right now. */
  minAgeMs?: number;
  /** Where the command lines come from (tests); default the platform's. */
  via?: 'proc' | 'ps';
}

/** Names of the runtime files this process has written and not yet removed (launching or running kernels). */
const held = new Set<string>();

/** A file this process wrote for a kernel it is launching or runs: never swept (until released). */
export function holdRuntimeFile(file: string): void {
  held.add(path.basename(file));
}

export function releaseRuntimeFile(file: string): void {
  held.delete(path.basename(file));
}

/**
 * Remove connection files (and kernel logs) in the runtime dir whose kernel no longer runs: no running process
 * has the file on its command line, this process does not hold it, and either the app that launched the
 * kernel is gone (or is this process) or the file is older than `minAgeMs` (files from before owners were
 * named count as ownerless). Windows, or when the process list cannot be read: removes nothing. Returns the
 * removed paths.
 */
export async function sweepStaleRuntimeFiles(dir?: string, opts: SweepOptions = {}): Promise<string[]> {
  const minAgeMs = opts.minAgeMs ?? 60_000;
  const root = dir ?? (await runtimeDir());
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => OUR_FILE.test(n));
  } catch {
    return [];
  }
  if (!names.length) return [];
  const cmdlines = await runningCommandLines(opts.via);
  if (!cmdlines) return [];
  const present = new Set(names);
  const removed: string[] = [];
  for (const n of names) {
    const file = path.join(root, n);
    const json = n.replace(/\.log$/, '.json');
    // A log goes with its connection file; alone (its kernel's file already gone) it is judged by itself.
    if (n.endsWith('.log') && present.has(json)) continue;
    // By name, not path: the same directory may be spelled differently (symlinks); a false match only keeps.
    if (cmdlines.some((c) => c.includes(json))) continue;
    if (held.has(json)) continue;
    const owner = Number(OWNER.exec(n)?.[1] ?? 0);
    // This process knows its own files (held above); another owner that runs may be launching right now.
    const ownerGone = owner > 0 && (owner === process.pid || !processAlive(owner));
    if (!ownerGone) {
      const mtime = await stat(file).then(
        (s) => s.mtimeMs,
        () => null,
      );
      if (mtime === null || Date.now() - mtime < minAgeMs) continue;
    }
    const files = n.endsWith('.json') ? [file, file.replace(/\.json$/, '.log')] : [file];
    for (const f of files) {
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
