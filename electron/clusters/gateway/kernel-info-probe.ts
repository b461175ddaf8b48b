// "The kernel is back": after a restart through a gateway, wait until the upstream kernel answers
// kernel_info. Enterprise Gateway answers POST …/restart before the restarted kernel answers anything; the
// proxy promises "200 + model, after the kernel has answered kernel_info" for every cluster. The probe
// opens its own upstream socket (a fresh session id, so clients' sessions are not disturbed), sends
// kernel_info_request and repeats it every second (a request sent while the kernel process is being
// replaced can be lost), until a reply to any of them arrives or the time is up.
import { randomUUID } from 'node:crypto';
import { makeMessage, tryParseHeader } from '../../../provisioners/zmq/wire';
import { RelayPort, type RelayHost } from './relay-port';

export class KernelInfoTimeout extends Error {
  override name = 'KernelInfoTimeout';
}

/** Resolves once the upstream kernel answered kernel_info; rejects with KernelInfoTimeout after `timeoutMs`. */
export function waitForKernelInfo(kernel: RelayHost, timeoutMs: number, resendMs = 1000): Promise<void> {
  // The probe's socket is the kernel's, but it is no client's: it reports nothing to the kernel.
  const host: RelayHost = {
    get upstreamId() {
      return kernel.upstreamId;
    },
    get isGone() {
      return kernel.isGone;
    },
    client: kernel.client,
    options: kernel.options,
    closingSessions: new Map(),
    log: (m) => kernel.log(`kernel_info probe: ${m}`),
    markGone: (reason) => kernel.markGone(reason),
    setState: () => undefined,
    touch: () => undefined,
    upstreamRestarting: () => undefined,
    portDown: () => undefined,
    portUp: () => undefined,
    portClosed: () => undefined,
  };
  const session = randomUUID();
  const asked = new Set<string>();
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      clearInterval(resend);
      port.close();
      if (err) reject(err);
      else resolve();
    };
    const port = new RelayPort(host, session, (m) => {
      if (m.channel === 'shell' && asked.has(tryParseHeader(m.parentHeader)?.msg_id ?? '')) finish();
    });
    const ask = (): void => {
      if (kernel.isGone) {
        finish(new Error('the kernel is gone from the gateway'));
        return;
      }
      const msg = makeMessage('shell', 'kernel_info_request', {}, session);
      asked.add(tryParseHeader(msg.header)?.msg_id ?? '');
      port.send(msg);
    };
    const timer = setTimeout(
      () =>
        finish(
          new KernelInfoTimeout(
            `the kernel did not answer kernel_info within ${Math.round(timeoutMs / 1000)} s after the restart`,
          ),
        ),
      timeoutMs,
    );
    const resend = setInterval(ask, resendMs);
    port.connect();
    ask();
  });
}
