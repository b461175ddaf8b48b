// Kernel environment logos as data: URLs (the renderer loads nothing from the proxy), cached per cluster
// and spec until the clusters change.
import type { ClusterRuntime } from '../clusters/types';

const LOGO_KEYS = ['logo-svg', 'logo-64x64', 'logo-128x128', 'logo-32x32'];
const MAX_LOGO_BYTES = 256 * 1024;

export class LogoCache {
  private readonly cache = new Map<string, string | null>();

  clear(): void {
    this.cache.clear();
  }

  async get(
    rt: ClusterRuntime | undefined,
    clusterId: string,
    spec: string,
    resources: Record<string, string>,
  ): Promise<string | null> {
    const key = `${clusterId}\0${spec}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    let url: string | null = null;
    for (const k of LOGO_KEYS) {
      const file = resources[k];
      if (!file || !rt) continue;
      try {
        const r = await rt.getResource(spec, file);
        if (!r || r.body.length > MAX_LOGO_BYTES) continue;
        const type = k === 'logo-svg' || file.endsWith('.svg') ? 'image/svg+xml' : 'image/png';
        url = `data:${type};base64,${r.body.toString('base64')}`;
        break;
      } catch {
        // try the next size
      }
    }
    this.cache.set(key, url);
    return url;
  }
}
