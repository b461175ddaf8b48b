// Launching a kernel process: preLaunch + launch (bound by the deadline and the abort signal) + connect +
// kernel_info, retried once when a port was taken before the kernel bound it. On any failure, timeout or
// abort, everything started so far is killed and cleaned up before the error is thrown.
import { abortError } from '../abort';
import type {
  Channel,
  ConnectionInfo,
  KernelProvisioner,
  KernelSpec,
  LaunchBounds,
  LaunchProgress,
  LaunchRequest,
  WireMessage,
} from '../types';
import { killAndCleanup } from './stop';
import { errorMessage, type Waker } from './util';

/** What launching needs from the manager. */
export interface LaunchHost {
  readonly id: string;
  readonly spec: KernelSpec;
  readonly provisioner: KernelProvisioner;
  readonly env: Record<string, string>;
  readonly cwd: string | undefined;
  readonly waker: Waker;
  /** iopub messages received so far. */
  iopubCount(): number;
  /** A new kernel process: forget the last one's status and kernel_info_reply. */
  resetForLaunch(): void;
  setKernelInfoReply(msg: WireMessage): void;
  /** Open the manager's sockets on `info`. */
  attach(info: ConnectionInfo): void;
  detach(): void;
  request(
    channel: Exclude<Channel, 'iopub'>,
    msgType: string,
    content: unknown,
    timeoutMs: number,
  ): Promise<WireMessage>;
  log(message: string): void;
}

/** launchOnce, retried once (new ports) when the kernel could not bind a port. */
export async function launchKernel(
  host: LaunchHost,
  signal: AbortSignal | undefined,
  onProgress: ((p: LaunchProgress) => void) | undefined,
  timeoutMs: number,
): Promise<void> {
  try {
    await launchOnce(host, signal, onProgress, timeoutMs);
  } catch (err) {
    if (signal?.aborted || !/Address already in use/.test(errorMessage(err))) throw err;
    host.log('a port was taken before the kernel bound it; launching again with new ports');
    await launchOnce(host, signal, onProgress, timeoutMs);
  }
}

