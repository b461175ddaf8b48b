// One run in the console (code, outputs, how it ended), a question the code asks with input(), or a
// marker line such as "Kernel restarted".
import { useState } from 'react';
import { useModel } from '../context';
import type { ConsoleEntry } from '../stores/console';
import { OutputView } from './Output';

function InputPrompt({ runId, prompt, password }: { runId: string; prompt: string; password: boolean }) {
  const { actions } = useModel();
  const [value, setValue] = useState('');
  const [sent, setSent] = useState(false);
  return (
    <form
      className="input-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (sent) return;
        setSent(true);
        void actions.answerInput(runId, value);
      }}
    >
      <label htmlFor={`stdin-${runId}`}>{prompt || 'The code asks for input:'}</label>
      <input
        id={`stdin-${runId}`}
        type={password ? 'password' : 'text'}
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        // The run is waiting for this answer: it is where the person types next.
        autoFocus
        aria-label={`Answer to: ${prompt || 'input'}`}
      />
      <button type="submit" className="small" disabled={sent}>
        Send
      </button>
    </form>
  );
}

export function Entry({ e, queued }: { e: ConsoleEntry; queued: boolean }) {
  if (e.status === 'marker')
    return (
      <li className="entry entry-marker" data-status="marker" role="note">
        {e.code}
      </li>
    );
  const last = e.outputs[e.outputs.length - 1];
  const asking = e.status === 'running' && e.runId && last?.type === 'input-request' ? last : null;
  const pending = e.status === 'running' || e.status === 'sending';
  return (
    <li className={`entry entry-${e.status}`} data-status={e.status} data-queued={queued || undefined}>
      <div className="entry-code">
        <span className="prompt">In [{e.executionCount ?? (pending ? '*' : ' ')}]:</span>
        <pre>{e.code}</pre>
      </div>
      <div className="entry-outputs">
        {queued && <p className="queued">Queued: runs when the code above finishes.</p>}
        {e.outputs.map((o, i) => (
          <OutputView key={i} o={o} />
        ))}
        {asking && e.runId && asking.type === 'input-request' && (
          <InputPrompt runId={e.runId} prompt={asking.prompt} password={asking.password} />
        )}
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
