import type { KernelState } from '../../../electron/host-api/models';

const LABEL: Record<KernelState, string> = {
  starting: 'Starting',
  idle: 'Idle',
  busy: 'Busy',
  restarting: 'Restarting',
  dead: 'Dead',
  disconnected: 'Disconnected',
  'not-answering': 'Not answering',
};

/** Kernel state as colour AND text (never colour alone). */
export function StateBadge({ state }: { state: KernelState }) {
  return (
    <span className={`badge badge-${state}`} data-state={state}>
      <span className="dot" aria-hidden="true" />
      {LABEL[state] ?? state}
    </span>
  );
}

export function HealthBadge({ status, text }: { status: string; text: string }) {
  const label =
    status === 'ok'
      ? 'Reachable'
      : status === 'unreachable'
        ? 'Unreachable'
        : status === 'checking'
          ? 'Checking'
          : 'Unknown';
  return (
    <span className={`badge health-${status}`} title={text}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
