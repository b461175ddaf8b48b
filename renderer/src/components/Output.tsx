import { useEffect, useRef, useState } from 'react';
import type { ConsoleOutput } from '../../../electron/host-api/models';
import { useSel } from '../context';
import { stripAnsi } from '../util/format';

/**
 * Kernel HTML is untrusted: it goes into a sandboxed iframe (no scripts, no forms, no top navigation) via
 * srcdoc, never into the app's DOM. allow-same-origin (without allow-scripts) only lets the app measure
 * its height; nothing inside can run.
 */
export function HtmlOutput({ html }: { html: string }) {
  const ref = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(24);
  const scheme = useColorScheme();
  // The frame takes the app's colours (transparent, the palette's text colour) so dark mode has no white box.
  const doc = `<!doctype html><html><head><meta charset="utf-8"><style>
    :root{color-scheme:${scheme}}
    body{margin:0;padding:4px;font:13px system-ui,sans-serif;background:transparent;
      color:${scheme === 'dark' ? '#e6e9ee' : '#1b1f24'}}
    table{border-collapse:collapse}td,th{border:1px solid ${scheme === 'dark' ? '#323844' : '#ccd'};padding:2px 6px}
    a{color:${scheme === 'dark' ? '#6f96ff' : '#2f5fd0'}}
  </style></head><body>${html}</body></html>`;
  useEffect(() => {
    const frame = ref.current;
    if (!frame) return;
    let observer: ResizeObserver | null = null;
    // allow-same-origin (never allow-scripts) lets the app measure the content and follow its size.
    const measure = () => {
      const d = frame.contentDocument;
      if (!d?.documentElement) return;
      const h = Math.max(d.documentElement.scrollHeight, d.body?.scrollHeight ?? 0);
      setHeight(Math.min(Math.max(h, 20), 800));
    };
    const onLoad = () => {
      measure();
      observer?.disconnect();
      const body = frame.contentDocument?.body;
      if (body && typeof ResizeObserver !== 'undefined') {
        observer = new ResizeObserver(measure);
        observer.observe(body);
      }
    };
    frame.addEventListener('load', onLoad);
    if (frame.contentDocument?.readyState === 'complete') onLoad();
    return () => {
      frame.removeEventListener('load', onLoad);
      observer?.disconnect();
    };
  }, [doc]);
  return (
    <iframe
      ref={ref}
      className="html-output"
      title="HTML output"
      sandbox="allow-same-origin"
      referrerPolicy="no-referrer"
      srcDoc={doc}
      style={{ height, colorScheme: scheme }}
    />
  );
}

/** The colour scheme the app shows right now (the setting, or the system's when it follows the system). */
function useColorScheme(): 'light' | 'dark' {
  const theme = useSel('app', (s) => s.settings?.theme ?? 'system');
  const [systemDark, setSystemDark] = useState(
    () => typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches,
  );
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setSystemDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return theme === 'system' ? (systemDark ? 'dark' : 'light') : theme;
}

export function OutputView({ o }: { o: ConsoleOutput }) {
  if (o.type === 'stream') return <pre className={`out out-${o.name}`}>{o.text}</pre>;
  // The pending question is asked by the entry (InputPrompt); once answered it reads like a terminal.
  if (o.type === 'input-request') return null;
  if (o.type === 'input-reply')
    return (
      <pre className="out out-stdin">
        {o.prompt}
        <strong>{o.value}</strong>
      </pre>
    );
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
        <img
          src={`data:image/png;base64,${d['image/png']}`}
          alt={d['text/plain'] ?? 'image output'}
          // Image(width=64) means 64 CSS pixels, not the PNG's own (often tiny) size.
          width={o.width}
          height={o.height}
          className={o.width || o.height ? 'sized' : undefined}
        />
      ) : d['text/html'] ? (
        <HtmlOutput html={d['text/html']} />
      ) : (
        <pre>{d['text/plain'] ?? ''}</pre>
      )}
    </div>
  );
}
