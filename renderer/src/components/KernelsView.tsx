import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { KernelSummary, LaunchProgressEvent } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { envDisplayName, onCluster } from '../stores/clusters';
import { kernelList } from '../stores/kernels';
import { duration, relativeTime, seconds, shortId } from '../util/format';
import { compactParams, fullParams } from '../util/params';
import { ForeignKernels } from './ForeignKernels';
import { KernelActions } from './KernelActions';
import { StateBadge } from './StateBadge';

function LaunchCard({ l }: { l: LaunchProgressEvent }) {
  const { kernels } = useModel();
  const now = useSel('clock', (s) => s.now);
  const [started] = useState(() => Date.now() - l.elapsedMs);
  const elapsed = l.status === 'running' ? Math.max(l.elapsedMs, now - started) : l.elapsedMs;
  const cluster = useSel(
    'clusters',
    (s) => s.clusters.find((c) => c.id === l.clusterId)?.name ?? l.clusterId,
  );
  const display = useSel('clusters', (s) => envDisplayName(s, l.clusterId, l.specName));
  const phases = useSel('kernels', (s) => s.launchPhases[l.launchId]);
  return (
    <li
      className={`launch launch-${l.status}`}
      data-launch-status={l.status}
      data-launch-spec={l.specName}
      data-launch-kernel={l.kernelId ?? undefined}
      data-launch-outside={l.launchId.startsWith('outside-') ? 'true' : undefined}
    >
      <div className="launch-head">
        <strong>
          {l.status === 'failed' ? 'Could not start' : l.status === 'done' ? 'Started' : 'Starting'}{' '}
          {onCluster(display, cluster)}
        </strong>
        <span className="muted">{seconds(elapsed)}</span>
      </div>
      <ol className="launch-phases" aria-label="Launch phases">
        {(phases ?? []).map((p, i) => (
          <li key={i} className={i === (phases ?? []).length - 1 ? 'current' : undefined}>
            <span className="phase">{p.phase}</span> <span className="muted">{seconds(p.elapsedMs)}</span>
          </li>
        ))}
      </ol>
      <div className="launch-phase">
        {l.message}
        {l.launchId.startsWith('outside-') && <span className="muted"> · started by another client</span>}
      </div>
      {l.detail && <div className="launch-detail muted">{l.detail}</div>}
      {l.status === 'running' && <progress aria-label={`Starting ${l.specName}`} />}
      {l.error && (
        <p className="error-text" role="alert">
          {l.error}
        </p>
      )}
      {l.status !== 'running' && (
        <button className="link" onClick={() => kernels.getState().dismissLaunch(l.launchId)}>
          Dismiss
        </button>
      )}
    </li>
  );
}

function KernelRow({ k }: { k: KernelSummary }) {
  const now = useSel('clock', (s) => s.now);
  const display = useSel('clusters', (s) => envDisplayName(s, k.clusterId, k.specName));
  const params = compactParams(k.params);
  return (
    <tr data-kernel-id={k.id} data-state={k.state}>
      <td>
        <StateBadge state={k.state} />
        {k.reason && <div className="reason">{k.reason}</div>}
      </td>
      <td>
        <div>{display}</div>
        <div className="muted mono" title={k.id}>
          {shortId(k.id)}
        </div>
        {/* What it was started with (KERNEL_*): a few words, every value on hover and unfolded. */}
        {k.params && Object.keys(k.params).length > 0 && (
          <details className="kernel-params small" data-testid="kernel-params">
            <summary title={fullParams(k.params)}>{params || 'Parameters'}</summary>
            <pre className="mono">{fullParams(k.params)}</pre>
          </details>
        )}
      </td>
      <td>{k.clusterName}</td>
      <td>{duration(now - Date.parse(k.startedAt))}</td>
      <td>
        <time dateTime={k.lastActivity} title={new Date(k.lastActivity).toLocaleString()}>
          {relativeTime(k.lastActivity, now)}
        </time>
        {/* Idle culling (the cluster's cull_idle_timeout): when it goes if nothing happens meanwhile. */}
        {k.cullAfter && (
          <div className="muted small cull-after" data-testid="cull-after">
            <time dateTime={k.cullAfter} title={new Date(k.cullAfter).toLocaleString()}>
              {Date.parse(k.cullAfter) > now
                ? `Shut down if idle in ${duration(Date.parse(k.cullAfter) - now)}`
                : 'Shut down if idle at the next check'}
            </time>
          </div>
        )}
      </td>
      <td className="num">{k.connections}</td>
      <td>
        <KernelActions k={k} />
      </td>
    </tr>
  );
}

export function KernelsView() {
  const kernels = useSel('kernels', useShallow(kernelList));
  const launches = useSel('kernels', (s) => s.launches);
  const loaded = useSel('kernels', (s) => s.loaded);
  const error = useSel('kernels', (s) => s.error);
  const { actions } = useModel();
  const launchList = Object.values(launches);
  return (
    <section aria-labelledby="kernels-title">
      <div className="view-head">
        <h1 id="kernels-title">Kernels</h1>
        <button className="secondary" onClick={() => actions.go('clusters')}>
          Start a kernel…
        </button>
      </div>
      <p className="lead">
        Every kernel the gateway runs, on every cluster, live. Kernels started by JupyterLab show up here too.
      </p>
      {launchList.length > 0 && (
        <ul className="launches" aria-label="Kernel launches" aria-live="polite">
          {launchList.map((l) => (
            <LaunchCard key={l.launchId} l={l} />
          ))}
        </ul>
      )}
      {error && (
        <p className="error-text" role="alert">
          Could not list kernels: {error}
        </p>
      )}
      {loaded && kernels.length === 0 && (
        <div className="empty">
          <p>No kernels are running.</p>
          <p className="muted">
            Start one from a cluster&apos;s kernel environments, or open JupyterLab and create a notebook.
          </p>
        </div>
      )}
      {kernels.length > 0 && (
        <div className="table-wrap">
          <table className="kernels-table">
            <caption className="sr-only">Running kernels</caption>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Environment</th>
                <th scope="col">Cluster</th>
                <th scope="col">Uptime</th>
                <th scope="col">Last activity</th>
                <th scope="col" className="num">
                  Connections
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {kernels.map((k) => (
                <KernelRow key={k.id} k={k} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ForeignKernels />
    </section>
  );
}
