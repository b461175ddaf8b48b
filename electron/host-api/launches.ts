// Kernel launches of the host API: `startKernel` runs in the background and reports `launch-progress`; a
// kernel counts as ready only once it answered kernel_info (a gateway's POST returns while the kernel is
// still starting). Until then the service shows it as `starting`, wherever it was started from.
// Launches that someone else asked for (JupyterLab or Papermill through the proxy, the CLI) come from the
// registry's one progress stream too (`outside`), so every start shows the same phases in the app.
import { randomUUID } from 'node:crypto';
import type { LaunchProgress } from '../../provisioners/types';
import type { BackendLaunch, HostBackend } from './backend';
import { waitForKernelInfo } from './kernel-ready';
import type { AppLog } from './log';
import type { LaunchProgressEvent } from './models';

export interface LaunchesOptions {
  backend: HostBackend;
  log: AppLog;
  emit: (e: LaunchProgressEvent) => void;
  clusterName: (id: string) => string;
  /** A kernel's "still starting" status changed: the service re-publishes it. */
  changed: (kernelId: string) => void;
  /** Time a kernel may take to answer kernel_info after its cluster says it started. */
  readyTimeoutMs?: number;
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class KernelLaunches {
  /** Kernels listed by the registry that have not answered kernel_info yet. */
  private readonly waiting = new Map<string, Promise<void>>();
  /** When each kernel was asked for (the uptime shown starts there; restarts reset it). */
  readonly startedAt = new Map<string, Date>();
  private readonly abort = new AbortController();
  /** Kernel ids of launches this app started itself (start() reports those). */
  private readonly own = new Set<string>();

  constructor(private readonly opts: LaunchesOptions) {}

  isWaiting(kernelId: string): boolean {
    return this.waiting.has(kernelId);
  }

  close(): void {
    this.abort.abort();
  }

  /**
   * A kernel the registry just listed: when its backend says it is still starting (a gateway kernel whose
   * POST returned early), ask it for kernel_info and hold `starting` until it answers.
   */
  confirm(kernelId: string): Promise<void> {
    const existing = this.waiting.get(kernelId);
    if (existing) return existing;
    const kb = this.opts.backend.kernelBackend(kernelId);
    if (!kb || kb.executionState !== 'starting') return Promise.resolve();
    const p = waitForKernelInfo(kb, {
      timeoutMs: this.opts.readyTimeoutMs ?? 300_000,
      signal: this.abort.signal,
    }).finally(() => {
      this.waiting.delete(kernelId);
      this.opts.changed(kernelId);
    });
    this.waiting.set(kernelId, p);
    this.opts.changed(kernelId);
    return p;
  }

  forget(kernelId: string): void {
    this.startedAt.delete(kernelId);
    this.own.delete(kernelId);
  }

  /**
   * A step of a launch the registry reports. The app's own starts are reported by start() (which adds the
   * kernel_info confirmation); any other start is shown from these steps, under a launch id of its own.
   */
  outside(l: BackendLaunch): void {
    // Own starts report themselves; a spec that resolved to no cluster launched nothing (the client got a 404).
    if (this.own.has(l.kernelId) || !l.clusterId) return;
    if (l.status !== 'launching') this.own.delete(l.kernelId);
    const status = l.status === 'launching' ? 'running' : l.status === 'ready' ? 'done' : 'failed';
    this.opts.emit({
      launchId: `outside-${l.kernelId}`,
      kernelId: l.kernelId,
      clusterId: l.clusterId,
      specName: l.specName,
      phase: l.phase,
      message: status === 'failed' ? 'The kernel did not start' : l.message,
      detail: l.detail,
      elapsedMs: l.elapsedMs,
      status,
      error: l.error,
    });
  }

  start(clusterId: string, specName: string, env: Record<string, string> = {}): { launchId: string } {
    const { backend, log } = this.opts;
    const launchId = randomUUID();
    const started = Date.now();
    let kernelId: string | null = null;
    const push = (p: Omit<LaunchProgressEvent, 'launchId' | 'kernelId' | 'clusterId' | 'specName'>): void =>
      this.opts.emit({ launchId, kernelId, clusterId, specName, ...p });
    const where = this.opts.clusterName(clusterId);
    const running = (
      phase: string,
      message: string,
      elapsedMs = Date.now() - started,
      detail: string | null = null,
    ): void => push({ phase, message, detail, elapsedMs, status: 'running', error: null });
    running('requested', `Starting ${specName} on ${where}`, 0);
    log.info('kernels', `starting ${specName} on ${where}`);
    const fail = (err: unknown): void => {
      push({
        phase: 'failed',
        message: 'The kernel did not start',
        detail: null,
        elapsedMs: Date.now() - started,
        status: 'failed',
        error: msg(err),
      });
      log.error('kernels', `${specName} on ${where} did not start: ${msg(err)}`);
    };
    void backend
      .startKernel({
        clusterId,
        specName,
        env,
        onKernelId: (id) => {
          kernelId = id;
          this.own.add(id);
          this.startedAt.set(id, new Date());
        },
        onProgress: (p: LaunchProgress) => running(p.phase, p.message, p.elapsedMs, p.detail ?? null),
      })
      .then(async (k) => {
        kernelId = k.id;
        if (this.opts.backend.kernelBackend(k.id)?.executionState === 'starting')
          running('kernel-info', 'Waiting for the kernel to answer');
        try {
          await this.confirm(k.id);
        } catch (err) {
          fail(new Error(`${where} started the kernel, but it did not answer: ${msg(err)}`));
          return;
        }
        push({
          phase: 'ready',
          message: 'The kernel is ready',
          detail: null,
          elapsedMs: Date.now() - started,
          status: 'done',
          error: null,
        });
        log.info(
          'kernels',
          `kernel ${k.id.slice(0, 8)} (${specName}) is ready in ${Date.now() - started} ms`,
        );
      }, fail);
    return { launchId };
  }
}
