// "Started elsewhere": kernels another client (JupyterLab pointed straight at the gateway, a script) runs on
// a reachable gateway cluster, with "Adopt" to list and relay one like the app's own. Loaded when the
// Kernels screen opens, when the gateways or the kernel list change, and on Refresh; never polled.
import { useCallback, useEffect, useState } from 'react';
import type { ForeignKernelSummary } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { errorText } from '../host/errors';
import { relativeTime, shortId } from '../util/format';

export function ForeignKernels() {
  const { host, actions } = useModel();
  const gatewayKey = useSel('clusters', (s) =>
    s.clusters
      .filter((c) => c.remote && c.health.status !== 'unreachable')
      .map((c) => `${c.id}\t${c.name}`)
      .join('\n'),
  );
  const kernelCount = useSel('kernels', (s) => s.order.length);
  const now = useSel('clock', (s) => s.now);
  const [items, setItems] = useState<ForeignKernelSummary[]>([]);
  const [errors, setErrors] = useState<string[]>([]);
  const [loading, setLoading] = useState(false);
  const [adopting, setAdopting] = useState<string | null>(null);
  const gateways = gatewayKey ? gatewayKey.split('\n').map((l) => l.split('\t') as [string, string]) : [];
  const nameOf = (id: string) => gateways.find(([g]) => g === id)?.[1] ?? id;

  const load = useCallback(async () => {
    const ids = gatewayKey ? gatewayKey.split('\n').map((l) => l.split('\t')[0]) : [];
    setLoading(true);
    const results = await Promise.allSettled(ids.map((id) => host.listForeignKernels(id)));
    setItems(results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])));
    setErrors(results.flatMap((r) => (r.status === 'rejected' ? [errorText(r.reason)] : [])));
    setLoading(false);
  }, [host, gatewayKey]);

  useEffect(() => {
    void load();
  }, [load, kernelCount]);

  if (gateways.length === 0) return null;

  const adopt = async (k: ForeignKernelSummary) => {
    setAdopting(k.id);
    const ok = await actions.adoptKernel(k.clusterId, k.id);
    setAdopting(null);
    if (ok) setItems((xs) => xs.filter((x) => x.id !== k.id));
  };

  return (
    <section className="panel foreign-kernels" aria-labelledby="foreign-title">
      <div className="view-head">
        <h2 id="foreign-title">Started elsewhere</h2>
        <button className="secondary small" onClick={() => void load()} disabled={loading}>
          {loading ? 'Looking…' : 'Refresh'}
        </button>
      </div>
      <p className="muted">
        Kernels another client started on your gateways. Adopt one to see it here, use it in the console and
        reach it through the local gateway.
      </p>
      {errors.map((e, i) => (
        <p key={i} className="error-text">
          {e}
        </p>
      ))}
      {items.length === 0 ? (
        <p className="muted" data-testid="foreign-empty">
          {loading ? 'Looking…' : 'None right now.'}
        </p>
      ) : (
        <ul className="foreign-list" aria-label="Kernels started elsewhere">
          {items.map((k) => (
            <li key={`${k.clusterId}/${k.id}`} data-foreign-id={k.id}>
              <span>
                <strong>{k.specName}</strong> on {nameOf(k.clusterId)}{' '}
                <span className="muted mono" title={k.id}>
                  {shortId(k.id)}
                </span>
              </span>
              <span className="muted">
                {k.executionState} · active {relativeTime(k.lastActivity, now)} · {k.connections} connection
                {k.connections === 1 ? '' : 's'}
              </span>
              <button
                className="secondary small"
                onClick={() => void adopt(k)}
                disabled={adopting !== null}
                aria-label={`Adopt ${k.specName} kernel ${shortId(k.id)}`}
              >
                {adopting === k.id ? 'Adopting…' : 'Adopt'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
