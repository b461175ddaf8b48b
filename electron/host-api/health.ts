// Live health of the clusters: what the Clusters screen shows and what Start depends on. Gateway clusters
// get a light check (one GET of the kernelspecs, the same request the UI needs anyway) every few seconds
// while the app is open, and the full diagnosis when the person presses "Test connection". A change of
// status is pushed at once; a cluster that comes back also gets its environments re-listed.
import type { HostBackend } from './backend';
import { clusterKinds } from '../clusters/kinds';
import type { ClusterHealth } from './models';

export interface HealthOptions {
  backend: HostBackend;
  /** The status or message of a cluster changed. */
  changed: (clusterId: string, prev: ClusterHealth | undefined, next: ClusterHealth) => void;
  /** How often gateway clusters are checked (ms); 0 turns the background checks off. */
  intervalMs: number;
  /** A check that takes longer than this counts as unreachable. */
  checkTimeoutMs?: number;
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

export class ClusterHealthMonitor {
  private readonly health = new Map<string, ClusterHealth>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(private readonly opts: HealthOptions) {}

  get(id: string): ClusterHealth | undefined {
    return this.health.get(id);
  }

  set(id: string, h: ClusterHealth): void {
    if (this.closed) return;
    const prev = this.health.get(id);
    this.health.set(id, h);
    if (!prev || prev.status !== h.status || prev.message !== h.message) this.opts.changed(id, prev, h);
  }

  delete(id: string): void {
    this.health.delete(id);
  }

  start(): void {
    void this.checkAll();
    if (this.opts.intervalMs > 0) {
      this.timer = setInterval(() => void this.checkAll(), this.opts.intervalMs);
      this.timer.unref?.();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** The light check of one gateway cluster: can its kernelspecs be listed right now? */
  check(id: string): Promise<void> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = this.runCheck(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  async checkAll(): Promise<void> {
    if (this.closed) return;
    const clusters = await this.opts.backend.listClusters().catch(() => []);
    await Promise.all(clusters.filter((c) => clusterKinds.isRemote(c.kind)).map((c) => this.check(c.id)));
  }

  private async runCheck(id: string): Promise<void> {
    const rt = this.opts.backend.runtime(id);
    if (this.closed || (rt && !clusterKinds.isRemote(rt.kind))) return;
    if (!rt) {
      // Not usable as configured (no runtime could be built): the full diagnosis says why.
      const d = await this.opts.backend.testCluster({ id }).catch(() => null);
      if (d)
        this.set(id, {
          status: d.ok ? 'ok' : 'unreachable',
          message: d.ok ? d.title : `${d.title}: ${d.detail}`,
          checkedAt: new Date().toISOString(),
        });
      return;
    }
    if (!this.health.has(id))
      this.set(id, { status: 'checking', message: 'Checking…', checkedAt: new Date().toISOString() });
    let timer: ReturnType<typeof setTimeout> | null = null;
    const limit = this.opts.checkTimeoutMs ?? 10_000;
    try {
      const listing = await Promise.race([
        rt.listKernelSpecs(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${Math.round(limit / 1000)} s`)),
            limit,
          );
        }),
      ]);
      this.set(id, {
        status: 'ok',
        message: `Lists ${plural(listing.specs.length, 'kernel environment')}`,
        checkedAt: new Date().toISOString(),
      });
    } catch (err) {
      this.set(id, { status: 'unreachable', message: msg(err), checkedAt: new Date().toISOString() });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
