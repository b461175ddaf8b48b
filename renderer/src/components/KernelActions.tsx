// A kernel row's actions as one compact row: icon buttons (named for screen readers and tooltips, with
// their words shown where the window is wide), and restart / shut down confirmed in place.
import { useState, type ReactNode } from 'react';
import type { KernelSummary } from '../../../electron/host-api/models';
import { useModel } from '../context';

const ICONS: Record<string, ReactNode> = {
  console: <path d="M3 4l4 4-4 4M8.5 12H13" />,
  interrupt: <rect x="4" y="4" width="8" height="8" rx="1" />,
  restart: <path d="M12.5 8a4.5 4.5 0 1 1-1.3-3.2M12.5 2.5v3h-3" />,
  shutdown: <path d="M8 2v5.5M4.6 4.4a5 5 0 1 0 6.8 0" />,
  remove: <path d="M4 4l8 8M12 4l-8 8" />,
};

function Icon({ name }: { name: keyof typeof ICONS }) {
  return (
    <svg
      className="icon"
      viewBox="0 0 16 16"
      width="16"
      height="16"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.6"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {ICONS[name]}
    </svg>
  );
}

function IconButton(props: {
  icon: keyof typeof ICONS;
  label: string;
  title?: string;
  disabled?: boolean;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      className="secondary small icon-button"
      aria-label={props.label}
      title={props.title ?? props.label}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      <Icon name={props.icon} />
      <span className="icon-label" aria-hidden="true">
        {props.label}
      </span>
    </button>
  );
}

export function KernelActions({ k }: { k: KernelSummary }) {
  const { actions } = useModel();
  const [confirm, setConfirm] = useState<'shutdown' | 'restart' | null>(null);
  const dead = k.state === 'dead';
  if (confirm)
    return (
      <div className="row-actions confirming">
        <button
          className="danger small"
          onClick={() => {
            setConfirm(null);
            void (confirm === 'restart' ? actions.restart(k.id) : actions.shutdown(k.id));
          }}
        >
          {confirm === 'restart' ? 'Confirm restart' : 'Confirm shut down'}
        </button>
        <button className="secondary small" onClick={() => setConfirm(null)}>
          Cancel
        </button>
      </div>
    );
  return (
    <div className="row-actions">
      <IconButton
        icon="console"
        label="Console"
        title="Open in the console"
        disabled={dead}
        onClick={() => actions.openConsole(k.id)}
      />
      <IconButton
        icon="interrupt"
        label="Interrupt"
        disabled={dead}
        onClick={() => void actions.interrupt(k.id)}
      />
      <IconButton
        icon="restart"
        label="Restart"
        title="Restart: variables are lost"
        disabled={dead || k.state === 'restarting'}
        onClick={() => setConfirm('restart')}
      />
      <IconButton
        icon={dead ? 'remove' : 'shutdown'}
        label={dead ? 'Remove' : 'Shut down'}
        onClick={() => (dead ? void actions.shutdown(k.id) : setConfirm('shutdown'))}
      />
    </div>
  );
}