async function launchOnce(
  host: LaunchHost,
  signal: AbortSignal | undefined,
  onProgress: ((p: LaunchProgress) => void) | undefined,
  timeoutMs: number,
): Promise<void> {
  const { provisioner, spec } = host;
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  let lastStep = '';
  const progress = (phase: string, message: string, detail?: string): void => {
    lastStep = detail ? `${message}: ${detail}` : message;
    try {
      onProgress?.({ phase, message, elapsedMs: Date.now() - t0, ...(detail ? { detail } : {}) });
    } catch {
      // progress reporting must not break a launch
    }
  };
  // launch() is bound by the deadline and the caller's signal: one signal that aborts on either.
  const bound = new AbortController();
  const onAbort = (): void => {
    bound.abort(signal?.reason ?? abortError());
    host.waker.wake();
  };
  signal?.addEventListener('abort', onAbort);
  const deadlineTimer = setTimeout(
    () => bound.abort(new Error('deadline')),
    Math.max(0, deadline - Date.now()),
  );
  host.resetForLaunch();
  const req: LaunchRequest = {
    kernelId: host.id,
    spec,
    env: host.env,
    cwd: host.cwd,
    launchTimeoutMs: timeoutMs,
    onProgress,
    signal,
  };
  let launched = false;
  try {
    if (signal?.aborted) throw abortError();
    progress('resolving', `Preparing ${spec.spec.display_name}`);
    await provisioner.preLaunch(req);
    if (signal?.aborted) throw abortError();
    progress('spawning', `Starting ${spec.spec.argv[0]}`);
    launched = true;
    const bounds: LaunchBounds = { deadline, signal: bound.signal, progress };
    const info = await boundedLaunch(provisioner, bounds).catch(async (err: unknown) => {
      // The deadline passed while the provisioner was launching: say so, with the step it was at.
      if (bound.signal.aborted && !signal?.aborted)
        throw await launchTimeout(host, timeoutMs, `still launching: ${lastStep}`);
      throw err;
    });
    if (signal?.aborted) throw abortError();
    progress('connecting', `Connecting to the kernel on ${info.ip}`);
    host.attach(info);
    progress('kernel-info', 'Waiting for the kernel to answer');
    await waitForReady(host, deadline, signal, t0, timeoutMs);
    progress('ready', 'Kernel is ready');
  } catch (err) {
    host.detach();
    if (launched) {
      await killAndCleanup(provisioner, (m) => host.log(m), false);
    } else {
      await provisioner.cleanup(false).catch(() => undefined);
    }
    throw err;
  } finally {
    clearTimeout(deadlineTimer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** provisioner.launch(bounds), given up on when bounds.signal aborts even if the provisioner ignores it. */
function boundedLaunch(provisioner: KernelProvisioner, bounds: LaunchBounds): Promise<ConnectionInfo> {
  if (bounds.signal.aborted) return Promise.reject(abortError());
  return new Promise<ConnectionInfo>((resolve, reject) => {
    const onAbort = (): void => reject(abortError('Kernel launch was given up'));
    bounds.signal.addEventListener('abort', onAbort, { once: true });
    provisioner.launch(bounds).then(
      (info) => {
        bounds.signal.removeEventListener('abort', onAbort);
        resolve(info);
      },
      (err: unknown) => {
        bounds.signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

async function launchTimeout(host: LaunchHost, timeoutMs: number, what: string): Promise<Error> {
  const tail = (await host.provisioner.outputTail?.().catch(() => '')) ?? '';
  return new Error(
    `Kernel "${host.spec.name}" did not become ready within ${Math.round(timeoutMs / 1000)} s ` +
      `(${what}); it was stopped.` +
      (tail ? `\nLast output:\n${tail}` : ''),
  );
}

/** Nudge with kernel_info_request until a reply and some iopub traffic arrived (iopub is then live). */
export async function waitForReady(
  host: LaunchHost,
  deadline: number,
  signal: AbortSignal | undefined,
  t0: number,
  timeoutMs: number,
  channel: 'shell' | 'control' = 'shell',
): Promise<void> {
  const { provisioner, spec } = host;
  const iopubAtStart = host.iopubCount();
  let reply: WireMessage | undefined;
  let lastNudge = 0;
  for (;;) {
    if (signal?.aborted) throw abortError();
    const code = await provisioner.poll();
    if (code !== null) {
      const tail = (await provisioner.outputTail?.().catch(() => '')) ?? '';
      throw new Error(
        `Kernel "${spec.name}" exited during launch (exit code ${code}).` +
          (tail ? `\nLast output:\n${tail}` : ' It printed nothing.'),
      );
    }
    if (reply && host.iopubCount() > iopubAtStart) break;
    const now = Date.now();
    if (now >= deadline) {
      throw await launchTimeout(
        host,
        timeoutMs,
        `${reply ? 'no iopub messages' : 'no kernel_info_reply'} after ${now - t0} ms`,
      );
    }
    // One request is normally enough (the DEALER queues it until the kernel binds); repeat it every second in
    // case it was lost. Once answered, the status messages it caused may have been published before our
    // subscription was live (ZMQ's slow joiner): nudge again quickly until iopub delivers something.
    const interval = reply ? 150 : 1000;
    if (now - lastNudge >= interval) {
      lastNudge = now;
      host.request(channel, 'kernel_info_request', {}, Math.max(1, deadline - now)).then(
        (m) => {
          if (!reply) {
            reply = m;
            lastNudge = 0;
          }
          host.setKernelInfoReply(m);
        },
        () => undefined,
      );
    }
    await host.waker.wait(Math.min(reply ? 150 : 250, Math.max(1, deadline - Date.now())));
  }
}
