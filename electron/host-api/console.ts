// The app's small console: runs code in a kernel from the main process and streams the outputs to the UI
// as host events. It talks to the kernel through KernelBackend.openPort (its own session id), so the HMAC
// key stays inside the backend; only parsed, display-ready outputs leave.
import { randomUUID } from 'node:crypto';
import type { KernelBackend, KernelPort, WireMessage } from '../../provisioners/types';
import type { ConsoleDoneEvent, ConsoleOutput, ConsoleOutputEvent, ConsoleRun } from './models';

export interface ConsoleSink {
  output(e: ConsoleOutputEvent): void;
  done(e: ConsoleDoneEvent): void;
  /** A console session to this kernel opened (it counts as one of the kernel's connections). */
  opened?(kernelId: string): void;
}

interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

interface Parsed {
  channel: WireMessage['channel'];
  msgType: string;
  parentId: string | null;
  content: Record<string, unknown>;
}

interface PendingRun {
  runId: string;
  kernelId: string;
  msgId: string;
  gotReply: boolean;
  gotIdle: boolean;
  status: ConsoleDoneEvent['status'];
  executionCount: number | null;
  /** Outputs stop counting after this many bytes, so a runaway loop cannot flood the UI. */
  budget: number;
  truncated: boolean;
  /** The kernel's input_request this run waits on (its header is the reply's parent). */
  inputRequest: { parent: Buffer; prompt: string; password: boolean } | null;
}

const MAX_OUTPUT_BYTES = 2_000_000;

