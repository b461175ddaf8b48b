// The one host API contract. Both transports (Electron IPC through the preload, and the WebSocket of
// `npm run serve`) carry exactly these methods and events; the renderer cannot tell which it has.
// Pure types and constants only: the renderer's tsconfig includes this file.
import type {
  AcceptHostKeyRequest,
  AppInfo,
  ClusterDetail,
  ClusterKindInfo,
  ClusterInput,
  ClusterSummary,
  ConnectionDiagnosis,
  ConsoleDoneEvent,
  ConsoleOutputEvent,
  ConsoleRun,
  EnvironmentList,
  ForeignKernelSummary,
  HostErrorData,
  KernelSummary,
  LabStatus,
  LaunchProgressEvent,
  LogEntry,
  OpenLabOptions,
  ProxyInfo,
  Settings,
} from './models';
import type { LaunchForm, LaunchRequest, SizeRequest } from './launch-models';
import type { OrphanList, RemoveOrphansRequest, RemoveOrphansResult } from './orphan-models';

export type * from './models';
export type * from './launch-models';
export type * from './orphan-models';

/** Every request the renderer can make. All return promises; errors reject with a HostError. */
export interface HostMethods {
  getAppInfo(): Promise<AppInfo>;
  // clusters
  listClusters(): Promise<ClusterSummary[]>;
  /** The cluster kinds (electron/clusters/kinds/) with their settings fields: what the add/edit form shows. */
  listClusterKinds(): Promise<ClusterKindInfo[]>;
  /** Check add/edit form input with the one validator (the CLI's and the store's): field -> message. */
  checkCluster(input: ClusterInput, baseId?: string): Promise<Record<string, string>>;
  getCluster(id: string): Promise<ClusterDetail>;
  addCluster(input: ClusterInput): Promise<ClusterSummary>;
  editCluster(id: string, input: ClusterInput): Promise<ClusterSummary>;
  removeCluster(id: string): Promise<void>;
  /** Test a saved cluster (by id) or unsaved form input, without saving anything. */
  testCluster(
    target: { id: string } | { input: ClusterInput; baseId?: string },
  ): Promise<ConnectionDiagnosis>;
  /**
   * "Trust this host" after a test reported 'host-key-unknown': the host's key is fetched again and written to
   * known_hosts only if it is still the fingerprint the user saw (rejects with 'conflict' otherwise).
   */
  acceptHostKey(req: AcceptHostKeyRequest): Promise<void>;
  setActiveCluster(id: string): Promise<void>;
  // kernel environments
  listEnvironments(clusterId: string): Promise<EnvironmentList>;
  // kernels
  listKernels(): Promise<KernelSummary[]>;
  /** The launch parameters the cluster's kind declares for this environment, with their defaults. */
  getLaunchForm(req: { clusterId: string; specName: string }): Promise<LaunchForm>;
  /** Check launch values with what the cluster can tell (syntax, then its own checks): variable -> message. */
  checkLaunch(req: LaunchRequest): Promise<Record<string, string>>;
  /**
   * Starts in the background with `env` (KERNEL_* values; none: the defaults); progress arrives as
   * `launch-progress` events with the returned launchId. Invalid values reject with fieldErrors, unsent.
   */
  startKernel(req: LaunchRequest): Promise<{ launchId: string }>;
  /** Save the values as a named size of the environment (listed as its own kernelspec); fieldErrors as checkLaunch. */
  saveSize(req: SizeRequest): Promise<void>;
  removeSize(req: SizeRequest): Promise<void>;
  interruptKernel(id: string): Promise<void>;
  restartKernel(id: string): Promise<void>;
  shutdownKernel(id: string): Promise<void>;
  /** Kernels another client started on a gateway cluster (not yet listed by the app). */
  listForeignKernels(clusterId: string): Promise<ForeignKernelSummary[]>;
  /** Lists such a kernel in the app (and the proxy) under its own id. */
  adoptKernel(req: { clusterId: string; kernelId: string }): Promise<KernelSummary>;
  /** Containers (or services) labelled as this install's kernels that no listed kernel owns. */
  listOrphans(): Promise<OrphanList>;
  /** Removes them (force); one that cannot be removed is named in `errors`, the others still go. */
  removeOrphans(req: RemoveOrphansRequest): Promise<RemoveOrphansResult>;
  // console (runs in the main process; the kernel's key never leaves it)
  execute(req: { kernelId: string; code: string }): Promise<ConsoleRun>;
  /** Answers the input() a console run is waiting on. */
  answerInput(req: { runId: string; value: string }): Promise<void>;
  // proxy + JupyterLab
  getProxyInfo(): Promise<ProxyInfo>;
  openLab(opts: OpenLabOptions): Promise<LabStatus>;
  getLabStatus(): Promise<LabStatus>;
  stopLab(): Promise<LabStatus>;
  // settings + log
  getSettings(): Promise<Settings>;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
  getLog(): Promise<LogEntry[]>;
}

