// A kernel as the UI shows it, from the registry's view plus what only the host service knows: whether it
// has answered kernel_info yet, when it was asked for, whether the app's own console is attached.
import type { BackendKernel } from './backend';
import type { KernelSummary } from './models';

export interface SummaryContext {
  /** The display name shown so far (kept across updates). */
  displayName: string | undefined;
  clusterName: string | undefined;
  /** Listed, but not yet answering kernel_info. */
  waiting: boolean;
  /** When the app asked for it (restarts reset it). */
  startedAt: Date | undefined;
  consoleOpen: boolean;
}

export function summarizeKernel(k: BackendKernel, c: SummaryContext): KernelSummary {
  return {
    id: k.id,
    clusterId: k.clusterId,
    clusterName: c.clusterName ?? k.clusterId,
    specName: k.specName,
    displayName: c.displayName ?? k.specName,
    // Listed, but not yet answering kernel_info: starting, whatever the cluster says.
    state: c.waiting && k.state !== 'dead' ? 'starting' : k.state,
    startedAt: (c.startedAt ?? k.startedAt).toISOString(),
    lastActivity: k.lastActivity.toISOString(),
    // The app's own console is a connection too (it talks to the kernel without the proxy).
    connections: k.connections + (c.consoleOpen ? 1 : 0),
    reason: k.reason,
    cullAfter: k.cullAfter ?? null,
    ...(k.params ? { params: { ...k.params } } : {}),
  };
}