function json(buf: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parse(msg: WireMessage): Parsed {
  const header = json(msg.header);
  const parent = json(msg.parentHeader);
  return {
    channel: msg.channel,
    msgType: typeof header.msg_type === 'string' ? header.msg_type : '',
    parentId: typeof parent.msg_id === 'string' ? parent.msg_id : null,
    content: json(msg.content),
  };
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string').join('');
  return '';
}

/** Turns an iopub message into a console output (null when it carries none). Exported for tests. */
export function toConsoleOutput(msgType: string, c: Record<string, unknown>): ConsoleOutput | null {
  if (msgType === 'stream') {
    return { type: 'stream', name: c.name === 'stderr' ? 'stderr' : 'stdout', text: str(c.text) };
  }
  if (msgType === 'error') {
    const tb = Array.isArray(c.traceback)
      ? c.traceback.filter((x): x is string => typeof x === 'string')
      : [];
    return { type: 'error', ename: str(c.ename), evalue: str(c.evalue), traceback: tb };
  }
  if (msgType === 'execute_result' || msgType === 'display_data' || msgType === 'update_display_data') {
    const d = typeof c.data === 'object' && c.data !== null ? (c.data as Record<string, unknown>) : {};
    const data: Extract<ConsoleOutput, { type: 'display' }>['data'] = {};
    if (d['text/plain'] !== undefined) data['text/plain'] = str(d['text/plain']);
    if (d['text/html'] !== undefined) data['text/html'] = str(d['text/html']);
    if (typeof d['image/png'] === 'string') data['image/png'] = d['image/png'].replace(/\s+/g, '');
    if (Object.keys(data).length === 0) {
      const kinds = Object.keys(d).join(', ') || 'nothing';
      data['text/plain'] = `[output of type ${kinds} cannot be shown in the console]`;
    }
    const n = typeof c.execution_count === 'number' ? c.execution_count : null;
    const out: ConsoleOutput = { type: 'display', data, executionCount: n };
    const meta =
      typeof c.metadata === 'object' && c.metadata !== null ? (c.metadata as Record<string, unknown>) : {};
    const img = meta['image/png'];
    if (data['image/png'] && typeof img === 'object' && img !== null) {
      const { width, height } = img as { width?: unknown; height?: unknown };
      if (typeof width === 'number' && width > 0) out.width = width;
      if (typeof height === 'number' && height > 0) out.height = height;
    }
    return out;
  }
  return null;
}

function sizeOf(o: ConsoleOutput): number {
  if (o.type === 'stream') return o.text.length;
  if (o.type === 'input-request' || o.type === 'input-reply') return o.prompt.length;
  if (o.type === 'error') return o.traceback.reduce((n, s) => n + s.length, o.evalue.length);
  return Object.values(o.data).reduce((n, s) => n + (s?.length ?? 0), 0);
}

class KernelConsoleSession {
  private readonly session = randomUUID();
  private readonly port: KernelPort;
  private readonly runs = new Map<string, PendingRun>(); // msg_id -> run

  constructor(
    private readonly kernel: KernelBackend,
    private readonly sink: ConsoleSink,
  ) {
    this.port = kernel.openPort(this.session, (m) => this.onMessage(m));
  }

  execute(code: string, runId: string): void {
    const msgId = randomUUID();
    const header: Header = {
      msg_id: msgId,
      session: this.session,
      username: 'gateway-desktop',
      date: new Date().toISOString(),
      msg_type: 'execute_request',
      version: '5.3',
    };
    const content = {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: true,
      stop_on_error: true,
    };
    this.runs.set(msgId, {
      runId,
      kernelId: this.kernel.id,
      msgId,
      gotReply: false,
      gotIdle: false,
      status: 'ok',
      executionCount: null,
      budget: MAX_OUTPUT_BYTES,
      truncated: false,
      inputRequest: null,
    });
    this.port.send({
      channel: 'shell',
      header: Buffer.from(JSON.stringify(header)),
      parentHeader: Buffer.from('{}'),
      metadata: Buffer.from('{}'),
      content: Buffer.from(JSON.stringify(content)),
      buffers: [],
    });
  }

  /** Sends the answer to the input_request a run is waiting on; false when none waits. */
  answer(runId: string, value: string): boolean {
    const run = [...this.runs.values()].find((r) => r.runId === runId);
    if (!run?.inputRequest) return false;
    const { parent, prompt, password } = run.inputRequest;
    run.inputRequest = null;
    const header: Header = {
      msg_id: randomUUID(),
      session: this.session,
      username: 'gateway-desktop',
      date: new Date().toISOString(),
      msg_type: 'input_reply',
      version: '5.3',
    };
    this.port.send({
      channel: 'stdin',
      header: Buffer.from(JSON.stringify(header)),
      parentHeader: parent,
      metadata: Buffer.from('{}'),
      content: Buffer.from(JSON.stringify({ value })),
      buffers: [],
    });
    this.emitOutput(run, { type: 'input-reply', prompt, value: password ? '••••••' : value });
    return true;
  }

  hasRun(runId: string): boolean {
    return [...this.runs.values()].some((r) => r.runId === runId);
  }

  /** Ends every pending run (the kernel died or restarted). */
  abortAll(): void {
    for (const run of this.runs.values()) {
      this.sink.done({ runId: run.runId, kernelId: run.kernelId, status: 'aborted', executionCount: null });
    }
    this.runs.clear();
  }

  close(): void {
    this.abortAll();
    try {
      this.port.close();
    } catch {
      // already closed
    }
  }

  private onMessage(m: WireMessage): void {
    const p = parse(m);
    if (!p.parentId) return;
    const run = this.runs.get(p.parentId);
    if (!run) return;
    if (p.channel === 'shell' && p.msgType === 'execute_reply') {
      run.gotReply = true;
      run.status = p.content.status === 'ok' ? 'ok' : p.content.status === 'aborted' ? 'aborted' : 'error';
      run.executionCount = typeof p.content.execution_count === 'number' ? p.content.execution_count : null;
    } else if (p.channel === 'stdin' && p.msgType === 'input_request') {
      const prompt = typeof p.content.prompt === 'string' ? p.content.prompt : '';
      const password = p.content.password === true;
      run.inputRequest = { parent: m.header, prompt, password };
      this.emitOutput(run, { type: 'input-request', prompt, password });
    } else if (p.channel === 'iopub') {
      if (p.msgType === 'status' && p.content.execution_state === 'idle') run.gotIdle = true;
      const out = toConsoleOutput(p.msgType, p.content);
      if (out) this.emitOutput(run, out);
    }
    if (run.gotReply && run.gotIdle) {
      this.runs.delete(run.msgId);
      this.sink.done({
        runId: run.runId,
        kernelId: run.kernelId,
        status: run.status,
        executionCount: run.executionCount,
      });
    }
  }

  private emitOutput(run: PendingRun, out: ConsoleOutput): void {
    if (run.truncated) return;
    run.budget -= sizeOf(out);
    if (run.budget < 0) {
      run.truncated = true;
      out = { type: 'stream', name: 'stderr', text: '\n[output truncated: more than 2 MB]\n' };
    }
    this.sink.output({ runId: run.runId, kernelId: run.kernelId, output: out });
  }
}

/** One console session per kernel, opened on first use and closed when the kernel goes away. */
export class ConsoleManager {
  private readonly sessions = new Map<string, KernelConsoleSession>();

  constructor(private readonly sink: ConsoleSink) {}

  execute(kernel: KernelBackend, code: string): ConsoleRun {
    let s = this.sessions.get(kernel.id);
    if (!s) {
      s = new KernelConsoleSession(kernel, this.sink);
      this.sessions.set(kernel.id, s);
      this.sink.opened?.(kernel.id);
    }
    const runId = randomUUID();
    s.execute(code, runId);
    return { runId, kernelId: kernel.id };
  }

  has(kernelId: string): boolean {
    return this.sessions.has(kernelId);
  }

  /** Answers a run's pending input(); false when no run of that id waits for input. */
  answer(runId: string, value: string): boolean {
    for (const s of this.sessions.values()) if (s.hasRun(runId)) return s.answer(runId, value);
    return false;
  }

  /** The kernel restarted or died: pending runs end as aborted (the session stays usable after a restart). */
  abort(kernelId: string): void {
    this.sessions.get(kernelId)?.abortAll();
  }

  forget(kernelId: string): void {
    this.sessions.get(kernelId)?.close();
    this.sessions.delete(kernelId);
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }
}
