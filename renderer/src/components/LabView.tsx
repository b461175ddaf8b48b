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
              <p>
                Running at <code>{lab.url.replace(/([?&]token=)[^&]+/, '$1…')}</code>
              </p>
            )}
            {lab.installHint && (
              <>
                <p>To install JupyterLab:</p>
                <pre className="command">{lab.installHint}</pre>
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
