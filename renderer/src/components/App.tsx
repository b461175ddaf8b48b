import { useEffect } from 'react';
import { useModel, useSel } from '../context';
import type { View } from '../stores/app';
import { liveKernelCount } from '../stores/kernels';
import { ClusterForm } from './ClusterForm';
import { ClusterSwitcher } from './ClusterSwitcher';
import { ClustersView } from './ClustersView';
import { ConsoleView } from './ConsoleView';
import { KernelsView } from './KernelsView';
import { LabView } from './LabView';
import { SettingsView } from './SettingsView';

const NAV: { view: View; label: string }[] = [
  { view: 'clusters', label: 'Clusters' },
  { view: 'kernels', label: 'Kernels' },
  { view: 'console', label: 'Console' },
  { view: 'lab', label: 'JupyterLab' },
  { view: 'settings', label: 'Settings & log' },
];

function ConnectionBanner() {
  const c = useSel('app', (s) => s.connection);
  if (c === 'open' || c === 'connecting') return null;
  const text =
    c === 'reconnecting'
      ? 'Lost the connection to Gateway Desktop. Reconnecting…'
      : c === 'unauthorized'
        ? 'The access token was not accepted. Open the address that `npm run serve` printed (it includes ?token=…).'
        : 'No access token. Open the address that `npm run serve` printed (it includes ?token=…).';
  return (
    <div className="banner banner-error" role="alert">
      {text}
    </div>
  );
}

function Notices() {
  const notices = useSel('app', (s) => s.notices);
  const { app } = useModel();
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button className="link" aria-label="Dismiss" onClick={() => app.getState().dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function App() {
  const view = useSel('app', (s) => s.view);
  const theme = useSel('app', (s) => s.settings?.theme ?? 'system');
  const kernelCount = useSel('kernels', liveKernelCount);
  const launching = useSel(
    'kernels',
    (s) => Object.values(s.launches).filter((l) => l.status === 'running').length,
  );
  const { actions } = useModel();

  useEffect(() => {
    const html = document.documentElement;
    if (theme === 'system') delete html.dataset.theme;
    else html.dataset.theme = theme;
  }, [theme]);

  const connection = useSel('app', (s) => s.connection);
  const blocked = connection === 'no-token' || connection === 'unauthorized';
  const navView: View = view === 'add-cluster' || view === 'edit-cluster' ? 'clusters' : view;
  return (
    <div className="layout">
      <header className="topbar">
        <div className="brand">
          <img src="./icon.svg" alt="" width={28} height={28} />
          <span>Gateway Desktop</span>
        </div>
        <ClusterSwitcher />
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.map((n) => (
            <li key={n.view}>
              <button
                className="navbtn"
                aria-current={navView === n.view ? 'page' : undefined}
                onClick={() => actions.go(n.view)}
              >
                {n.label}
                {n.view === 'kernels' && kernelCount + launching > 0 ? (
                  <span
                    className="count"
                    aria-label={`${kernelCount} running${launching ? `, ${launching} starting` : ''}`}
                  >
                    {kernelCount}
                    {launching ? ` +${launching}` : ''}
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content" id="main">
        <ConnectionBanner />
        {blocked && (
          <section className="empty" aria-label="How to open the app">
            <p>
              <strong>This page needs the address with its access token.</strong>
            </p>
            <p>
              In the terminal where <code>npm run serve</code> runs, find the line{' '}
              <code>open the app in a browser: http://127.0.0.1:…/?token=…</code> and open that address.
            </p>
          </section>
        )}
        {blocked ? null : view === 'clusters' && <ClustersView />}
        {!blocked && view === 'add-cluster' && <ClusterForm mode="add" />}
        {!blocked && view === 'edit-cluster' && <ClusterForm mode="edit" />}
        {!blocked && view === 'kernels' && <KernelsView />}
        {!blocked && view === 'console' && <ConsoleView />}
        {!blocked && view === 'lab' && <LabView />}
        {!blocked && view === 'settings' && <SettingsView />}
      </main>
      <Notices />
    </div>
  );
}
