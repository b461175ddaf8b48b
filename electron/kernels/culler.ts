// Idle culling in the registry, with Jupyter Server's semantics (MappingKernelManager.cull_*): every
// cull_interval a cluster's kernels are checked, and one inactive for longer than cull_idle_timeout is shut
// down, unless it is busy (cull_busy) or has clients connected (cull_connected). Activity is the kernel's
// last message, as Jupyter counts it. The policy is read per cluster at every tick (settings changed with
// `npm run cluster -- set` apply to running kernels); a gateway cluster has none (its upstream culls).
import type { CullPolicy } from '../clusters/kinds/culling';
import { cullAfterOf, lastActivityOf } from './entry-views';
import type { Entry } from './registry-types';

/** How often the culler wakes up; each cluster is still checked only every cull_interval. */
const TICK_MS = 1000;

export interface CullerDeps {
  entries(): Iterable<Entry>;
  policy(clusterId: string): CullPolicy | null;
  /** Shut the kernel down, reporting `reason` (clients see a shut-down kernel). */
  cull(e: Entry, reason: string): void;
  /** A kernel's policy changed (its "culled after" time is re-published). */
  changed(e: Entry): void;
}

const same = (a: CullPolicy | null | undefined, b: CullPolicy | null): boolean =>
  (a ?? null) === b || (!!a && !!b && JSON.stringify(a) === JSON.stringify(b));

export class KernelCuller {
  private timer: NodeJS.Timeout | null = null;
  /** Per cluster: when its kernels are checked next. */
  private readonly nextCheck = new Map<string, number>();

  constructor(private readonly deps: CullerDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  tick(now: number): void {
    const due = new Map<string, boolean>();
    for (const e of [...this.deps.entries()]) {
      const p = this.deps.policy(e.clusterId);
      if (!same(e.cullPolicy, p)) {
        e.cullPolicy = p;
        this.deps.changed(e);
      }
      if (!p) continue;
      let isDue = due.get(e.clusterId);
      if (isDue === undefined) {
        // Like Jupyter's periodic callback, the first check comes one interval after culling is on.
        const next = this.nextCheck.get(e.clusterId) ?? now + p.intervalMs;
        isDue = now >= next;
        this.nextCheck.set(e.clusterId, isDue ? now + p.intervalMs : next);
        due.set(e.clusterId, isDue);
      }
      if (!isDue) continue;
      const at = cullAfterOf(e);
      if (at && now > at.getTime()) {
        const idle = Math.round((now - lastActivityOf(e).getTime()) / 1000);
        this.deps.cull(
          e,
          `culled after ${idle} s of inactivity (cull_idle_timeout ${p.idleTimeoutMs / 1000} s, ${e.connections} connections)`,
        );
      }
    }
    for (const id of [...this.nextCheck.keys()]) if (!due.has(id)) this.nextCheck.delete(id);
  }
}
