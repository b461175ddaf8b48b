// Test helpers: a real "university gateway" (Debian's Jupyter Server 1.23 with a token), free ports, a TCP
// proxy that can be cut and restored, self-signed certificates, and raw Jupyter messages for the relay.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Channel, WireMessage } from '../../../provisioners/types';

import { SYSTEM_PYTHON, freeTcpPort } from '../../../scripts/testing/jupyter-server';

export const PYTHON = SYSTEM_PYTHON;
export const freePort = freeTcpPort;

// Safety net: process groups this test process started are killed when it exits, even if an after() hook
// did not get to run.
const startedGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of startedGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export function tempDir(prefix = 'gwd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export {
  startJupyterServer,
  type JupyterServer,
  type JupyterServerOptions,
} from '../../../scripts/testing/jupyter-server';

/** A TCP pass-through (relay -> proxy -> upstream) that a test can cut (drop every connection, refuse) and restore. */
export class CuttableProxy {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      const up = net.connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(up);
      client.setNoDelay(true);
      up.setNoDelay(true);
      client.pipe(up);
      up.pipe(client);
      const done = (): void => {
        client.destroy();
        up.destroy();
        this.sockets.delete(client);
        this.sockets.delete(up);
      };
      client.on('error', done);
      up.on('error', done);
      client.on('close', done);
      up.on('close', done);
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  /** Drop all connections and stop listening (the upstream looks down). */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  async restore(): Promise<void> {
    if (this.server) return; // not cut
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

/** Self-signed certificate for 127.0.0.1/localhost, made with openssl. */
export function makeSelfSignedCert(
  dir: string,
  cn = 'university-gateway.test',
  san = 'IP:127.0.0.1,DNS:localhost',
  prefix = '',
): { cert: string; key: string } {
  const cert = join(dir, `${prefix}cert.pem`);
  const key = join(dir, `${prefix}key.pem`);
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

export function writeText(file: string, text: string): string {
  writeFileSync(file, text);
  return file;
}

// ------------------------------------------------------------------------ raw Jupyter messages

export function makeMsg(
  channel: Channel,
  msgType: string,
  content: unknown,
  session: string,
  buffers: Buffer[] = [],
): { msg: WireMessage; msgId: string } {
  const msgId = randomUUID();
  const header = {
    msg_id: msgId,
    msg_type: msgType,
    username: 'test',
    session,
    date: new Date().toISOString(),
    version: '5.3',
  };
  return {
    msgId,
    msg: {
      channel,
      header: Buffer.from(JSON.stringify(header)),
      parentHeader: Buffer.from('{}'),
      metadata: Buffer.from('{}'),
      content: Buffer.from(JSON.stringify(content)),
      buffers,
    },
  };
}

/** An execute_request for `code` (not stored in history, stops on error). */
export function executeMsg(code: string, session: string): { msg: WireMessage; msgId: string } {
  return makeMsg(
    'shell',
    'execute_request',
    {
      code,
      silent: false,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    },
    session,
  );
}

export interface Parsed {
  channel: Channel;
  msgType: string;
  parentMsgId: string | undefined;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

export function parse(m: WireMessage): Parsed {
  const h = JSON.parse(m.header.toString()) as { msg_type: string };
  const p = JSON.parse(m.parentHeader.toString() || '{}') as { msg_id?: string };
  return {
    channel: m.channel,
    msgType: h.msg_type,
    parentMsgId: p.msg_id,
    content: JSON.parse(m.content.toString()) as Record<string, unknown>,
    buffers: m.buffers,
  };
}

/** Collects messages from a port; lets a test wait for one that matches. */
export class Inbox {
  readonly all: Parsed[] = [];
  private waiters: { pred: (p: Parsed) => boolean; resolve: (p: Parsed) => void }[] = [];

  readonly push = (m: WireMessage): void => {
    const p = parse(m);
    this.all.push(p);
    for (const w of [...this.waiters]) {
      if (w.pred(p)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  };

  wait(pred: (p: Parsed) => boolean, timeoutMs = 30_000, what = 'a message'): Promise<Parsed> {
    const found = this.all.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== res);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const res = (p: Parsed): void => {
        clearTimeout(t);
        resolve(p);
      };
      this.waiters.push({ pred, resolve: res });
    });
  }

  /** Text of all stream output to a parent request. */
  streamText(parentMsgId: string): string {
    return this.all
      .filter((p) => p.parentMsgId === parentMsgId && p.msgType === 'stream')
      .map((p) => String(p.content.text))
      .join('');
  }

  idleFor(parentMsgId: string, timeoutMs = 30_000): Promise<Parsed> {
    return this.wait(
      (p) => p.parentMsgId === parentMsgId && p.msgType === 'status' && p.content.execution_state === 'idle',
      timeoutMs,
      `idle after ${parentMsgId}`,
    );
  }
}

/**
 * A TCP port that never completes a connection (a listen backlog of 0, already full), so a connect
 * attempt hangs like one to a host that drops packets. Used to test the connect timeout.
 */
export async function startBlackhole(): Promise<{ port: number; stop: () => void }> {
  const script = [
    'import socket, time',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    'port = s.getsockname()[1]',
    'fill = []',
    'for i in range(4):',
    '    c = socket.socket(); c.setblocking(False)',
    '    try: c.connect(("127.0.0.1", port))',
    '    except BlockingIOError: pass',
    '    fill.append(c)',
    'time.sleep(0.2)',
    'print(port, flush=True)',
    'time.sleep(600)',
  ].join('\n');
  const proc = spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  if (proc.pid) startedGroups.add(proc.pid);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(Number(buf.trim()));
    });
    proc.on('exit', () => reject(new Error('blackhole helper exited')));
  });
  return {
    port,
    stop: () => {
      proc.kill('SIGKILL');
      if (proc.pid) startedGroups.delete(proc.pid);
    },
  };
}
