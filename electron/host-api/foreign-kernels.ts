// Kernels another client started on a gateway (JupyterLab pointed straight at it, a colleague's script):
// listed per gateway cluster from its runtime, and adopted into the registry so they show, relay and shut
// down like the app's own. Only runtimes that can adopt (gateway clusters) take part.
import type { AppCore } from '../app-core';
import type { ForeignKernel } from '../clusters/types';
import { HostError } from './contract';
import type { ForeignKernelSummary } from './models';

export interface ForeignKernelAccess {
  /** What the gateway runs that no client of this app started (empty for clusters that cannot tell). */
  listForeignKernels(clusterId: string): Promise<ForeignKernel[]>;
  /** Lists an upstream kernel in the registry under its upstream id; resolves with that id. */
  adoptKernel(clusterId: string, kernelId: string): Promise<string>;
}

export function foreignKernelAccess(core: Pick<AppCore, 'registry' | 'directory'>): ForeignKernelAccess {
  const { registry, directory } = core;
  const runtime = (clusterId: string) => {
    const rt = directory.get(clusterId);
    if (!rt) throw Object.assign(new Error(`There is no enabled cluster "${clusterId}".`), { status: 404 });
    return rt;
  };
  return {
    async listForeignKernels(clusterId) {
      const rt = runtime(clusterId);
      if (!rt.listForeignKernels) return [];
      const known = new Set(registry.list().map((k) => k.id));
      return (await rt.listForeignKernels()).filter((k) => !known.has(k.id.toLowerCase()));
    },
    async adoptKernel(clusterId, kernelId) {
      const rt = runtime(clusterId);
      if (!rt.adoptKernel)
        throw Object.assign(new Error(`${rt.name} cannot take over kernels other clients started.`), {
          status: 400,
        });
      const backend = await rt.adoptKernel(kernelId);
      const specName = backend.specName;
      const info = registry.adopt({
        id: kernelId,
        backend,
        cluster: rt,
        specName: directory.activeId === clusterId ? specName : directory.pinnedName(clusterId, specName),
        clusterSpecName: specName,
      });
      return info.id;
    },
  };
}

/** The host API side: checks the arguments and turns the runtime's list into the contract's model. */
export async function listForeignFor(
  access: Partial<ForeignKernelAccess>,
  clusterId: unknown,
): Promise<ForeignKernelSummary[]> {
  const id = checkId(clusterId, 'Cluster id');
  if (!access.listForeignKernels) return [];
  try {
    return (await access.listForeignKernels(id)).map((k) => ({
      clusterId: id,
      id: k.id,
      specName: k.name,
      executionState: k.executionState,
      lastActivity: k.lastActivity,
      connections: k.connections,
    }));
  } catch (err) {
    throw asError(err);
  }
}

export async function adoptFor(access: Partial<ForeignKernelAccess>, req: unknown): Promise<string> {
  if (typeof req !== 'object' || req === null)
    throw new HostError({ code: 'invalid-input', message: 'Say which kernel to adopt.' });
  const r = req as { clusterId?: unknown; kernelId?: unknown };
  const clusterId = checkId(r.clusterId, 'Cluster id');
  const kernelId = checkId(r.kernelId, 'Kernel id');
  if (!access.adoptKernel)
    throw new HostError({ code: 'unavailable', message: 'This build cannot adopt kernels.' });
  try {
    return await access.adoptKernel(clusterId, kernelId);
  } catch (err) {
    throw asError(err);
  }
}

function checkId(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1000)
    throw new HostError({ code: 'invalid-input', message: `${what} is missing or not valid.` });
  return v;
}

function asError(err: unknown): HostError {
  if (err instanceof HostError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  const message = err instanceof Error ? err.message : String(err);
  const code: HostError['code'] =
    status === 404
      ? 'not-found'
      : status === 400
        ? 'invalid-input'
        : status === 409
          ? 'conflict'
          : 'unavailable';
  return new HostError({ code, message });
}
