// Snapshots of a registry entry: the UI's KernelInfo, the Jupyter REST model, and the record kept for a
// kernel left running.
import type { KeptKernelRecord } from './left-running';
import { isoMicro, type Entry, type KernelInfo, type KernelModel } from './registry-types';

/** The UI's snapshot of a kernel. */
export function entryInfo(e: Entry): KernelInfo {
  const info: KernelInfo = {
    id: e.id,
    specName: e.specName,
    clusterId: e.clusterId,
    clusterName: e.clusterName,
    clusterSpecName: e.clusterSpecName,
    executionState: e.executionState,
    lastActivity: isoMicro(lastActivityOf(e)),
    connections: e.connections,
    startedAt: e.startedAt.toISOString(),
  };
  if (e.reason !== undefined) info.reason = e.reason;
  if (e.link !== undefined) info.link = e.link;
  const cull = cullAfterOf(e);
  if (cull) info.cullAfter = cull.toISOString();
  if (Object.keys(e.params).length) info.params = { ...e.params };
  return info;
}

/**
 * When idle culling shuts the kernel down if nothing happens meanwhile (Jupyter's rule: inactive longer than
 * cull_idle_timeout, not busy unless cull_busy, no clients unless cull_connected); null when it would not.
 */
export function cullAfterOf(e: Entry): Date | null {
  const p = e.cullPolicy;
  if (!p || e.shuttingDown || e.restarting) return null;
  if (e.executionState === 'dead' || e.executionState === 'restarting') return null;
  if (e.executionState === 'busy' && !p.busy) return null;
  if (e.connections > 0 && !p.connected) return null;
  return new Date(lastActivityOf(e).getTime() + p.idleTimeoutMs);
}

/** The backend's own value is fresher than its (throttled) activity events. */
export function lastActivityOf(e: Entry): Date {
  const b = e.backend.lastActivity;
  return b instanceof Date && b.getTime() > e.lastActivity.getTime() ? b : e.lastActivity;
}

/** The REST model; `listedName` is the name the kernel is listed under now (see SpecResolver.listedName). */
export function entryModel(e: Entry, listedName: string | null): KernelModel {
  const m: KernelModel = {
    id: e.id,
    name: listedName ?? e.specName,
    last_activity: isoMicro(lastActivityOf(e)),
    execution_state: e.executionState,
    connections: e.connections,
  };
  if (e.reason !== undefined && e.executionState === 'dead') m.reason = e.reason;
  return m;
}

/** What re-attaching to a kernel after an app restart needs; null when it cannot or should not be kept. */
export function keptRecord(e: Entry): KeptKernelRecord | null {
  if (e.executionState === 'dead' || e.shuttingDown || e.restarting || e.restartAnnounced) return null;
  const details = e.cluster.keepInfo?.(e.backend) ?? null;
  if (!details) return null;
  return {
    id: e.id,
    clusterId: e.clusterId,
    specName: e.specName,
    clusterSpecName: e.clusterSpecName,
    startedAt: e.startedAt.toISOString(),
    ...(Object.keys(e.params).length ? { params: { ...e.params } } : {}),
    details,
  };
}
