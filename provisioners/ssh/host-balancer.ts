// Which host of an SSH cluster runs the next kernel. One balancer per cluster, shared by its kernels.
// Unlike Gateway Provisioners' distributed provisioner, least-connections starts from every host at zero (the
// reference never seeds its map, so a host without kernels yet is not preferred), and a kernel is counted
// from the moment its host is chosen until it is released, including failed starts.

export type Balancing = 'round-robin' | 'least-connections';

export class HostBalancer {
  private next = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly hosts: readonly string[],
    readonly balancing: Balancing = 'round-robin',
  ) {
    if (hosts.length === 0) throw new Error('an SSH cluster needs at least one host');
    for (const h of hosts) this.counts.set(h, 0);
  }

  /**
   * Choose a host, counting a kernel on it; `pinned` (KERNEL_REMOTE_HOST) wins when given. The returned
   * release() uncounts it (idempotent).
   */
  acquire(pinned?: string, among: readonly string[] = this.hosts): { host: string; release(): void } {
    const host = pinned?.trim() || this.pick(among.length ? among : this.hosts);
    this.counts.set(host, (this.counts.get(host) ?? 0) + 1);
    let released = false;
    return {
      host,
      release: () => {
        if (released) return;
        released = true;
        this.counts.set(host, Math.max(0, (this.counts.get(host) ?? 1) - 1));
      },
    };
  }

  /** Kernels counted per host (for the UI and tests). */
  load(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  private pick(among: readonly string[]): string {
    if (this.balancing === 'least-connections') {
      let best = among[0]!;
      for (const h of among) if ((this.counts.get(h) ?? 0) < (this.counts.get(best) ?? 0)) best = h;
      return best;
    }
    const host = among[this.next % among.length]!;
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return host;
  }
}
