// What the Swarm suites share: a cluster config on the test engine (its image runs the host's Python through
// read-only bind mounts, host network), a bed that starts kernels and cleans up after them, and the checks that
// nothing of a kernel is left on the Swarm.
import { randomUUID } from 'node:crypto';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  type TestDockerd,
} from '../../../../scripts/testing/dockerd';
import type { KernelBackend, LaunchProgress } from '../../../../provisioners/types';
import type { SwarmClusterConfig } from '../../kinds/swarm/config';
import { PYTHON, waitFor } from '../../test/helpers';
import { SwarmCluster } from '../swarm-cluster';

export const skipWithoutDockerd = dockerdUnavailable() ?? false;

export function swarmConfig(d: TestDockerd, over: Partial<SwarmClusterConfig> = {}): SwarmClusterConfig {
  return {
    id: 'swarm-test',
    name: 'Test swarm',
    kind: 'swarm',
    host: d.host,
    image: d.image,
    python: PYTHON,
    volumes: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`),
    launchTimeoutSec: 60,
    ...over,
  };
}

/** Services, secrets and configs on the engine whose labels name `kernelId` (all of them when omitted). */
export async function swarmObjectsOf(
  d: TestDockerd,
  kernelId?: string,
): Promise<{ services: number; secrets: number; configs: number; containers: number }> {
  const filters = JSON.stringify({ label: kernelId ? [`kernel_id=${kernelId}`] : ['app=gateway-desktop'] });
  const [services, secrets, configs, containers] = await Promise.all([
    d.docker.listServices({ filters }),
    d.docker.listSecrets({ filters }),
    d.docker.listConfigs({ filters }),
    d.docker.listContainers({ all: true, filters }),
  ]);
  return {
    services: services.length,
    secrets: secrets.length,
    configs: configs.length,
    containers: containers.length,
  };
}

/** Waits (bounded) until nothing labelled with the kernel's id is left, containers included. */
export async function waitNothingLeft(d: TestDockerd, kernelId?: string): Promise<void> {
  await waitFor(
    `nothing of kernel ${kernelId ?? '(any)'} left on the Swarm`,
    async () => {
      const o = await swarmObjectsOf(d, kernelId);
      return o.services + o.secrets + o.configs + o.containers === 0;
    },
    30_000,
    200,
  );
}

export class SwarmTestBed {
  readonly installId = randomUUID();
  private readonly clusters: SwarmCluster[] = [];
  readonly kernels: KernelBackend[] = [];

  constructor(private readonly d: TestDockerd) {}

  cluster(over: Partial<SwarmClusterConfig> = {}): SwarmCluster {
    const c = new SwarmCluster(swarmConfig(this.d, over), {
      installId: this.installId,
      log: () => undefined,
    });
    this.clusters.push(c);
    return c;
  }

  async start(
    c: SwarmCluster,
    env: Record<string, string> = {},
    opts: { onProgress?: (p: LaunchProgress) => void; signal?: AbortSignal; kernelId?: string } = {},
  ): Promise<KernelBackend> {
    const k = await c.startKernel({
      kernelId: opts.kernelId ?? randomUUID(),
      specName: 'python3',
      env,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    this.kernels.push(k);
    return k;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.kernels.map((k) => k.shutdown()));
    await Promise.allSettled(this.clusters.map((c) => c.dispose()));
  }
}
