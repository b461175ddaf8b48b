import { useState } from 'react';

/** Copies text; falls back to selecting it when the clipboard API is not allowed. */
export function CopyButton({
  text,
  label = 'Copy',
  targetId,
}: {
  text: string;
  label?: string;
  targetId?: string;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'select'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      if (targetId) {
        const el = document.getElementById(targetId);
        const sel = window.getSelection();
        if (el && sel) {
          const r = document.createRange();
          r.selectNodeContents(el);
          sel.removeAllRanges();
          sel.addRange(r);
        }
      }
      setState('select');
    }
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" className="secondary small" onClick={() => void copy()} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'select' ? 'Selected: press Ctrl+C' : label}
    </button>
  );
}