export type HostMethodName = keyof HostMethods;

/** The method names, in one place (preload contract tests check the exposed keys against this list). */
export const HOST_METHOD_NAMES = [
  'getAppInfo',
  'listClusters',
  'listClusterKinds',
  'checkCluster',
  'getCluster',
  'addCluster',
  'editCluster',
  'removeCluster',
  'testCluster',
  'acceptHostKey',
  'setActiveCluster',
  'listEnvironments',
  'listKernels',
  'getLaunchForm',
  'checkLaunch',
  'saveSize',
  'removeSize',
  'startKernel',
  'interruptKernel',
  'restartKernel',
  'shutdownKernel',
  'listForeignKernels',
  'adoptKernel',
  'listOrphans',
  'removeOrphans',
  'execute',
  'answerInput',
  'getProxyInfo',
  'openLab',
  'getLabStatus',
  'stopLab',
  'getSettings',
  'updateSettings',
  'getLog',
] as const satisfies readonly HostMethodName[];

// Compile-time check that the list above names every method exactly.
type MissingMethods = Exclude<HostMethodName, (typeof HOST_METHOD_NAMES)[number]>;
export const _allMethodsListed: MissingMethods extends never ? true : never = true;

/** Events pushed from the main process. */
export interface HostEvents {
  'clusters-changed': ClusterSummary[];
  'environments-changed': { clusterId: string };
  'kernel-added': KernelSummary;
  'kernel-updated': KernelSummary;
  'kernel-removed': { id: string };
  'launch-progress': LaunchProgressEvent;
  'console-output': ConsoleOutputEvent;
  'console-done': ConsoleDoneEvent;
  'lab-status': LabStatus;
  'settings-changed': Settings;
  log: LogEntry;
}

export type HostEventName = keyof HostEvents;

export const HOST_EVENT_NAMES = [
  'clusters-changed',
  'environments-changed',
  'kernel-added',
  'kernel-updated',
  'kernel-removed',
  'launch-progress',
  'console-output',
  'console-done',
  'lab-status',
  'settings-changed',
  'log',
] as const satisfies readonly HostEventName[];

type MissingEvents = Exclude<HostEventName, (typeof HOST_EVENT_NAMES)[number]>;
export const _allEventsListed: MissingEvents extends never ? true : never = true;

export type HostEventListener<E extends HostEventName> = (payload: HostEvents[E]) => void;

/** What the renderer holds: every method plus `on` to subscribe to pushed events. */
export type HostApi = HostMethods & {
  on<E extends HostEventName>(event: E, listener: HostEventListener<E>): () => void;
};

/** The keys `window.gatewayDesktop` exposes, exactly. */
export const PRELOAD_KEYS: readonly string[] = [...HOST_METHOD_NAMES, 'on'];

/** Name of the global the preload exposes. */
export const PRELOAD_GLOBAL = 'gatewayDesktop';

// ---- channel names ----

/** IPC channel of a method (ipcRenderer.invoke). */
export function ipcMethodChannel(method: HostMethodName): string {
  return `host:call:${method}`;
}
/** IPC channel main pushes every event on (payload: HostEventMessage). */
export const IPC_EVENT_CHANNEL = 'host:event';

/** Path of the WebSocket transport on the serve HTTP server. */
export const HOST_WS_PATH = '/host-api';
/** Subprotocol the WebSocket transport speaks. */
export const HOST_WS_PROTOCOL = 'gateway-desktop.host-api.v1';

// ---- wire messages (both transports) ----

export interface HostCallMessage {
  t: 'call';
  id: number;
  method: HostMethodName;
  args: unknown[];
}

export type HostResultMessage =
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: HostErrorData };

export interface HostEventMessage {
  t: 'event';
  event: HostEventName;
  payload: unknown;
}

/** IPC handler replies: errors travel as data so code and field errors survive. */
export type HostIpcReply = { ok: true; value: unknown } | { ok: false; error: HostErrorData };

/** Errors cross contextBridge as plain Errors (custom fields are dropped), so the preload puts the
 * HostErrorData as JSON after this prefix in the message; the renderer decodes it. */
export const ENCODED_ERROR_PREFIX = 'HostError:';

/** The error a host call rejects with, on either transport. */
export class HostError extends Error {
  readonly code: HostErrorData['code'];
  readonly fieldErrors: Record<string, string> | undefined;
  constructor(data: HostErrorData) {
    super(data.message);
    this.name = 'HostError';
    this.code = data.code;
    this.fieldErrors = data.fieldErrors;
  }
  toData(): HostErrorData {
    return this.fieldErrors
      ? { code: this.code, message: this.message, fieldErrors: this.fieldErrors }
      : { code: this.code, message: this.message };
  }
}

export function isHostMethodName(x: unknown): x is HostMethodName {
  return typeof x === 'string' && (HOST_METHOD_NAMES as readonly string[]).includes(x);
}
