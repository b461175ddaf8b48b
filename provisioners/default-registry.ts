// The registry the app uses for kernels on this computer: the local provisioner (the default), and
// Gateway Provisioners' names as known-but-unavailable (refused with what they need).
import type { ProvisionerContext } from './context';
import { GATEWAY_PROVISIONERS } from './gateway-provisioners';
import { localProvisionerFactory } from './local/factory';
import { ProvisionerRegistry } from './registry';

export function createLocalProvisionerRegistry(
  context?: ProvisionerContext,
  where = 'This computer',
): ProvisionerRegistry {
  return new ProvisionerRegistry(context, where)
    .register(localProvisionerFactory)
    .markUnavailable(...GATEWAY_PROVISIONERS);
}

let shared: ProvisionerRegistry | undefined;

/** One registry (and context) per process, for callers that do not bring their own. */
export function defaultProvisionerRegistry(): ProvisionerRegistry {
  shared ??= createLocalProvisionerRegistry();
  return shared;
}
