import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useModel, useSel } from '../context';
import { envDisplayName } from '../stores/clusters';
import type { ConsoleEntry } from '../stores/console';
import { kernelList } from '../stores/kernels';
import { shortId } from '../util/format';
import { OutputView } from './Output';
import { StateBadge } from './StateBadge';

function Entry({ e }: { e: ConsoleEntry }) {
  return (
    <li className={`entry entry-${e.status}`} data-status={e.status}>
      <div className="entry-code">
        <span className="prompt">
          In [{e.executionCount ?? (e.status === 'running' || e.status === 'sending' ? '*' : ' ')}]:
        </span>
        <pre>{e.code}</pre>
      </div>
      <div className="entry-outputs">
        {e.outputs.map((o, i) => (
          <OutputView key={i} o={o} />
        ))}
        {e.error && (
          <p className="error-text" role="alert">
            {e.error}
          </p>
        )}
        {e.status === 'aborted' && <p className="muted">Stopped (the kernel restarted or went away).</p>}
      </div>
    </li>
  );
}

export function ConsoleView() {
  const { actions, console: con } = useModel();
  const kernels = useSel('kernels', useShallow(kernelList));
  const selected = useSel('console', (s) => s.kernelId);
  const draft = useSel('console', (s) => s.draft);
  const history = useSel('console', (s) => s.history);
  const entries = useSel('console', (s) => s.entries);
  const names = useSel('clusters', (s) => s);
  const [histPos, setHistPos] = useState<number | null>(null);
  const outRef = useRef<HTMLOListElement>(null);
  const codeRef = useRef<HTMLTextAreaElement>(null);
  const live = kernels.filter((k) => k.state !== 'dead');
  const kernelId = selected && kernels.some((k) => k.id === selected) ? selected : (live[0]?.id ?? null);
  const kernel = kernels.find((k) => k.id === kernelId) ?? null;
  const shown = entries.filter((e) => e.kernelId === kernelId);
  const running = shown.some((e) => e.status === 'running' || e.status === 'sending');
  // Runs go to a kernel that is up; while it starts or restarts the host refuses them anyway.
  const ready =
    kernel !== null &&
    kernel.state !== 'dead' &&
    kernel.state !== 'restarting' &&
    kernel.state !== 'starting';

  // Going to the console means typing code: the editor gets the focus.
  useEffect(() => {
    codeRef.current?.focus();
  }, [kernelId]);

  useEffect(() => {
    outRef.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [shown.length, entries]);

  const run = () => {
    if (!kernelId || !draft.trim() || !ready) return;
    void actions.run(kernelId, draft);
    con.getState().setDraft('');
    setHistPos(null);
  };

  return (
    <section aria-labelledby="console-title" className="console">
      <div className="view-head">
        <h1 id="console-title">Console</h1>
        {shown.length > 0 && (
          <button className="secondary small" onClick={() => con.getState().clear()}>
            Clear
          </button>
        )}
      </div>
      <p className="lead">Try a kernel before you open JupyterLab: type code and run it.</p>
      {kernels.length === 0 ? (
        <div className="empty">
          <p>No kernel is running.</p>
          <button onClick={() => actions.go('clusters')}>Start a kernel</button>
        </div>
      ) : (
        <>
          <div className="console-bar">
            <label htmlFor="console-kernel">Kernel</label>
            <select
              id="console-kernel"
              value={kernelId ?? ''}
              onChange={(e) => con.getState().selectKernel(e.target.value)}
            >
              {kernels.map((k) => (
                <option key={k.id} value={k.id}>
                  {envDisplayName(names, k.clusterId, k.specName)} on {k.clusterName} ({shortId(k.id)}) —{' '}
                  {k.state}
                </option>
              ))}
            </select>
            {kernel && <StateBadge state={kernel.state} />}
            {kernel && (
              <button
                className="secondary small"
                onClick={() => void actions.interrupt(kernel.id)}
                disabled={kernel.state === 'dead'}
              >
                Interrupt
              </button>
            )}
          </div>
          <ol className="console-out" ref={outRef} aria-label="Console output" aria-live="polite">
            {shown.map((e) => (
              <Entry key={e.localId} e={e} />
            ))}
          </ol>
          <form
            className="console-in"
            onSubmit={(ev) => {
              ev.preventDefault();
              run();
            }}
          >
            <label htmlFor="console-code" className="sr-only">
              Code
            </label>
            <textarea
              ref={codeRef}
              id="console-code"
              value={draft}
              rows={Math.min(10, Math.max(3, draft.split('\n').length))}
              spellCheck={false}
              placeholder="print('hello')   — Shift+Enter runs, ↑/↓ recall history"
              onChange={(e) => con.getState().setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.shiftKey || e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  run();
                } else if (
                  (e.key === 'ArrowUp' || e.key === 'ArrowDown') &&
                  !draft.includes('\n') &&
                  history.length
                ) {
                  e.preventDefault();
                  const pos =
                    e.key === 'ArrowUp'
                      ? Math.max(0, (histPos ?? history.length) - 1)
                      : Math.min(history.length, (histPos ?? history.length) + 1);
                  setHistPos(pos);
                  con.getState().setDraft(history[pos] ?? '');
                }
              }}
            />
            <div className="console-actions">
              <button type="submit" disabled={!kernelId || !draft.trim() || !ready}>
                Run
              </button>
              {running && <span className="muted">Running…</span>}
              {kernel && !ready && kernel.state !== 'dead' && (
                <span className="muted">Waiting for the kernel to finish {kernel.state}…</span>
              )}
            </div>
          </form>
        </>
      )}
    </section>
  );
}
