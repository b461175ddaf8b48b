// The header's "New kernels start on …": a switcher, so changing the active cluster is one choice from any
// screen. Each option says when its cluster cannot be reached right now.
import { useId, useState } from 'react';
import { useModel, useSel } from '../context';

export function ClusterSwitcher() {
  const clusters = useSel('clusters', (s) => s.clusters);
  const active = clusters.find((c) => c.active) ?? null;
  const { actions } = useModel();
  const [switching, setSwitching] = useState(false);
  const id = useId();
  if (!active) return null;
  return (
    <div className="active-chip" title="New kernels start on the active cluster">
      <label htmlFor={id}>New kernels start on</label>
      <select
        id={id}
        className="cluster-switcher"
        value={active.id}
        aria-busy={switching}
        onChange={(e) => {
          const next = e.target.value;
          setSwitching(true);
          void actions.makeActive(next).finally(() => setSwitching(false));
        }}
      >
        {clusters.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
            {c.remote && c.health.status === 'unreachable' ? ' (unreachable)' : ''}
          </option>
        ))}
      </select>
    </div>
  );
}
