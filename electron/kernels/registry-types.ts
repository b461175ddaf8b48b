// The registry's shapes: kernel models (REST and UI), launches, events, options, and the entry it keeps per
// kernel. Split from registry.ts so its helpers can share them without importing the registry itself.
import type { ExecutionState, KernelBackend } from '../../provisioners/types';
import type { ClusterRuntime } from '../clusters/types';
import type { CullPolicy } from '../clusters/kinds/culling';

/** The kernel model exactly as the Jupyter REST API serves it (GET /api/kernels). */
export interface KernelModel {
  id: string;
  /** The kernelspec name as the client requested it (own name or pinned `<slug>--<spec>`). */
  name: string;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds and Z: jupyter_server parses it strictly). */
  last_activity: string;
  execution_state: ExecutionState;
  /** Number of open kernel WebSockets. */
  connections: number;
  /** Why the kernel is dead (only set when dead). */
  reason?: string;
}

/** A serialisable snapshot of one kernel for UIs and events. */
export interface KernelInfo {
  id: string;
  /** The kernelspec name as the client requested it. */
  specName: string;
  clusterId: string;
  clusterName: string;
  /** The spec's own name on its cluster. */
  clusterSpecName: string;
  executionState: ExecutionState;
  /** ISO 8601 with microseconds and Z. */
  lastActivity: string;
  connections: number;
  reason?: string;
  /** The way to a live kernel is impaired: a remote one cannot be reached, or it misses heartbeats. */
  link?: KernelLink;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601: when idle culling shuts it down if it stays inactive (absent: it is not culled now). */
  cullAfter?: string;
  /** The KERNEL_* parameters it was started with (no secrets; absent when none). */
  params?: Record<string, string>;
}

/** Why a live kernel is not answering right now (`reason` says more). */
export type KernelLink = 'disconnected' | 'not-answering';

/** Read-only view of a registry entry (the backend is exposed for the proxy's channel layer). */
export interface KernelEntry {
  readonly id: string;
  readonly backend: KernelBackend;
  readonly clusterId: string;
  readonly clusterName: string;
  /** The kernelspec name as requested by the client. */
  readonly specName: string;
  readonly clusterSpecName: string;
  readonly startedAt: Date;
  readonly executionState: ExecutionState;
  readonly lastActivity: Date;
  readonly connections: number;
  readonly reason?: string;
  readonly link?: KernelLink;
}

export type LaunchStatus = 'launching' | 'ready' | 'failed';

/** One kernel launch as the UI's launch-progress view shows it. */
export interface LaunchInfo {
  /** The id the kernel gets when it starts. */
  kernelId: string;
  specName: string;
  clusterId: string | null;
  clusterName: string | null;
  status: LaunchStatus;
  /** Latest phase (`resolving`, `spawning`, `waiting-for-ports`, `connecting`, `kernel-info`, `ready`, `failed`). */
  phase: string;
  message: string;
  elapsedMs: number;
  /** The cluster's own words for the latest phase (a pod's event, a gateway's message), when it gave any. */
  detail?: string;
  /** ISO 8601. */
  startedAt: string;
  /** Failure reason, kept for the UI when status is `failed`. */
  error?: string;
}

/** Events of a {@link KernelRegistry}. */
export interface KernelRegistryEvents extends Record<string, unknown> {
  /** A kernel finished starting and is now listed. */
  'kernel-added': KernelInfo;
  /** State, activity (coalesced to at most one per second), connection count or reason changed. */
  'kernel-updated': KernelInfo;
  /** A kernel left the list (shut down, or a dead kernel that expired). */
  'kernel-removed': { id: string; reason: string };
  /** A launch moved to a new phase, became ready, or failed. */
  'launch-progress': LaunchInfo;
  /** The kernel is restarting (requested or automatic). */
  'kernel-restarting': { id: string };
  /** The kernel restarted and answered kernel_info. */
  'kernel-restarted': { id: string; requested: boolean };
  /** Idle culling decided to shut it down (`kernel-removed` follows with the same reason). */
  'kernel-culled': { id: string; reason: string };
  /** The kernel died; it stays listed as dead with `reason` until deleted or expired. */
  'kernel-dead': { id: string; reason: string };
}

/** What the registry needs from the cluster directory. */
export interface SpecResolver {
  /** `user`: the client's KERNEL_USERNAME (clusters that offer kernelspecs per user). */
  resolveSpec(
    name: string,
    q?: { user?: string },
  ): Promise<{ cluster: ClusterRuntime; specName: string } | null>;
  /** The name a kernel of this cluster's spec is listed under now (own name on the active cluster, pinned elsewhere). */
  listedName?(clusterId: string, clusterSpecName: string): string | null;
}

export interface KernelRegistryOptions {
  directory: SpecResolver;
  /** Launch time limit when the request has no KERNEL_LAUNCH_TIMEOUT. Default 60 s. */
  defaultLaunchTimeoutMs?: number;
  /** How long a dead kernel stays listed (as `dead`, with a reason) before it is dropped. Default 10 min. */
  deadKernelTtlMs?: number;
  /** Finished launches kept for the UI. Default 50. */
  launchHistory?: number;
  /** Time limit for one kernel's shutdown in shutdownAll(). Default 15 s. */
  shutdownTimeoutMs?: number;
  /** Idle culling of a cluster's kernels (null: none); read at every check. Absent: no culling at all. */
  cullPolicy?: (clusterId: string) => CullPolicy | null;
}

export interface StartOptions {
  /** Working directory; default `env.KERNEL_WORKING_DIR` when set. */
  cwd?: string;
  /** Launch time limit; default `env.KERNEL_LAUNCH_TIMEOUT` (seconds) or the registry default. */
  launchTimeoutMs?: number;
  signal?: AbortSignal;
}

/** ISO 8601 UTC with microseconds and `Z` (`2024-05-01T12:34:56.789000Z`). */
export function isoMicro(d: Date): string {
  return d.toISOString().replace('Z', '000Z');
}

/** A listed kernel as the registry keeps it (mutable; the registry and its helpers only). */
export interface Entry {
  id: string;
  backend: KernelBackend;
  /** The runtime that started it (kept even if the cluster is later reconfigured or removed). */
  cluster: ClusterRuntime;
  clusterId: string;
  clusterName: string;
  specName: string;
  clusterSpecName: string;
  startedAt: Date;
  executionState: ExecutionState;
  lastActivity: Date;
  connections: number;
  reason?: string;
  link?: KernelLink;
  unsubscribe: () => void;
  restarting: Promise<void> | null;
  restartAnnounced: boolean;
  shuttingDown: Promise<void> | null;
  deadTimer: NodeJS.Timeout | null;
  activityTimer: NodeJS.Timeout | null;
  lastEmit: number;
  /** The KERNEL_* parameters it was started with (launcher.ts recordedParams). */
  params: Record<string, string>;
  /** Its cluster's idle culling as last read (culler.ts). */
  cullPolicy?: CullPolicy | null;
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
