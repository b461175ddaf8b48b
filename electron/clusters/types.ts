// A cluster is a place kernels run: this computer (our local provisioner), a remote Enterprise/Kernel
// Gateway (relay), or later SSH/Docker/Kubernetes/YARN. The proxy routes every kernel to the cluster
// that owns it and knows nothing of how the cluster works.
import type { KernelBackend, KernelSpecFile, LaunchProgress } from '../../provisioners/types';
import type { KeptKernelDetails } from '../kernels/left-running';

/** A kernelspec as served on /api/kernelspecs (resources are file names; the proxy builds URLs). */
export interface ClusterKernelSpec {
  name: string;
  spec: KernelSpecFile;
  /** Resource key -> file name, served by getResource(). */
  resources: Record<string, string>;
}

export interface ClusterKernelSpecs {
  default: string | null;
  specs: ClusterKernelSpec[];
  /** Specs that exist but could not be used (malformed kernel.json, ...), for the UI. */
  problems: { name: string; path: string; message: string }[];
}

/** Who is asking for kernelspecs (a client's `?user=` or KERNEL_USERNAME). */
export interface SpecQuery {
  user?: string;
}

export interface StartKernelRequest {
  kernelId: string;
  specName: string;
  env: Record<string, string>;
  cwd?: string;
  onProgress?: (p: LaunchProgress) => void;
  signal?: AbortSignal;
}

/** A kernel the cluster knows of that this app did not start (e.g. started on the gateway by someone else). */
export interface ForeignKernel {
  id: string;
  name: string;
  executionState: string;
  lastActivity: string;
  connections: number;
}

/** What a kernel left on a cluster once the app forgot the kernel (a container or service with our labels). */
export interface OrphanKernelResource {
  /** The engine's id, what removeOrphan takes. */
  id: string;
  name: string;
  kernelId: string;
  image: string;
  /** The engine's state (running, exited, …; '' when it has none). */
  state: string;
  createdAt: string;
}

export interface ClusterRuntime {
  readonly id: string;
  readonly name: string;
  readonly kind: string; // 'local' | 'gateway' | ...
  /**
   * The kernelspecs. `user`: the user a client asks for (`?user=`, its KERNEL_USERNAME); clusters that
   * filter per user (Enterprise Gateway) list what that user may start.
   */
  listKernelSpecs(opts?: SpecQuery): Promise<ClusterKernelSpecs>;
  getResource(specName: string, file: string): Promise<{ body: Buffer; contentType: string } | null>;
  startKernel(req: StartKernelRequest): Promise<KernelBackend>;
  /** Kernels running on the cluster that the app may adopt (optional: local has none). */
  listForeignKernels?(): Promise<ForeignKernel[]>;
  adoptKernel?(id: string): Promise<KernelBackend>;
  /**
   * "Leave running" (optional; without it the registry shuts the kernel down on quit). What re-attaching to
   * this kernel later needs, or null when it cannot outlive the app (e.g. tied to the app's process).
   */
  keepInfo?(backend: KernelBackend): KeptKernelDetails | null;
  /** Stop managing a kernel without stopping it (sockets closed, process or upstream kernel kept). */
  releaseKernel?(backend: KernelBackend): Promise<void>;
  /** Re-attach to a kernel left running, under the proxy id `kernelId`; throws when it is gone. */
  reattachKernel?(
    kernelId: string,
    clusterSpecName: string,
    details: KeptKernelDetails,
  ): Promise<KernelBackend>;
  /**
   * Orphans (optional; kinds that label what they create): what carries this install's kernel labels but
   * belongs to none of `knownKernelIds`. removeOrphan refuses anything without those labels.
   */
  listOrphans?(knownKernelIds: Iterable<string>): Promise<OrphanKernelResource[]>;
  removeOrphan?(id: string): Promise<void>;
  /** What one orphan is called in the UI ("container", "service"; default "container"). */
  readonly orphanNoun?: string;
  /** Stop background work (polls, sockets). Kernels are shut down by the registry, not here. */
  dispose(): Promise<void>;
}
