// Shared helpers for the gateway tests: a core on a temp data dir, @jupyterlab/services settings, raw ws
// clients, polling, and the process table.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';
import { createAppCore, type AppCore, type AppCoreOptions } from '../../app-core';
import { freeTcpPort as freePort } from '../../../scripts/testing/free-port';

export const SYSTEM_KERNELS = '/usr/share/jupyter/kernels';

/** A core serving the Debian kernelspecs only, on a temp data dir; `cleanup()` closes it and removes the dir. */
export async function startTestCore(
  opts: Partial<AppCoreOptions> = {},
): Promise<{ core: AppCore; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gd-test-'));
  const core = await createAppCore({
    dataDir,
    token: 'test-token-123',
    kernelSpecDirs: [SYSTEM_KERNELS],
    ...opts,
    proxyOptions: { log: () => undefined, ...opts.proxyOptions },
  });
  return {
    core,
    cleanup: async () => {
      await core.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A WebSocket class that never offers a subprotocol (forces the legacy protocol). */
export class LegacyOnlyWebSocket extends WebSocket {
  constructor(url: string | URL, _protocols?: string | string[]) {
    super(url);
  }
}

/** @jupyterlab/services settings for a core; `legacy` forces the legacy WebSocket protocol. */
export function labSettings(core: AppCore, legacy = false): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: core.proxyUrl,
    wsUrl: core.proxyUrl.replace(/^http/, 'ws'),
    token: core.token,
    appendToken: true,
    WebSocket: (legacy ? LegacyOnlyWebSocket : WebSocket) as unknown as typeof globalThis.WebSocket,
    fetch: globalThis.fetch,
    Request: globalThis.Request,
    Headers: globalThis.Headers,
  });
}

/** Poll until `cond()` is truthy (or throw after `timeoutMs`). */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = 'condition',
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Process ids whose command line mentions `needle` (e.g. a kernel id in the connection-file name). */
export function processesMatching(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((n) => Number.isFinite(n) && n !== process.pid);
}

/** A free TCP port on 127.0.0.1. */
export { freePort };

/** A raw fetch against the core with the token header (unless `headers` overrides it). */
export function api(core: AppCore, pathname: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('Authorization', `token ${core.token}`);
  return fetch(new URL(pathname, core.proxyUrl), { ...init, headers });
}

export interface RawMessage {
  channel: string;
  header: { msg_id: string; msg_type: string; session: string };
  parent_header: { msg_id?: string; msg_type?: string };
  content: Record<string, unknown>;
  msg_id?: string;
  msg_type?: string;
  buffers?: Buffer[];
}

let counter = 0;

/** A legacy-protocol message dict. */
export function rawMessage(
  msgType: string,
  content: Record<string, unknown>,
  session: string,
  channel = 'shell',
): RawMessage & { metadata: Record<string, unknown> } {
  return {
    channel,
    header: {
      msg_id: `test-${Date.now()}-${++counter}`,
      msg_type: msgType,
      session,
      username: 'test',
      date: new Date().toISOString(),
      version: '5.3',
    } as RawMessage['header'],
    parent_header: {},
    metadata: {},
    content,
  };
}

/** A raw legacy ws client that records every decoded message. */
export class RawClient {
  readonly ws: WebSocket;
  readonly messages: RawMessage[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(
    server: { proxyUrl: string; token: string },
    kernelId: string,
    session: string,
    opts: { protocols?: string[]; headers?: Record<string, string> } = {},
  ) {
    const url = `${server.proxyUrl.replace(/^http/, 'ws')}api/kernels/${kernelId}/channels?session_id=${session}`;
    this.ws = new WebSocket(url, opts.protocols ?? [], {
      headers: { Authorization: `token ${server.token}`, ...opts.headers },
      perMessageDeflate: false,
    });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      }),
    );
    this.ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        this.messages.push(JSON.parse(data.toString('utf8')) as RawMessage);
        return;
      }
      const n = data.readUInt32BE(0);
      const offs: number[] = [];
      for (let i = 0; i < n; i++) offs.push(data.readUInt32BE(4 * (i + 1)));
      const end = (i: number) => (i + 1 < n ? offs[i + 1] : data.length);
      const msg = JSON.parse(data.toString('utf8', offs[0], end(0))) as RawMessage;
      msg.buffers = [];
      for (let i = 1; i < n; i++) msg.buffers.push(Buffer.from(data.subarray(offs[i], end(i))));
      this.messages.push(msg);
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /**
   * Send kernel_info_request every 500 ms until one is answered (what Lab does on connect). Needed behind
   * jupyter_server 1.23, whose gateway relay drops messages sent before its own gateway socket is up.
   */
  async ready(session: string, timeoutMs = 20_000): Promise<void> {
    const ids = new Set<string>();
    await waitFor(
      () => {
        if (
          this.messages.some(
            (m) => m.msg_type === 'kernel_info_reply' && ids.has(m.parent_header.msg_id ?? ''),
          )
        ) {
          return true;
        }
        const m = rawMessage('kernel_info_request', {}, session);
        ids.add(m.header.msg_id);
        this.send(m);
        return false;
      },
      timeoutMs,
      'kernel_info_reply',
      500,
    );
  }

  /** The first message of `msgType` answering `parentId` (waits for it). */
  waitForReply(parentId: string, msgType: string, timeoutMs = 10_000, what = msgType): Promise<RawMessage> {
    return waitFor(
      () => this.messages.find((m) => m.parent_header.msg_id === parentId && m.msg_type === msgType),
      timeoutMs,
      what,
    );
  }

  /** Execute code; resolves with the stream text produced and the reply. */
  async execute(
    code: string,
    session: string,
    timeoutMs = 20_000,
  ): Promise<{ stdout: string; reply: RawMessage }> {
    const msg = rawMessage(
      'execute_request',
      { code, silent: false, store_history: false, allow_stdin: false },
      session,
    );
    this.send(msg);
    const id = msg.header.msg_id;
    const reply = await this.waitForReply(id, 'execute_reply', timeoutMs, `execute_reply for ${code}`);
    await waitFor(
      () =>
        this.messages.find(
          (m) =>
            m.parent_header.msg_id === id && m.msg_type === 'status' && m.content.execution_state === 'idle',
        ),
      timeoutMs,
      'idle',
    );
    return { stdout: this.streamText(id), reply };
  }

  streamText(parentId: string): string {
    return this.messages
      .filter((m) => m.parent_header.msg_id === parentId && m.msg_type === 'stream')
      .map((m) => String(m.content.text))
      .join('');
  }

  close(): void {
    this.ws.close();
  }
}

/** The HTTP status an upgrade to `url` gets (101 when the WebSocket opens). */
export function upgradeStatus(
  url: string,
  headers: Record<string, string>,
  protocols: string[] = [],
): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

/** Remove a temp dir quietly. */
export function rmrf(p: string): void {
  rmSync(p, { recursive: true, force: true });
}
