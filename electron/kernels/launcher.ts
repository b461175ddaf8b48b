// Kernel launches: the request's id and time limit, the spec resolved to a cluster, the start on that
// cluster, and the launch's progress (phase, elapsed time, the cluster's own words, the failure reason) for
// every start, whoever asked for it. Finished launches are kept (a bounded history) for the UI.
import { randomUUID } from 'node:crypto';
import type { KernelBackend } from '../../provisioners/types';
import type { ClusterRuntime } from '../clusters/types';
import {
  BadRequestError,
  GatewayError,
  KernelLaunchError,
  KernelSpecNotFoundError,
  errorMessage,
} from './errors';
import { startOnCluster } from './launch-on-cluster';
import { sizeValuesOf } from '../clusters/sized-runtime';
import {
  withTimeout,
  type KernelInfo,
  type LaunchInfo,
  type SpecResolver,
  type StartOptions,
} from './registry-types';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** KERNEL_LAUNCH_TIMEOUT (seconds) as the launch's time limit, within 1 s .. 30 min; else `fallbackMs`. */
function launchTimeoutOf(env: Record<string, string>, fallbackMs: number): number {
  const s = Number(env.KERNEL_LAUNCH_TIMEOUT);
  return env.KERNEL_LAUNCH_TIMEOUT && Number.isFinite(s) && s > 0
    ? Math.min(Math.max(s * 1000, 1000), 30 * 60_000)
    : fallbackMs;
}

/**
 * The KERNEL_* parameters a kernel is shown with ("what it got"): what the start sent, size included, without
 * the id and anything named like a secret (a client may pass a token as KERNEL_*; it is not ours to show).
 */
export function recordedParams(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (k.startsWith('KERNEL_') && k !== 'KERNEL_ID' && v !== '' && !SECRET_NAME.test(k)) out[k] = v;
  return out;
}
const SECRET_NAME = /TOKEN|SECRET|PASSW|CREDENTIAL|_KEY\b|_KEY_|AUTH/i;

export interface LauncherDeps {
  directory: SpecResolver;
  defaultLaunchTimeoutMs: number;
  launchHistory: number;
  emit: (l: LaunchInfo) => void;
  isClosing: () => boolean;
  /** Whether a kernel with this id is listed already. */
  listed: (id: string) => boolean;
  /** List a started backend; the returned function announces it (after the launch says ready). */
  list: (
    id: string,
    backend: KernelBackend,
    cluster: ClusterRuntime,
    specName: string,
    clusterSpecName: string,
    params: Record<string, string>,
  ) => () => KernelInfo;
}

export class KernelLauncher {
  private readonly launchMap = new Map<string, LaunchInfo>();
  private readonly pending = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  constructor(private readonly deps: LauncherDeps) {}

  /** Launches in progress and the most recent finished ones (oldest first). */
  launches(): LaunchInfo[] {
    return [...this.launchMap.values()].map((l) => ({ ...l }));
  }

  /** Whether a launch for this kernel id is in progress. */
  launching(id: string): boolean {
    return this.pending.has(id);
  }

  /** Abort every launch in progress and wait (bounded) for them to give up. */
  async abortAll(timeoutMs: number): Promise<void> {
    const launches = [...this.pending.values()];
    for (const p of launches) p.controller.abort(new Error('shutting down'));
    await withTimeout(Promise.allSettled(launches.map((p) => p.done)), timeoutMs).catch(() => undefined);
  }

  private pruneLaunches(): void {
    const finished = [...this.launchMap.values()].filter((l) => l.status !== 'launching');
    for (let i = 0; i < finished.length - this.deps.launchHistory; i++)
      this.launchMap.delete(finished[i].kernelId);
  }

