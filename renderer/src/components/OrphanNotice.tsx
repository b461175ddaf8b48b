// Kernel containers (or Swarm services) from an earlier session: what a crash or a forgotten kernel left on a
// cluster, found by this install's labels (host API listOrphans). One quiet line per cluster with Remove and
// Keep; Keep hides those items for this session (module state: the Clusters screen remounts on navigation).
// Loaded when the screen opens and when the cluster list changes; never polled.
import { useCallback, useEffect, useState } from 'react';
import type { OrphanKernelSummary } from '../../../electron/host-api/contract';
import { useModel, useSel } from '../context';
import { errorText } from '../host/errors';

const kept = new Set<string>();
const keyOf = (o: OrphanKernelSummary) => `${o.clusterId}/${o.id}`;

export function OrphanNotice() {
  const { host } = useModel();
  const clusterKey = useSel('clusters', (s) => s.clusters.map((c) => c.id).join(','));
  const [items, setItems] = useState<OrphanKernelSummary[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const r = await host.listOrphans();
      setItems(r.orphans.filter((o) => !kept.has(keyOf(o))));
    } catch {
      // Not being able to look is no news for the user; the cluster's own health says why.
      setItems([]);
    }
  }, [host]);

  useEffect(() => {
    void load();
  }, [load, clusterKey]);

  if (items.length === 0) return null;
  const byCluster = new Map<string, OrphanKernelSummary[]>();
  for (const o of items) byCluster.set(o.clusterId, [...(byCluster.get(o.clusterId) ?? []), o]);

  const remove = async (clusterId: string, list: OrphanKernelSummary[]) => {
    setBusy(clusterId);
    setError(null);
    try {
      const r = await host.removeOrphans({ items: list.map((o) => ({ clusterId, id: o.id })) });
      if (r.errors.length) setError(r.errors.join('\n'));
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };
  const keep = (list: OrphanKernelSummary[]) => {
    for (const o of list) kept.add(keyOf(o));
    setItems((xs) => xs.filter((x) => !kept.has(keyOf(x))));
  };

  return (
    <div className="panel orphans" role="status" aria-label="Kernel containers from an earlier session">
      {[...byCluster].map(([clusterId, list]) => {
        const n = list.length;
        const noun = `kernel ${list[0]!.noun}${n === 1 ? '' : 's'}`;
        return (
          <p key={clusterId} data-orphans-cluster={clusterId} style={{ margin: '2px 0' }}>
            <span
              title={list.map((o) => `${o.name} (${o.image}, ${o.state}, kernel ${o.kernelId})`).join('\n')}
            >
              {n} {noun} from an earlier session {n === 1 ? 'is' : 'are'} still on {list[0]!.clusterName}.
            </span>{' '}
            <button
              className="secondary small"
              disabled={busy !== null}
              onClick={() => void remove(clusterId, list)}
              aria-label={`Remove ${n} ${noun} on ${list[0]!.clusterName}`}
            >
              {busy === clusterId ? 'Removing…' : 'Remove'}
            </button>{' '}
            <button
              className="secondary small"
              disabled={busy !== null}
              onClick={() => keep(list)}
              aria-label={`Keep ${n} ${noun} on ${list[0]!.clusterName}`}
            >
              Keep
            </button>
          </p>
        );
      })}
      {error && <p className="error-text">{error}</p>}
    </div>
  );
}
