// Shared helpers for the provisioner tests (real ipykernel from Debian).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadKernelSpec } from '../kernelspec/discovery';
import { linuxGroupMembers } from '../local/processes';
import type { KernelBackend, KernelPort, KernelSpec, WireMessage } from '../types';
import { makeMessage, parseContent, parseHeader } from '../zmq/wire';

export const PY_SPEC_DIR = '/usr/share/jupyter/kernels/python3';
export const KERNEL_ENV = { PYDEVD_DISABLE_FILE_VALIDATION: '1' };

export async function pythonSpec(): Promise<KernelSpec> {
  const s = await loadKernelSpec(PY_SPEC_DIR, 'python3');
  if ('message' in s) throw new Error(`python3 kernelspec unusable: ${s.message}`);
  return s;
}

export function newKernelId(): string {
  return randomUUID();
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Whether a process of group `pgid` runs. Zombies do not count: they no longer run, they wait for a parent
// (often pid 1, which may reap lazily) to collect their exit status.
export function groupAlive(pgid: number): boolean {
  const members = linuxGroupMembers(pgid);
  if (members) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lines of `ps` whose pid or pgid is `id` (ignores zombies, which are gone for the user). */
export function psGroup(id: number): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .filter((l) => {
      const [pid, pgid, stat] = l.split(/\s+/);
      return (Number(pid) === id || Number(pgid) === id) && !stat.startsWith('Z');
    });
}

export async function waitFor(
  cond: () => boolean,
  timeoutMs: number,
  what: string,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface Received {
  channel: string;
  msgType: string;
  parentId: string | undefined;
  content: Record<string, unknown>;
  raw: WireMessage;
}

/** A client on a kernel port, like a WebSocket client of the proxy would be. */
export class TestClient {
  readonly session = `test-${randomUUID()}`;
  readonly port: KernelPort;
  readonly received: Received[] = [];

  constructor(kernel: KernelBackend) {
    this.port = kernel.openPort(this.session, (m) => {
      const h = parseHeader(m.header);
      const parent = m.parentHeader.length ? parseHeader(m.parentHeader) : undefined;
      this.received.push({
        channel: m.channel,
        msgType: h.msg_type,
        parentId: parent?.msg_id,
        content: parseContent(m.content),
        raw: m,
      });
    });
  }

  send(channel: 'shell' | 'control' | 'stdin', msgType: string, content: unknown): string {
    const msg = makeMessage(channel, msgType, content, this.session);
    this.port.send(msg);
    return parseHeader(msg.header).msg_id;
  }

  /** Execute code; resolves with the reply and the iopub messages of the request once it went idle. */
  async execute(code: string, timeoutMs = 30_000): Promise<{ reply: Received; iopub: Received[] }> {
    const id = this.send('shell', 'execute_request', {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    return this.waitForReply(id, 'execute_reply', timeoutMs);
  }

  async waitForReply(
    id: string,
    replyType: string,
    timeoutMs = 30_000,
  ): Promise<{ reply: Received; iopub: Received[] }> {
    const mine = (): Received[] => this.received.filter((r) => r.parentId === id);
    await waitFor(
      () =>
        mine().some((r) => r.msgType === replyType) &&
        mine().some((r) => r.msgType === 'status' && r.content.execution_state === 'idle'),
      timeoutMs,
      `${replyType} to ${id}`,
    );
    const all = mine();
    return {
      reply: all.find((r) => r.msgType === replyType) as Received,
      iopub: all.filter((r) => r.channel === 'iopub'),
    };
  }

  close(): void {
    this.port.close();
  }
}
