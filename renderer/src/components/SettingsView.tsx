import { useState } from 'react';
import type { QuitBehaviour, Settings, ThemeSetting } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';

function LogView() {
  const log = useSel('app', (s) => s.log);
  const [level, setLevel] = useState<'all' | 'warn'>('all');
  const shown = level === 'all' ? log : log.filter((e) => e.level === 'warn' || e.level === 'error');
  return (
    <section aria-labelledby="log-title" className="panel">
      <div className="view-head">
        <h2 id="log-title">Log</h2>
        <label className="check">
          <input
            type="checkbox"
            checked={level === 'warn'}
            onChange={(e) => setLevel(e.target.checked ? 'warn' : 'all')}
          />{' '}
          Only warnings and errors
        </label>
      </div>
      {shown.length === 0 ? (
        <p className="muted">Nothing logged yet.</p>
      ) : (
        <ol className="log-list" aria-label="Log entries">
          {shown
            .slice(-300)
            .reverse()
            .map((e) => (
              <li key={e.seq} className={`log-${e.level}`}>
                <time dateTime={e.time}>{new Date(e.time).toLocaleTimeString()}</time>
                <span className="log-level">{e.level}</span>
                <span className="log-source">{e.source}</span>
                <span className="log-msg">{e.message}</span>
              </li>
            ))}
        </ol>
      )}
    </section>
  );
}

function SettingsForm({ settings }: { settings: Settings }) {
  const { actions } = useModel();
  const [dir, setDir] = useState(settings.notebookDir);
  const [cmd, setCmd] = useState(settings.labCommand);
  return (
    <form
      className="panel"
      onSubmit={(e) => {
        e.preventDefault();
        void actions.updateSettings({ notebookDir: dir, labCommand: cmd });
      }}
    >
      <h2>Settings</h2>
      <div className="field">
        <label htmlFor="set-theme">Appearance</label>
        <select
          id="set-theme"
          value={settings.theme}
          onChange={(e) => void actions.updateSettings({ theme: e.target.value as ThemeSetting })}
        >
          <option value="system">Follow the system</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="set-quit">When I quit with kernels running</label>
        <select
          id="set-quit"
          value={settings.quitBehaviour}
          onChange={(e) => void actions.updateSettings({ quitBehaviour: e.target.value as QuitBehaviour })}
        >
          <option value="ask">Ask me</option>
          <option value="shutdown">Shut them down</option>
          <option value="leave">Leave them running</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="set-dir">Notebook folder for JupyterLab</label>
        <input
          id="set-dir"
          value={dir}
          onChange={(e) => setDir(e.target.value)}
          placeholder="(your home folder)"
        />
      </div>
      <div className="field">
        <label htmlFor="set-cmd">JupyterLab command</label>
        <input
          id="set-cmd"
          value={cmd}
          onChange={(e) => setCmd(e.target.value)}
          placeholder="jupyter lab (found automatically)"
        />
        <div className="hint">e.g. jupyter notebook, or python -m jupyter_server</div>
      </div>
      <button type="submit">Save</button>
    </form>
  );
}

export function SettingsView() {
  const settings = useSel('app', (s) => s.settings);
  const info = useSel('app', (s) => s.appInfo);
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings &amp; log</h1>
      {settings ? (
        <SettingsForm key={JSON.stringify(settings)} settings={settings} />
      ) : (
        <p className="muted">Loading…</p>
      )}
      {info && (
        <p className="muted">
          {info.name} {info.version} · {info.shell === 'electron' ? 'desktop app' : 'browser mode'} · data in{' '}
          <code>{info.dataDir}</code>
        </p>
      )}
      <LogView />
    </section>
  );
}
