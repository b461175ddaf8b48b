// One kernel start on the cluster a spec resolved to, bound by the launch time limit and the abort signal.
// The cluster gets KERNEL_LAUNCH_TIMEOUT and normally fails first with its own, more telling reason (the
// kernel's output, which step hung); a timer a little later covers a cluster that ignores it. A backend that
// turns up after the launch gave up is shut down, so nothing is left running.
import type { KernelBackend, LaunchProgress } from '../../provisioners/types';
import type { ClusterRuntime } from '../clusters/types';
import { GatewayError, KernelLaunchError, ShuttingDownError } from './errors';

/** How long after the launch timeout the registry stops waiting for a cluster that ignores KERNEL_LAUNCH_TIMEOUT. */
export const LAUNCH_TIMEOUT_GRACE_MS = 5000;

export interface ClusterStart {
  cluster: ClusterRuntime;
  kernelId: string;
  /** The name the client asked for (in messages). */
  requestedName: string;
  clusterSpecName: string;
  env: Record<string, string>;
  cwd: string | undefined;
  timeoutMs: number;
  controller: AbortController;
  isClosing: () => boolean;
  onProgress: (p: LaunchProgress) => void;
}

/** Resolves with the running backend; rejects with a GatewayError that says why it did not start. */
export async function startOnCluster(req: ClusterStart): Promise<KernelBackend> {
  const { cluster, controller, timeoutMs, requestedName, env } = req;
  const cancelled = (): GatewayError =>
    req.isClosing()
      ? new ShuttingDownError()
      : new KernelLaunchError(`Kernel launch of "${requestedName}" was cancelled`);
  let timedOut = false;
  let lastStep = '';
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`launch timed out after ${timeoutMs} ms`));
  }, timeoutMs + LAUNCH_TIMEOUT_GRACE_MS);
  const startPromise = cluster.startKernel({
    kernelId: req.kernelId,
    specName: req.clusterSpecName,
    env: { ...env, KERNEL_LAUNCH_TIMEOUT: String(Math.ceil(timeoutMs / 1000)) },
    cwd: req.cwd ?? (env.KERNEL_WORKING_DIR || undefined),
    signal: controller.signal,
    onProgress: (p: LaunchProgress) => {
      lastStep = p.message;
      req.onProgress(p);
    },
  });
  // If the cluster ignores the abort, stop waiting anyway when the signal fires.
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let backend: KernelBackend;
  try {
    backend = await Promise.race([startPromise, aborted]);
  } catch (err) {
    // A backend that still turns up later must not be left running.
    startPromise.then((b) => b.shutdown()).catch(() => undefined);
    if (timedOut) {
      throw new KernelLaunchError(
        `Kernel "${requestedName}" on ${cluster.name} did not start within ${Math.round(timeoutMs / 1000)} s` +
          (lastStep ? ` (last step: ${lastStep})` : ''),
      );
    }
    if (controller.signal.aborted && !(err instanceof GatewayError)) throw cancelled();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (req.isClosing() || controller.signal.aborted) {
    await backend.shutdown().catch(() => undefined);
    throw cancelled();
  }
  return backend;
}
