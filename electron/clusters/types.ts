// A cluster is a place kernels run: this computer (our local provisioner), a remote Enterprise/Kernel
// Gateway (relay), or later SSH/Docker/Kubernetes/YARN. The proxy routes every kernel to the cluster
// that owns it and knows nothing of how the cluster works.
import type { KernelBackend, KernelSpecFile, LaunchProgress } from '../../provisioners/types';

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

export interface ClusterRuntime {
  readonly id: string;
  readonly name: string;
  readonly kind: string; // 'local' | 'gateway' | ...
  listKernelSpecs(): Promise<ClusterKernelSpecs>;
  getResource(specName: string, file: string): Promise<{ body: Buffer; contentType: string } | null>;
  startKernel(req: StartKernelRequest): Promise<KernelBackend>;
  /** Kernels running on the cluster that the app may adopt (optional: local has none). */
  listForeignKernels?(): Promise<ForeignKernel[]>;
  adoptKernel?(id: string): Promise<KernelBackend>;
  /** Stop background work (polls, sockets). Kernels are shut down by the registry, not here. */
  dispose(): Promise<void>;
}
