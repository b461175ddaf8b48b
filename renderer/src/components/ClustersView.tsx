import { useEffect, useRef, useState } from 'react';
import type { ClusterSummary, ConnectionDiagnosis } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { errorText } from '../host/errors';
import { selectedCluster } from '../stores/clusters';
import { DiagnosisPanel } from './DiagnosisPanel';
import { EnvironmentsPanel } from './EnvironmentsPanel';
import { HealthBadge } from './StateBadge';
import { OrphanNotice } from './OrphanNotice';

export function ClustersView() {
  const clusters = useSel('clusters', (s) => s.clusters);
  const loaded = useSel('clusters', (s) => s.loaded);
  const error = useSel('clusters', (s) => s.error);
  const selected = useSel('clusters', selectedCluster);
  const { actions } = useModel();

  return (
    <section aria-labelledby="clusters-title" className="clusters-view">
      <div className="view-head">
        <h1 id="clusters-title">Clusters</h1>
        <button onClick={() => actions.go('add-cluster')}>Add cluster</button>
      </div>
      <p className="lead">A cluster is where your kernels run. New kernels start on the active one.</p>
      <OrphanNotice />
      {!loaded && <p className="muted">Loading clusters…</p>}
      {error && (
        <p className="error-text" role="alert">
          Could not load clusters: {error}
        </p>
      )}
      <div className="split">
        <ul className="cluster-list" aria-label="Clusters">
          {clusters.map((c) => (
            <li key={c.id}>
              <button
                className="cluster-card"
                aria-pressed={selected?.id === c.id}
                onClick={() => actions.selectCluster(c.id)}
                data-cluster-id={c.id}
              >
                <span className="cluster-name">
                  {c.name}
                  {c.active && <span className="pill">Active</span>}
                </span>
                <span className="cluster-meta">
                  {c.kindLabel} · {c.kernelCount} kernel{c.kernelCount === 1 ? '' : 's'} running
                </span>
                <HealthBadge status={c.health.status} text={c.health.message} />
              </button>
            </li>
          ))}
        </ul>
        {selected && <ClusterDetail key={selected.id} cluster={selected} />}
      </div>
    </section>
  );
}

function ClusterDetail({ cluster }: { cluster: ClusterSummary }) {
  const { actions } = useModel();
  const [testing, setTesting] = useState(false);
  const [diag, setDiag] = useState<ConnectionDiagnosis | null>(null);
  const [testError, setTestError] = useState<string | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const envEntry = useSel('clusters', (s) => s.environments[cluster.id]);
  const titleRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (!envEntry) void actions.loadEnvironments(cluster.id);
  }, [cluster.id, envEntry, actions]);

  const test = async () => {
    setTesting(true);
    setDiag(null);
    setTestError(null);
    try {
      setDiag(await actions.testCluster({ id: cluster.id }));
    } catch (err) {
      setTestError(errorText(err));
    } finally {
      setTesting(false);
    }
  };

  return (
    <article className="panel cluster-detail" aria-labelledby="cluster-detail-title">
      <div className="view-head">
        <h2 id="cluster-detail-title" ref={titleRef} tabIndex={-1}>
          {cluster.name}
        </h2>
        <div className="actions">
          {!cluster.active && (
            <button
              onClick={() =>
                // The button goes away once the cluster is active: keep the focus in this panel.
                void actions.makeActive(cluster.id).then(() => titleRef.current?.focus())
              }
            >
              Make active
            </button>
          )}
          {cluster.remote && (
            <button className="secondary" onClick={() => void test()} disabled={testing}>
              {testing ? 'Testing…' : 'Test connection'}
            </button>
          )}
          {!cluster.builtIn && (
            <button className="secondary" onClick={() => actions.go('edit-cluster', cluster.id)}>
              Edit
            </button>
          )}
          {!cluster.builtIn &&
            (confirmRemove ? (
              <>
                <button className="danger" onClick={() => void actions.removeCluster(cluster.id)}>
                  Yes, remove
                </button>
                <button className="secondary" onClick={() => setConfirmRemove(false)}>
                  Keep it
                </button>
              </>
            ) : (
              <button className="secondary" onClick={() => setConfirmRemove(true)}>
                Remove
              </button>
            ))}
        </div>
      </div>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{cluster.kindLabel}</dd>
        {cluster.url && (
          <>
            <dt>URL</dt>
            <dd>
              <code>{cluster.url}</code>
            </dd>
          </>
        )}
        <dt>Status</dt>
        <dd>
          <HealthBadge status={cluster.health.status} text={cluster.health.message} />{' '}
          {cluster.health.message}
        </dd>
        <dt>Kernels running</dt>
        <dd>{cluster.kernelCount}</dd>
      </dl>
      {cluster.active ? (
        <p className="muted">
          This is the active cluster: notebooks asking for an environment by name start here.
        </p>
      ) : null}
      {testError && (
        <p className="error-text" role="alert">
          {testError}
        </p>
      )}
      {diag && (
        <DiagnosisPanel
          diagnosis={diag}
          onTrust={async (k) => {
            await actions.acceptHostKey({ target: { id: cluster.id }, hostKey: k });
            await test();
          }}
        />
      )}
      <EnvironmentsPanel cluster={cluster} />
    </article>
  );
}
