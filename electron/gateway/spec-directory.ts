// What the proxy needs from the cluster directory (a narrow view, so tests can pass a fake one).
import type { ClusterDirectory } from '../clusters/directory';

export type SpecDirectory = Pick<ClusterDirectory, 'listKernelSpecs' | 'getSpec' | 'getResource'>;
