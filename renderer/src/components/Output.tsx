import { useRef, useState } from 'react';
import type { ConsoleOutput } from '../../../electron/host-api/models';
import { stripAnsi } from '../util/format';

/**
 * Kernel HTML is untrusted: it goes into a sandboxed iframe (no scripts, no forms, no top navigation) via
 * srcdoc, never into the app's DOM. allow-same-origin (without allow-scripts) only lets the app measure
 * its height; nothing inside can run.
 */
export function HtmlOutput({ html }: { html: string }) {
  const ref = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(80);
  const doc = `<!doctype html><html><head><meta charset="utf-8"><style>
    body{margin:0;padding:4px;font:13px system-ui,sans-serif;color:#1b1f24;background:#fff}
    table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:2px 6px}
  </style></head><body>${html}</body></html>`;
  return (
    <iframe
      ref={ref}
      className="html-output"
      title="HTML output"
      sandbox="allow-same-origin"
      referrerPolicy="no-referrer"
      srcDoc={doc}
      style={{ height }}
      onLoad={() => {
        const h = ref.current?.contentDocument?.documentElement.scrollHeight;
        if (h) setHeight(Math.min(Math.max(h + 4, 24), 600));
      }}
    />
  );
}

export function OutputView({ o }: { o: ConsoleOutput }) {
  if (o.type === 'stream') return <pre className={`out out-${o.name}`}>{o.text}</pre>;
  if (o.type === 'error')
    return (
      <div className="out out-error" role="group" aria-label={`Error ${o.ename}`}>
        <pre>
          <strong>
            {o.ename}: {o.evalue}
          </strong>
          {o.traceback.length > 0 ? '\n' + stripAnsi(o.traceback.join('\n')) : ''}
        </pre>
      </div>
    );
  const d = o.data;
  return (
    <div className="out out-display">
      {o.executionCount !== null && <span className="prompt">Out[{o.executionCount}]:</span>}
      {d['image/png'] ? (
        <img src={`data:image/png;base64,${d['image/png']}`} alt={d['text/plain'] ?? 'image output'} />
      ) : d['text/html'] ? (
        <HtmlOutput html={d['text/html']} />
      ) : (
        <pre>{d['text/plain'] ?? ''}</pre>
      )}
    </div>
  );
}
