// "Ready" means the kernel answered kernel_info, not that its process (or a gateway's POST) returned. A
// gateway answers POST /api/kernels as soon as it spawned the kernel, so a kernel that takes 12 s to come up
// would be shown idle for 12 s. This asks it over a private port (the HMAC key stays in the backend), again
// every `everyMs` until a reply arrives, the kernel dies, or time runs out.
import { randomUUID } from 'node:crypto';
import type { KernelBackend, KernelPort } from '../../provisioners/types';
import { makeMessage, tryParseHeader } from '../../provisioners/zmq/wire';

export interface WaitReadyOptions {
  timeoutMs: number;
  /** How often the request is sent again while there is no reply (a starting kernel may drop it). */
  everyMs?: number;
  signal?: AbortSignal;
}

/** Resolves once `kernel` answered a kernel_info_request; rejects when it died, on timeout or abort. */
export function waitForKernelInfo(kernel: KernelBackend, opts: WaitReadyOptions): Promise<void> {
  const session = randomUUID();
  const sent = new Set<string>();
  return new Promise<void>((resolve, reject) => {
    let port: KernelPort | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    let deadline: ReturnType<typeof setTimeout> | null = null;
    let offEvents: () => void = () => undefined;
    const finish = (err: Error | null): void => {
      if (timer) clearInterval(timer);
      if (deadline) clearTimeout(deadline);
      offEvents();
      opts.signal?.removeEventListener('abort', onAbort);
      try {
        port?.close();
      } catch {
        // already closed
      }
      port = null;
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => finish(new Error('cancelled'));
    const ask = (): void => {
      if (!port) return;
      const msg = makeMessage('shell', 'kernel_info_request', {}, session);
      sent.add(tryParseHeader(msg.header)?.msg_id ?? '');
      try {
        port.send(msg);
      } catch {
        // the port is reconnecting; the next round asks again
      }
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    offEvents = kernel.onEvent((e) => {
      if (e.type === 'dead') finish(new Error(e.reason || 'the kernel died while starting'));
    });
    if (kernel.executionState === 'dead') return finish(new Error('the kernel died while starting'));
    try {
      port = kernel.openPort(session, (m) => {
        const parent = tryParseHeader(m.parentHeader)?.msg_id;
        if (parent && sent.has(parent) && tryParseHeader(m.header)?.msg_type === 'kernel_info_reply')
          finish(null);
      });
    } catch (err) {
      return finish(err instanceof Error ? err : new Error(String(err)));
    }
    deadline = setTimeout(
      () => finish(new Error(`no answer to kernel_info within ${Math.round(opts.timeoutMs / 1000)} s`)),
      opts.timeoutMs,
    );
    timer = setInterval(ask, opts.everyMs ?? 2000);
    ask();
  });
}
