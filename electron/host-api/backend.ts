// What the host service needs from the rest of the main process, as one narrow interface. The adapter in
// app-core-adapter.ts builds it from app-core (registry, directory, cluster store, diagnosis, lab launcher);
// unit tests give a small in-memory one. Plain Node types only.
import type { KernelBackend, LaunchProgress } from '../../provisioners/types';
import type { ClusterRuntime } from '../clusters/types';
import type { SavedSize } from '../clusters/kinds/sizes';
import type { FieldProblem } from '../clusters/kinds/types';
import type { LaunchParameter } from '../clusters/kinds/launch-parameters';
import type { ForeignKernelAccess } from './foreign-kernels';
import type { OrphanAccess } from './orphans';
import type {
  AcceptHostKeyRequest,
  ClusterInput,
  ConnectionDiagnosis,
  GatewaySettingsView,
  KernelState,
  LabStatus,
  OpenLabOptions,
  SettingsValues,
} from './models';

export interface BackendCluster {
  id: string;
  name: string;
  kind: string;
  builtIn: boolean;
  url: string | null;
  active: boolean;
}

export interface BackendKernel {
  id: string;
  clusterId: string;
  specName: string;
  state: KernelState;
  startedAt: Date;
  lastActivity: Date;
  connections: number;
  reason: string | null;
  /** ISO 8601: when idle culling shuts it down if it stays inactive (absent: not culled now). */
  cullAfter?: string | null;
  /** The KERNEL_* parameters it was started with. */
  params?: Record<string, string>;
}

export type BackendKernelEvent =
  | { type: 'added'; kernel: BackendKernel }
  | { type: 'updated'; kernel: BackendKernel }
  /** `reason`: 'shutdown', 'culled after …', 'left running', 'dead: …'. */
  | { type: 'removed'; id: string; reason?: string };

export interface BackendLab {
  open(opts: OpenLabOptions): Promise<LabStatus>;
  status(): LabStatus;
  stop(): Promise<LabStatus>;
  onStatus(listener: (s: LabStatus) => void): () => void;
}

/** Adopting kernels other clients started is optional (test backends leave it out). */
/** One step of a kernel launch as the registry reports it. */
export interface BackendLaunch {
  kernelId: string;
  /** Null until the spec was resolved to a cluster. */
  clusterId: string | null;
  /** The spec's name on its cluster. */
  specName: string;
  status: 'launching' | 'ready' | 'failed';
  phase: string;
  message: string;
  detail: string | null;
  elapsedMs: number;
  error: string | null;
}

/** What a cluster's kind declares for starting one environment's kernel, and its cluster-side check. */
export interface ClusterLaunchParameters {
  parameters: LaunchParameter[];
  check(values: Record<string, string>): Promise<FieldProblem[]>;
}

export interface HostBackend extends Partial<ForeignKernelAccess>, Partial<OrphanAccess> {
  readonly proxyUrl: string;
  readonly token: string;
  readonly dataDir: string;

  listClusters(): Promise<BackendCluster[]>;
  getGatewaySettings(id: string): Promise<GatewaySettingsView | null>;
  /** A cluster's settings values (its kind's fields; secrets left out) and which secrets are saved. */
  getClusterSettings?(
    id: string,
  ): Promise<{ settings: SettingsValues; secretsSet: Record<string, boolean> } | null>;
  /** Saves a new cluster; resolves with its id. Throws a HostError('invalid-input') for bad input. */
  addCluster(input: ClusterInput): Promise<string>;
  editCluster(id: string, input: ClusterInput): Promise<void>;
  removeCluster(id: string): Promise<void>;
  setActiveCluster(id: string): Promise<void>;
  testCluster(
    target: { id: string } | { input: ClusterInput; baseId?: string },
  ): Promise<ConnectionDiagnosis>;
  /** Trust a host key the user confirmed; resolves with the known_hosts file written (null: already trusted). */
  acceptHostKey?(req: AcceptHostKeyRequest): Promise<{ file: string | null }>;
  /** Where secrets are kept, in words. */
  secretStorage(): string;
  onClustersChanged(listener: () => void): () => void;
  runtime(clusterId: string): ClusterRuntime | undefined;
  /** Launch parameters a cluster adds to every start (shown with its environments). */
  launchSettings(clusterId: string): Promise<Record<string, string>>;

  /** The launch parameters of a cluster's environment (absent: only free KERNEL_* rows, generic checks). */
  launchParameters?(clusterId: string, specName: string): Promise<ClusterLaunchParameters>;
  /** Change a cluster's saved sizes (kinds/sizes.ts); rejects with what the validator refused. */
  saveSizes?(clusterId: string, change: (sizes: SavedSize[]) => SavedSize[]): Promise<void>;

  listKernels(): BackendKernel[];
  startKernel(req: {
    clusterId: string;
    specName: string;
    /** KERNEL_* values chosen for this start (checked already). */
    env?: Record<string, string>;
    onProgress: (p: LaunchProgress) => void;
    onKernelId: (id: string) => void;
  }): Promise<BackendKernel>;
  interruptKernel(id: string): Promise<void>;
  restartKernel(id: string): Promise<void>;
  shutdownKernel(id: string): Promise<void>;
  /** The running kernel, for the console's private port (null when the registry does not expose it). */
  kernelBackend(id: string): KernelBackend | null;
  onKernelEvent(listener: (e: BackendKernelEvent) => void): () => void;
  /** Every kernel launch, whoever asked for it (the app, JupyterLab or Papermill through the proxy, the CLI). */
  onLaunchProgress(listener: (l: BackendLaunch) => void): () => void;

  lab: BackendLab | null;
}
