// startKernel: the kernelspec's provisioner (registry.ts) + KernelManager. Refused before anything runs when
// the spec names a provisioner this app does not have here.
import { defaultProvisionerRegistry } from './default-registry';
import { KernelManager, type KernelManagerOptions, type StartKernelOptions } from './kernel-manager';
import type { ProvisionerRegistry } from './registry';
import type { KernelProvisioner, KernelSpec, ProvisionerState } from './types';

/**
 * Start a kernel and resolve once it answered kernel_info. Without `opts.provisioner`, the one the kernelspec
 * names is made by `registry` (default: the local registry), which throws ProvisionerUnavailableError first
 * when there is none here.
 */
export async function startKernel(
  opts: StartKernelOptions & { registry?: ProvisionerRegistry; outlivesApp?: boolean },
): Promise<KernelManager> {
  const { registry, outlivesApp, ...rest } = opts;
  const provisioner =
    rest.provisioner ??
    (registry ?? defaultProvisionerRegistry()).create({
      kernelId: rest.kernelId,
      spec: rest.spec,
      outlivesApp,
    });
  return KernelManager.start({ ...rest, provisioner });
}

/**
 * Re-attach to a kernel left running from its saved state, with a provisioner of the kind that saved it
 * (`state.provisioner`, made by `registry`) unless `opts.provisioner` is given.
 */
export async function reattachKernel(
  state: ProvisionerState,
  spec: KernelSpec,
  opts: KernelManagerOptions & {
    provisioner?: KernelProvisioner;
    registry?: ProvisionerRegistry;
    timeoutMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<KernelManager> {
  const { registry, ...rest } = opts;
  const provisioner =
    rest.provisioner ?? (registry ?? defaultProvisionerRegistry()).createForState(state, spec);
  return KernelManager.reattach(state, spec, { ...rest, provisioner });
}
