import type { ConnectionDiagnosis, HostKeyInfo } from '../../../electron/host-api/models';
import { HostKeyPanel } from './HostKeyPanel';

/** Hints are shared with the CLI; in the app, its flags mean nothing. */
export function withoutCliHints(text: string): string {
  return text.replace(/\s*\(CLI:[^)]*\)/g, '');
}

export function DiagnosisPanel({
  diagnosis: d,
  onTrust,
}: {
  diagnosis: ConnectionDiagnosis;
  /** "Trust this host" for a host key the test found unknown: trust it, then test again. */
  onTrust?: (k: HostKeyInfo) => Promise<void>;
}) {
  // A host key to confirm or a changed one: its own panel says everything the diagnosis would.
  if (d.hostKey) return <HostKeyPanel hostKey={d.hostKey} {...(onTrust ? { onTrust } : {})} />;
  return <DiagnosisText d={d} />;
}

function DiagnosisText({ d }: { d: ConnectionDiagnosis }) {
  return (
    <div className={`diagnosis ${d.ok ? 'diagnosis-ok' : 'diagnosis-bad'}`} role="status" data-kind={d.kind}>
      <strong className="diagnosis-title">
        {d.ok ? '✓ ' : '✗ '}
        {d.title}
      </strong>
      <p>{d.detail}</p>
      {d.hint && <p className="hint">{withoutCliHints(d.hint)}</p>}
      {(d.version || d.kernelspecCount !== null) && (
        <p className="muted">
          {d.version && !d.detail.includes(d.version) ? `Gateway version ${d.version}. ` : ''}
          {d.kernelspecCount !== null && !/kernelspec/.test(d.detail)
            ? `${d.kernelspecCount} kernel environment(s). `
            : ''}
          Answered in {d.durationMs} ms.
        </p>
      )}
    </div>
  );
}
