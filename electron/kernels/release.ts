// "Leave running" at app exit: every kernel its cluster can keep is released (it runs on without the app) and
// its record returned for re-attaching next time; the others are shut down. Split from registry.ts.
import { keptRecord } from './entry-views';
import { errorMessage } from './errors';
import type { KeptKernelRecord } from './left-running';
import { withTimeout, type Entry } from './registry-types';

export interface ReleaseDeps {
  shutdown(id: string): Promise<void>;
  remove(e: Entry, reason: string): void;
  timeoutMs: number;
}

export async function releaseEntries(entries: Entry[], deps: ReleaseDeps): Promise<KeptKernelRecord[]> {
  const kept: KeptKernelRecord[] = [];
  await Promise.allSettled(
    entries.map(async (e) => {
      // Let a restart in progress finish first: between two processes there is nothing to keep.
      if (e.restarting) await withTimeout(e.restarting, deps.timeoutMs).catch(() => undefined);
      const rec = keptRecord(e);
      if (rec && e.cluster.releaseKernel) {
        try {
          await e.cluster.releaseKernel(e.backend);
          kept.push(rec);
          deps.remove(e, 'left running');
          return;
        } catch (err) {
          console.error(`kernel ${e.id}: cannot be left running, shutting it down: ${errorMessage(err)}`);
        }
      }
      await withTimeout(deps.shutdown(e.id), deps.timeoutMs).catch(() => undefined);
    }),
  );
  return kept;
}
