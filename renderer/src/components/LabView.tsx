import { useState } from 'react';
import { useModel, useSel } from '../context';
import { CopyButton } from './CopyButton';

export function LabView() {
  const proxy = useSel('app', (s) => s.proxy);
  const lab = useSel('app', (s) => s.lab);
  const shell = useSel('app', (s) => s.appInfo?.shell ?? 'browser');
  const { actions } = useModel();
  const [showToken, setShowToken] = useState(false);
  const [opening, setOpening] = useState(false);

  // Settings, with the focus in the "JupyterLab command" field once it is on screen.
  const toLabCommandSetting = () => {
    actions.go('settings');
    const focus = (tries: number) => {
      const el = document.getElementById('set-cmd');
      if (el) el.focus();
      else if (tries > 0) requestAnimationFrame(() => focus(tries - 1));
    };
    requestAnimationFrame(() => focus(30));
  };

  const open = async () => {
    setOpening(true);
    const s = await actions.openLab();
    setOpening(false);
    // In the browser (serve mode) the lab opens in a new tab of the user's browser.
    if (s?.url && shell === 'browser') window.open(s.url, '_blank', 'noopener,noreferrer');
  };

  return (
    <section aria-labelledby="lab-title">
      <h1 id="lab-title">JupyterLab</h1>
      <p className="lead">
        JupyterLab (or any Jupyter server) pointed at the local gateway runs its kernels on the active
        cluster. Switching clusters needs no restart.
      </p>
      <div className="panel">
        <h2>Open JupyterLab</h2>
        <div className="actions">
          <button onClick={() => void open()} disabled={opening || lab?.state === 'starting'}>
            {lab?.state === 'running'
              ? 'Open JupyterLab again'
              : opening || lab?.state === 'starting'
                ? 'Starting JupyterLab…'
                : 'Open JupyterLab'}
          </button>
          {lab?.state === 'running' && (
            <button className="secondary" onClick={() => void actions.stopLab()}>
              Stop JupyterLab
            </button>
          )}
        </div>
        {lab && (
          <div className={`lab-status lab-${lab.state}`} role="status">
            <p>{lab.message}</p>
            {lab.url && (
              <p className="copy-row">
                Running at <code id="lab-url">{lab.url.replace(/([?&]token=)[^&]+/, '$1…')}</code>
                <CopyButton text={lab.url} label="Copy address" />
              </p>
            )}
            {lab.installHint && (
              <>
                <p>
                  {lab.state === 'not-installed'
                    ? 'To install JupyterLab, run one of:'
                    : 'To install JupyterLab:'}
                </p>
                <pre className="command" id="lab-install">
                  {lab.installHint}
                </pre>
                <div className="actions">
                  <CopyButton text={lab.installHint} targetId="lab-install" label="Copy" />
                  {lab.state === 'not-installed' && (
                    <button type="button" className="secondary small" onClick={toLabCommandSetting}>
                      Set the JupyterLab command…
                    </button>
                  )}
                </div>
              </>
            )}
            {lab.log.length > 0 && (
              <details open={lab.state === 'failed'}>
                <summary>JupyterLab log</summary>
                <pre className="log">{lab.log.join('\n')}</pre>
              </details>
            )}
          </div>
        )}
      </div>
      <div className="panel">
        <h2>Local gateway</h2>
        {!proxy ? (
          <p className="muted">Loading…</p>
        ) : (
          <dl className="facts">
            <dt>Gateway URL</dt>
            <dd className="copy-row">
              <code id="proxy-url">{proxy.url}</code>
              <CopyButton text={proxy.url} targetId="proxy-url" label="Copy URL" />
            </dd>
            <dt>Token</dt>
            <dd className="copy-row">
              <code id="proxy-token">{showToken ? proxy.token : '•'.repeat(16)}</code>
              <button
                className="secondary small"
                onClick={() => setShowToken(!showToken)}
                aria-pressed={showToken}
              >
                {showToken ? 'Hide' : 'Show'}
              </button>
              <CopyButton text={proxy.token} label="Copy token" />
            </dd>
            <dt>Command</dt>
            <dd className="copy-row">
              <code id="proxy-command" className="wrap">
                {showToken ? proxy.labCommand : proxy.labCommand.replace(proxy.token, '…')}
              </code>
              <CopyButton text={proxy.labCommand} label="Copy command" />
            </dd>
          </dl>
        )}
        <p className="muted">
          Paste the command in a terminal to start your own JupyterLab against this gateway. Papermill and
          jupyter_server take the same <code>--gateway-url</code> setting.
        </p>
      </div>
    </section>
  );
}
