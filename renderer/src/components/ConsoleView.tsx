import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useModel, useSel } from '../context';
import { envDisplayName, onCluster } from '../stores/clusters';
import { kernelList } from '../stores/kernels';
import { shortId } from '../util/format';
import { Entry } from './ConsoleEntry';
import { StateBadge } from './StateBadge';

export function ConsoleView() {
  const { actions, console: con } = useModel();
  const kernels = useSel('kernels', useShallow(kernelList));
  const selected = useSel('console', (s) => s.kernelId);
  const draft = useSel('console', (s) => s.draft);
  const history = useSel('console', (s) => s.history);
  const entries = useSel('console', (s) => s.entries);
  const names = useSel('clusters', (s) => s);
  const [histPos, setHistPos] = useState<number | null>(null);
  const [confirmRestart, setConfirmRestart] = useState(false);
  const outRef = useRef<HTMLOListElement>(null);
  const codeRef = useRef<HTMLTextAreaElement>(null);
  const live = kernels.filter((k) => k.state !== 'dead');
  const kernelId = selected && kernels.some((k) => k.id === selected) ? selected : (live[0]?.id ?? null);
  const kernel = kernels.find((k) => k.id === kernelId) ?? null;
  const shown = entries.filter((e) => e.kernelId === kernelId);
  const isPending = (st: string) => st === 'running' || st === 'sending';
  const running = shown.some((e) => isPending(e.status));
  const firstPending = shown.find((e) => isPending(e.status))?.localId ?? null;
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
                  {onCluster(envDisplayName(names, k.clusterId, k.specName), k.clusterName)} ({shortId(k.id)})
                  — {k.state}
                </option>
              ))}
            </select>
            {kernel && <StateBadge state={kernel.state} />}
            {kernel && (
              <button
                className="secondary small"
                onClick={() => void actions.interrupt(kernel.id)}
                disabled={kernel.state === 'dead'}
                title="Interrupt (Ctrl+C in the editor)"
                aria-keyshortcuts="Control+C"
              >
                Interrupt
              </button>
            )}
            {kernel &&
              (confirmRestart ? (
                <span className="confirm" role="group" aria-label="Confirm restart">
                  <span>Restart? Variables are lost.</span>
                  <button
                    className="danger small"
                    onClick={() => {
                      setConfirmRestart(false);
                      void actions.restart(kernel.id);
                    }}
                  >
                    Yes, restart
                  </button>
                  <button className="secondary small" onClick={() => setConfirmRestart(false)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <button
                  className="secondary small"
                  onClick={() => setConfirmRestart(true)}
                  disabled={kernel.state === 'dead' || kernel.state === 'restarting'}
                >
                  Restart
                </button>
              ))}
          </div>
          <ol className="console-out" ref={outRef} aria-label="Console output" aria-live="polite">
            {shown.map((e) => (
              <Entry
                key={e.localId}
                e={e}
                queued={isPending(e.status) && firstPending !== null && e.localId !== firstPending}
              />
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
              placeholder="print('hello')   — Shift+Enter runs (also while busy: it queues), Ctrl+C interrupts, ↑/↓ history"
              onChange={(e) => con.getState().setDraft(e.target.value)}
              onKeyDown={(e) => {
                const t = e.currentTarget;
                if (
                  (e.key === 'c' || e.key === 'C') &&
                  e.ctrlKey &&
                  !e.shiftKey &&
                  t.selectionStart === t.selectionEnd &&
                  kernel &&
                  kernel.state === 'busy'
                ) {
                  // Like a terminal: Ctrl+C with nothing selected interrupts the running code.
                  e.preventDefault();
                  void actions.interrupt(kernel.id);
                } else if (e.key === 'Enter' && (e.shiftKey || e.ctrlKey || e.metaKey)) {
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
