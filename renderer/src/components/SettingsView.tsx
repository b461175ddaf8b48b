import { useState } from 'react';
import type { LogEntry, QuitBehaviour, Settings, ThemeSetting } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { CopyButton } from './CopyButton';

function logText(entries: readonly LogEntry[]): string {
  return entries.map((e) => `${e.time} ${e.level.toUpperCase()} [${e.source}] ${e.message}`).join('\n');
}

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
        <div className="actions">
          <CopyButton text={logText(shown)} label="Copy all" />
          <button
            type="button"
            className="secondary small"
            disabled={shown.length === 0}
            onClick={() => {
              const url = URL.createObjectURL(new Blob([logText(shown) + '\n'], { type: 'text/plain' }));
              const a = document.createElement('a');
              a.href = url;
              a.download = `gateway-desktop-log-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`;
              a.click();
              setTimeout(() => URL.revokeObjectURL(url), 1000);
            }}
          >
            Save as file
          </button>
        </div>
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

function SettingsForm({
  settings,
  saved,
  onSaved,
}: {
  settings: Settings;
  saved: boolean;
  onSaved: () => void;
}) {
  const { actions } = useModel();
  const [dir, setDir] = useState(settings.notebookDir);
  const [cmd, setCmd] = useState(settings.labCommand);
  return (
    <form
      className="panel"
      onSubmit={(e) => {
        e.preventDefault();
        void actions.updateSettings({ notebookDir: dir, labCommand: cmd }).then((ok) => ok && onSaved());
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
          aria-describedby="set-cmd-hint"
          placeholder="(empty: the app looks for JupyterLab)"
        />
        <div className="hint" id="set-cmd-hint">
          Leave empty to use a JupyterLab the app finds (on the PATH, in conda environments, virtualenvs or
          pipx). Otherwise the command that starts it, e.g. /path/to/venv/bin/jupyter-lab, jupyter notebook,
          or python3 -m jupyter_server.
        </div>
      </div>
      <div className="actions">
        <button type="submit">Save</button>
        <span role="status" className="saved-note" data-testid="settings-saved">
          {saved ? 'Saved' : ''}
        </span>
      </div>
    </form>
  );
}

export function SettingsView() {
  const settings = useSel('app', (s) => s.settings);
  const info = useSel('app', (s) => s.appInfo);
  // Held here: the form remounts with the saved settings, the confirmation must outlive that.
  const [savedAt, setSavedAt] = useState(0);
  const now = useSel('clock', (s) => s.now);
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings &amp; log</h1>
      {settings ? (
        <SettingsForm
          key={JSON.stringify(settings)}
          settings={settings}
          saved={savedAt > 0 && now - savedAt < 4000}
          onSaved={() => setSavedAt(Date.now())}
        />
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