  /**
   * Start a kernel by the spec name a client sent (own name: active cluster; pinned: its cluster).
   * `env` holds KERNEL_* and allow-listed variables; `KERNEL_ID` (UUID v4) chooses the id,
   * `KERNEL_LAUNCH_TIMEOUT` (s) the time limit, `KERNEL_WORKING_DIR` the working directory.
   * Resolves once the kernel answered kernel_info; rejects with a {@link GatewayError}
   * (404 unknown spec, 400 bad env, 500 launch failure, 503 shutting down).
   */
  async start(
    specName: string,
    env: Record<string, string> = {},
    opts: StartOptions = {},
  ): Promise<KernelInfo> {
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== 'string') throw new BadRequestError(`env.${k} must be a string`);
    }
    let kernelId: string = randomUUID();
    if (env.KERNEL_ID !== undefined && env.KERNEL_ID !== '') {
      if (!UUID_V4.test(env.KERNEL_ID))
        throw new BadRequestError(`KERNEL_ID must be a UUID v4: ${env.KERNEL_ID}`);
      if (this.deps.listed(env.KERNEL_ID.toLowerCase()) || this.pending.has(env.KERNEL_ID.toLowerCase())) {
        throw new GatewayError(409, 'Conflict', `A kernel with id ${env.KERNEL_ID} already exists`);
      }
      kernelId = env.KERNEL_ID.toLowerCase();
    }
    let timeoutMs = opts.launchTimeoutMs ?? this.deps.defaultLaunchTimeoutMs;
    if (opts.launchTimeoutMs === undefined) timeoutMs = launchTimeoutOf(env, timeoutMs);
    const t0 = Date.now();
    const launch: LaunchInfo = {
      kernelId,
      specName,
      clusterId: null,
      clusterName: null,
      status: 'launching',
      phase: 'resolving',
      message: `Looking up kernelspec "${specName}"`,
      elapsedMs: 0,
      startedAt: new Date(t0).toISOString(),
    };
    this.launchMap.set(kernelId, launch);
    this.deps.emit({ ...launch });

    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(opts.signal?.reason);
    if (opts.signal?.aborted) controller.abort(opts.signal.reason);
    else opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const timeoutFixed = opts.launchTimeoutMs !== undefined;
    const run = this.runLaunch(
      kernelId,
      specName,
      env,
      opts.cwd,
      { timeoutMs, timeoutFixed },
      launch,
      controller,
    );
    this.pending.set(kernelId, { controller, done: run.catch(() => undefined) });
    try {
      return await run;
    } finally {
      this.pending.delete(kernelId);
      opts.signal?.removeEventListener('abort', onOuterAbort);
      this.pruneLaunches();
    }
  }

  private async runLaunch(
    kernelId: string,
    specName: string,
    env: Record<string, string>,
    cwd: string | undefined,
    limit: { timeoutMs: number; timeoutFixed: boolean },
    launch: LaunchInfo,
    controller: AbortController,
  ): Promise<KernelInfo> {
    let { timeoutMs } = limit;
    const { timeoutFixed } = limit;
    const t0 = Date.parse(launch.startedAt);
    const progress = (phase: string, message: string, detail?: string) => {
      launch.phase = phase;
      launch.message = message;
      if (detail) launch.detail = detail;
      else delete launch.detail;
      launch.elapsedMs = Date.now() - t0;
      this.deps.emit({ ...launch });
    };
    const fail = (err: GatewayError): never => {
      launch.status = 'failed';
      launch.error = err.message;
      progress('failed', err.message);
      throw err;
    };
    let resolved: { cluster: ClusterRuntime; specName: string } | null;
    try {
      resolved = await this.deps.directory.resolveSpec(specName, { user: env.KERNEL_USERNAME });
    } catch (err) {
      return fail(err instanceof GatewayError ? err : new KernelLaunchError(errorMessage(err)));
    }
    if (!resolved) return fail(new KernelSpecNotFoundError(specName));
    const { cluster } = resolved;
    // A saved size's values under the client's own (sized-runtime.ts); kept so the kernel shows what it got.
    const size = sizeValuesOf(cluster, resolved.specName);
    if (size.KERNEL_LAUNCH_TIMEOUT && !env.KERNEL_LAUNCH_TIMEOUT && !timeoutFixed)
      timeoutMs = launchTimeoutOf(size, timeoutMs);
    env = { ...size, ...env };
    launch.clusterId = cluster.id;
    launch.clusterName = cluster.name;
    progress('starting', `Starting "${resolved.specName}" on ${cluster.name}`);

    let backend: KernelBackend;
    try {
      backend = await startOnCluster({
        cluster,
        kernelId,
        requestedName: specName,
        clusterSpecName: resolved.specName,
        env,
        cwd,
        timeoutMs,
        controller,
        isClosing: this.deps.isClosing,
        onProgress: (p) => {
          if (launch.status === 'launching') progress(p.phase, p.message, p.detail);
        },
      });
    } catch (err) {
      return fail(err instanceof GatewayError ? err : new KernelLaunchError(errorMessage(err)));
    }
    const params = recordedParams(env);
    const announce = this.deps.list(kernelId, backend, cluster, specName, resolved.specName, params);
    launch.status = 'ready';
    progress('ready', `Kernel ready on ${cluster.name}`);
    return announce();
  }
}
