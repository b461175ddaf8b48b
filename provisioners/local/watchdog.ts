// Kernels that must not outlive the app run under provisioners/launchers/local_watchdog.py: it execs the kernel
// in its own place (same pid, process group, parent and exit status) after forking a watchdog that holds one
// end of a pipe from the app. When the app dies, however (SIGKILL included, and under a child subreaper such as
// `systemd --user`, where a kernel's parent never becomes pid 1), the pipe reaches EOF and the watchdog kills
// the kernel's whole process group and removes its connection file.
//
// Needs a Python 3 (the kernel's own interpreter when it is one, else python3 on PATH) and fork(): on Windows,
// or without Python 3, kernels start as before and rely on JPY_PARENT_PID (ipykernel's own parent poller).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveProgram } from './processes';

/** The file descriptor on which the launcher gets the app's end of the pipe (stdio index 3 of the spawn). */
export const WATCHDOG_FD = 3;

const PYTHON3 = /^python3(\.\d+)?$/;

let script: string | null | undefined;

/** The watchdog script's path, or null when it is not there (a build that left it out). */
export function watchdogScript(): string | null {
  if (script !== undefined) return script;
  // Sources: provisioners/local/ -> provisioners/launchers/. Bundle: dist/electron/main.cjs -> dist/launchers/.
  let p = fileURLToPath(new URL('../launchers/local_watchdog.py', import.meta.url));
  // A packaged app: Python cannot read inside app.asar; the launchers are unpacked next to it.
  p = p.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  script = existsSync(p) ? p : null;
  return script;
}

const pythonOnPath = new Map<string, Promise<string | null>>();

function findPython3(env: NodeJS.ProcessEnv): Promise<string | null> {
  const key = env.PATH ?? '';
  let found = pythonOnPath.get(key);
  if (!found) {
    found = resolveProgram('python3', env);
    pythonOnPath.set(key, found);
  }
  return found;
}

export interface WatchdogCommand {
  command: string;
  args: string[];
}

/**
 * The command that starts `argv` (argv[0] resolved) under the watchdog, which removes `remove` when the app is
 * gone; null where the watchdog cannot run (then start `argv` itself).
 */
export async function watchdogCommand(
  argv: string[],
  remove: string[],
  env: NodeJS.ProcessEnv,
): Promise<WatchdogCommand | null> {
  // The switch is read from the app's own environment: a client's kernel env must not turn the guarantee off.
  if (process.platform === 'win32' || process.env.GATEWAY_DESKTOP_KERNEL_WATCHDOG === '0') return null;
  const file = watchdogScript();
  if (!file) return null;
  const python = PYTHON3.test(path.basename(argv[0])) ? argv[0] : await findPython3(env);
  if (!python) return null;
  return {
    command: python,
    // -I -S: no site, no user paths, no PYTHON* variables: fast, and the kernel's environment is not read.
    args: ['-I', '-S', file, String(WATCHDOG_FD), ...remove.flatMap((f) => ['--remove', f]), '--', ...argv],
  };
}
