// GET /api/gateway-desktop/metrics: the proxy's own health figures (memory, CPU, event-loop delay, kernels,
// connections), token-protected like every route. `?reset=1` restarts the event-loop delay histogram, so the
// benchmark can measure one window. Cheap enough to leave on: the histogram samples every 10 ms.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KernelRegistry } from '../kernels/registry';
import type { GatewayProxy } from './proxy';
import { sendJson } from './http-util';

export const METRICS_PATH = '/api/gateway-desktop/metrics';

export function mountMetrics(proxy: GatewayProxy, registry: KernelRegistry): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const off = proxy.addRoute(METRICS_PATH, ({ res, method, query }) => {
    if (method !== 'GET') return false;
    const ms = (ns: number) => ns / 1e6;
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
