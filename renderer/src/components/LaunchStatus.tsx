// A launch's progress and outcome where "Start kernel" was pressed: phases with their times, the reason when
// it failed, and "Open in console" once the kernel answered.
import { useState } from 'react';
import type { LaunchProgressEvent } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { envKey } from '../stores/kernels';
import { seconds } from '../util/format';

export function useElapsed(l: LaunchProgressEvent): number {
  const now = useSel('clock', (s) => s.now);
  const [started] = useState(() => Date.now() - l.elapsedMs);
  return l.status === 'running' ? Math.max(l.elapsedMs, now - started) : l.elapsedMs;
}

export function InlineLaunch({ clusterId, specName }: { clusterId: string; specName: string }) {
  const l = useSel('kernels', (s) => s.latestByEnv[envKey(clusterId, specName)]);
  if (!l) return null;
  return <InlineLaunchBody key={l.launchId} l={l} />;
}

function InlineLaunchBody({ l }: { l: LaunchProgressEvent }) {
  const { actions, kernels } = useModel();
  const elapsed = useElapsed(l);
  const phases = useSel('kernels', (s) => s.launchPhases[l.launchId]) ?? [];
  const kernelAlive = useSel('kernels', (s) =>
    l.kernelId ? Boolean(s.kernels[l.kernelId] && s.kernels[l.kernelId].state !== 'dead') : false,
  );
  const dismiss = () => kernels.getState().dismissEnvLaunch(l.clusterId, l.specName);
  const head =
    l.status === 'failed'
      ? 'The kernel did not start'
      : l.status === 'done'
        ? 'The kernel is ready'
        : `Starting… ${l.message}`;
  return (
    <div
      className={`inline-launch launch-${l.status}`}
      data-launch-status={l.status}
      role={l.status === 'failed' ? 'alert' : 'status'}
    >
      <div className="launch-head">
        <strong>{head}</strong>
        <span className="muted">{seconds(elapsed)}</span>
      </div>
      {l.status === 'running' && <progress aria-label={`Starting ${l.specName}`} />}
      {phases.length > 1 && (
        <ol className="launch-phases" aria-label="Launch phases">
          {phases.map((p, i) => (
            <li key={i} className={i === phases.length - 1 ? 'current' : undefined}>
              <span className="phase">{p.phase}</span> <span className="muted">{seconds(p.elapsedMs)}</span>
            </li>
          ))}
        </ol>
      )}
      {l.error && <p className="error-text launch-error">{l.error}</p>}
      {l.status !== 'running' && (
        <div className="actions">
          {l.status === 'done' && l.kernelId && kernelAlive && (
            <button className="small" onClick={() => l.kernelId && actions.openConsole(l.kernelId)}>
              Open in console
            </button>
          )}
          <button className="secondary small" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
