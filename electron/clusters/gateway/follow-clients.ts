// Tell every relayed kernel how many clients the proxy has for it (the registry counts the WebSockets), so
// it can close its upstream sockets when the last client has gone (GatewayKernel.setClientCount).
import type { KernelInfo, KernelRegistry } from '../../kernels/registry';
import { GatewayKernel } from './kernel';

export function followClientCounts(registry: Pick<KernelRegistry, 'on' | 'get'>): () => void {
  const update = (info: KernelInfo): void => {
    const backend = registry.get(info.id)?.backend;
    if (backend instanceof GatewayKernel) backend.setClientCount(info.connections);
  };
  const offs = [registry.on('kernel-added', update), registry.on('kernel-updated', update)];
  return () => offs.forEach((off) => off());
}
