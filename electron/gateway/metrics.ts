// GET /api/gateway-desktop/metrics: the proxy's own health figures (memory, CPU, event-loop delay, kernels,
// connections), token-protected like every route. `?reset=1` restarts the event-loop delay histogram, so the
// benchmark can measure one window. Cheap enough to leave on: the histogram samples every 10 ms.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KernelRegistry } from '../kernels/registry';
import type { GatewayProxy } from './proxy';
import { sendJson } from './http-util';

export const METRICS_PATH = '/api/gateway-desktop/metrics';

const RESOLUTION_MS = 10;

export function mountMetrics(proxy: GatewayProxy, registry: KernelRegistry): () => void {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  const off = proxy.addRoute(METRICS_PATH, ({ res, method, query }) => {
    if (method !== 'GET') return false;
    // The histogram records the time between its timer's runs (resolution + lateness; an idle process shows
    // ~10.1 ms), so the delay is what exceeds the resolution.
    const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const kernels = registry.list();
    const body = {
      rssBytes: process.memoryUsage().rss,
      cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      kernels: kernels.length,
      connections: kernels.reduce((n, k) => n + k.connections, 0),
      eventLoopDelayMs: {
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        max: ms(delay.max),
      },
    };
    if (query.get('reset') === '1') delay.reset();
    sendJson(res, 200, body);
  });
  return () => {
    off();
    delay.disable();
  };
}
