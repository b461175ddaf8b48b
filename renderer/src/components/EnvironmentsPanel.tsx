import { useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ClusterSummary, KernelEnvironment } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { InlineLaunch } from './LaunchStatus';
import { LaunchPanel } from './LaunchForm';

function Logo({ env }: { env: KernelEnvironment }) {
  if (env.logo) return <img className="env-logo" src={env.logo} alt="" width={40} height={40} />;
  return (
    <span className="env-logo env-logo-fallback" aria-hidden="true">
      {env.language.slice(0, 2).toUpperCase()}
    </span>
  );
}

function NoEnvironments({ local }: { local: boolean }) {
  if (!local)
    return (
      <div className="empty">
        <p>This gateway lists no kernel environments.</p>
        <p className="muted">Ask whoever runs the gateway which kernels it offers, or test the connection.</p>
      </div>
    );
  return (
    <div className="empty" data-testid="no-environments">
      <p>
        <strong>No kernel environments were found on this computer.</strong>
      </p>
      <p>Install the Python kernel and register it, in a terminal:</p>
      <pre className="command">pip install ipykernel{'\n'}python -m ipykernel install --user</pre>
      <p className="muted">Then come back here: the list refreshes when you open this screen.</p>
    </div>
  );
}

export function EnvironmentsPanel({ cluster }: { cluster: ClusterSummary }) {
  const entry = useSel('clusters', (s) => s.environments[cluster.id]);
  const launching = useSel(
    'kernels',
    useShallow((s) =>
      Object.values(s.launches).filter((l) => l.clusterId === cluster.id && l.status === 'running'),
    ),
  );
  const { actions } = useModel();
  // The environment whose launch form is open (one at a time), and its opener for the focus on close.
  const [formFor, setFormFor] = useState<string | null>(null);
  const openers = useRef(new Map<string, HTMLButtonElement>());
  const data = entry?.data ?? null;
  const envs = data?.environments ?? [];
  // Start follows health: an unreachable gateway cannot start anything (and its list may be stale).
  const unreachable = cluster.remote && cluster.health.status === 'unreachable';

  return (
    <section aria-labelledby={`envs-${cluster.id}`} className="environments">
      <div className="view-head">
        <h3 id={`envs-${cluster.id}`}>Kernel environments</h3>
        <button className="secondary small" onClick={() => void actions.loadEnvironments(cluster.id)}>
          Refresh
        </button>
      </div>
      {(!entry || entry.status === 'loading') && !data && (
        <p className="muted">Looking for kernel environments…</p>
      )}
      {entry?.status === 'error' && (
        <p className="error-text" role="alert">
          Could not list the environments: {entry.message}
        </p>
      )}
      {unreachable && (
        <p className="warn-text" role="status" data-testid="cluster-unreachable">
          {cluster.name} cannot be reached right now ({cluster.health.message}). Kernels can start again once
          it answers; this screen follows it on its own.
        </p>
      )}
      {entry?.status === 'ready' && envs.length === 0 && <NoEnvironments local={!cluster.remote} />}
      {envs.length > 0 && (
        <ul className="env-list" aria-label={`Kernel environments on ${cluster.name}`}>
          {envs.map((env) => {
            const busy = launching.some((l) => l.specName === env.name);
            const blocked = busy || unreachable;
            return (
              <li key={env.name} className="env" data-env={env.name}>
                <Logo env={env} />
                <div className="env-main">
                  <div className="env-title">
                    <strong>{env.displayName}</strong>
                    {env.isDefault && <span className="pill">Default</span>}
                    {env.size && (
                      <>
                        <span className="pill">Saved size</span>
                        <button
                          className="link small"
                          aria-label={`Remove size ${env.size.name} of ${env.size.environment} on ${cluster.name}`}
                          onClick={() => {
                            const s = env.size;
                            if (s) void actions.removeSize(cluster.id, s.environment, s.name);
                          }}
                        >
                          Remove
                        </button>
                      </>
                    )}
                  </div>
                  <div className="muted">
                    {env.language} · name <code>{env.name}</code>
                  </div>
                  <details>
                    <summary>Where it runs and launch settings</summary>
                    <dl className="facts small">
                      <dt>Command</dt>
                      <dd>
                        <code>{env.argv.join(' ') || '(decided by the gateway)'}</code>
                      </dd>
                      <dt>Interrupt</dt>
                      <dd>{env.interruptMode === 'message' ? 'by message' : 'by signal'}</dd>
                      {Object.entries(env.launchSettings).map(([k, v]) => (
                        <div key={k} className="kv">
                          <dt>
                            <code>{k}</code>
                          </dt>
                          <dd>
                            <code>{v}</code>
                          </dd>
                        </div>
                      ))}
                    </dl>
                  </details>
                </div>
                {/* aria-disabled, not disabled: a disabled button drops the keyboard focus to <body>. */}
                <div className="env-buttons">
                  <button
                    className="env-open-form"
                    ref={(b) => {
                      if (b) openers.current.set(env.name, b);
                    }}
                    onClick={() => {
                      if (!blocked) setFormFor(formFor === env.name ? null : env.name);
                    }}
                    aria-disabled={blocked}
                    aria-expanded={formFor === env.name}
                    aria-label={`Start kernel… with launch parameters: ${env.displayName} on ${cluster.name}`}
                    title={unreachable ? `${cluster.name} is unreachable` : undefined}
                  >
                    {busy ? 'Starting…' : 'Start kernel…'}
                  </button>
                  {/* The quick path: the environment's and the cluster's defaults, no form. */}
                  <button
                    className="env-start secondary"
                    onClick={() => {
                      if (!blocked) void actions.startKernel(cluster.id, env.name);
                    }}
                    aria-disabled={blocked}
                    aria-label={`Start a ${env.displayName} kernel on ${cluster.name} with defaults`}
                    title={unreachable ? `${cluster.name} is unreachable` : undefined}
                  >
                    Start with defaults
                  </button>
                </div>
                {formFor === env.name && !blocked && (
                  <div className="env-form">
                    <LaunchPanel
                      cluster={cluster}
                      env={env}
                      onClose={() => {
                        setFormFor(null);
                        openers.current.get(env.name)?.focus();
                      }}
                    />
                  </div>
                )}
                <div className="env-launch">
                  <InlineLaunch clusterId={cluster.id} specName={env.name} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {data && data.problems.length > 0 && (
        <div className="problems">
          <h4>Environments that could not be used</h4>
          <ul>
            {data.problems.map((p) => (
              <li key={p.path + p.name}>
                <strong>{p.name}</strong>: {p.message}
                {p.path && (
                  <div className="muted">
                    <code>{p.path}</code>
                  </div>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
