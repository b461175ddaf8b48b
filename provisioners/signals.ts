// Signal numbers differ between operating systems (SIGUSR1 is 10 on Linux, 30 on macOS). A kernel's exit
// "by signal n" must be named with the numbers of the host that runs the kernel, not the app's: a provisioner
// states them (KernelProvisioner.signals); remote kernels (containers, YARN, SSH to Linux) use LINUX_SIGNALS.
import { constants as osConstants } from 'node:os';
import type { SignalNumbers } from './types';

/** Linux (x86-64, arm64) signal numbers. */
export const LINUX_SIGNALS: SignalNumbers = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGXCPU: 24,
  SIGXFSZ: 25,
});

/** macOS / BSD signal numbers (where they differ from Linux it matters). */
export const DARWIN_SIGNALS: SignalNumbers = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGBUS: 10,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTOP: 17,
  SIGTSTP: 18,
  SIGCONT: 19,
  SIGCHLD: 20,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGUSR1: 30,
  SIGUSR2: 31,
});

/** The signal numbers of the OS this process runs on (for kernels on this computer only). */
export function thisHostSignals(): SignalNumbers {
  return { ...(osConstants.signals as Record<NodeJS.Signals, number>) };
}

/** The name of signal `n` in `signals`, or undefined. */
export function signalName(n: number, signals: SignalNumbers = LINUX_SIGNALS): NodeJS.Signals | undefined {
  for (const [name, num] of Object.entries(signals)) if (num === n) return name as NodeJS.Signals;
  return undefined;
}
