// Kernel containers (or services) from an earlier session (issue 13: "at start the app lists containers of
// kernels it no longer knows (by label) and offers to remove them"): listed from every enabled cluster whose
// runtime can tell (ClusterRuntime.listOrphans), and removed one by one on the user's word. The runtime only
// lists and removes what carries this install's kernel labels; anyone else's containers are never offered.
import type { AppCore } from '../app-core';
import { HostError } from './contract';
import type { OrphanKernelSummary, OrphanList, RemoveOrphansResult } from './orphan-models';

export interface OrphanAccess {
  listOrphans(): Promise<OrphanList>;
  removeOrphan(clusterId: string, id: string): Promise<void>;
}

export function orphanAccess(core: Pick<AppCore, 'registry' | 'directory' | 'restored'>): OrphanAccess {
  const { registry, directory } = core;
  return {
    async listOrphans() {
      // Another live app on this data dir owns the same install id: its kernels would look like orphans.
      if (core.restored.foreign) return { orphans: [], errors: [] };
      // Kernels being launched have a container before the registry lists them: they count as known.
      const known = new Set([
        ...registry.ids(),
        ...registry
          .launches()
          .filter((l) => l.status === 'launching')
          .map((l) => l.kernelId),
      ]);
      const errors: string[] = [];
      const lists = await Promise.all(
        directory.clusters.map(async (rt) => {
          if (!rt.listOrphans) return [];
          try {
            return (await rt.listOrphans(known)).map(
              (o): OrphanKernelSummary => ({
                clusterId: rt.id,
                clusterName: rt.name,
                id: o.id,
                name: o.name,
                kernelId: o.kernelId,
                image: o.image,
                state: o.state,
                createdAt: o.createdAt,
                noun: rt.orphanNoun ?? 'container',
              }),
            );
          } catch (err) {
            errors.push(`${rt.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
            return [];
          }
        }),
      );
      // A kernel started meanwhile is listed by now: never offer its container.
      const now = new Set(registry.ids());
      return { orphans: lists.flat().filter((o) => !now.has(o.kernelId)), errors };
    },
    async removeOrphan(clusterId, id) {
      const rt = directory.get(clusterId);
      if (!rt)
        throw new HostError({ code: 'not-found', message: `There is no enabled cluster "${clusterId}".` });
      if (!rt.removeOrphan)
        throw new HostError({
          code: 'invalid-input',
          message: `${rt.name} has no kernel containers to remove.`,
        });
      await rt.removeOrphan(id);
    },
  };
}

/** The host API side of listOrphans (a backend without the access lists nothing). */
export async function listOrphansFor(access: Partial<OrphanAccess>): Promise<OrphanList> {
  return access.listOrphans ? access.listOrphans() : { orphans: [], errors: [] };
}

/** Checks the request, then removes each item; one failure does not stop the others. */
export async function removeOrphansFor(
  access: Partial<OrphanAccess>,
  req: unknown,
): Promise<RemoveOrphansResult> {
  const items = (req as { items?: unknown } | null)?.items;
  const ok =
    Array.isArray(items) &&
    items.length <= 1000 &&
    items.every(
      (x: unknown) =>
        typeof x === 'object' &&
        x !== null &&
        typeof (x as { clusterId?: unknown }).clusterId === 'string' &&
        typeof (x as { id?: unknown }).id === 'string',
    );
  if (!ok)
    throw new HostError({
      code: 'invalid-input',
      message: 'Say which containers to remove (cluster id and id).',
    });
  if (!access.removeOrphan)
    throw new HostError({ code: 'unavailable', message: 'This build cannot remove them.' });
  const remove = access.removeOrphan;
  const result: RemoveOrphansResult = { removed: 0, errors: [] };
  for (const it of items as { clusterId: string; id: string }[]) {
    try {
      await remove(it.clusterId, it.id);
      result.removed++;
    } catch (err) {
      result.errors.push(`${it.id.slice(0, 12)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return result;
}
