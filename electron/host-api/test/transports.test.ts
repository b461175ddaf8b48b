// Both transports over the same service: the WebSocket one on a real HTTP server (token, Host, Origin,
// calls, pushed events, bad frames) and the IPC one with a stand-in ipcMain (sender validation).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  HOST_METHOD_NAMES,
  HOST_WS_PROTOCOL,
  IPC_EVENT_CHANNEL,
  ipcMethodChannel,
  type HostIpcReply,
} from '../contract';
import { registerIpcTransport } from '../ipc-transport';
import { HostService } from '../service';
import { createHostWsTransport, loopbackHosts, type HostWsTransport } from '../ws-transport';
import { FakeBackend } from './fakes';

const dir = mkdtempSync(join(tmpdir(), 'gd-transport-'));
const backend = new FakeBackend(dir);
const service = new HostService({ backend, shell: 'browser', healthIntervalMs: 0 });

interface Msg {
  t: string;
  id?: number;
  ok?: boolean;
  value?: unknown;
  error?: { code: string; message: string };
  event?: string;
}

function open(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; msgs: Msg[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, HOST_WS_PROTOCOL, { headers });
    const msgs: Msg[] = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Msg));
    ws.once('open', () => resolve({ ws, msgs }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function until<T>(fn: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WebSocket transport', () => {
  let server: Server;
  let transport: HostWsTransport;
  let port = 0;
  before(async () => {
    await service.init();
    server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    transport = createHostWsTransport({ service, token: 'tok', allowedHosts: loopbackHosts(port) });
    server.on('upgrade', (req, socket, head) => {
      if (!transport.handleUpgrade(req, socket, head)) socket.destroy();
    });
  });
  after(async () => {
    await transport.close();
    await new Promise((r) => server.close(r));
    service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('calls return results; pushed events reach every client', async () => {
    const { ws, msgs } = await open(`ws://127.0.0.1:${port}/host-api?token=tok`);
    ws.send(JSON.stringify({ t: 'call', id: 1, method: 'listClusters', args: [] }));
    const r = await until(() => msgs.find((m) => m.t === 'result' && m.id === 1));
    assert.equal(r.ok, true);
    assert.equal((r.value as { name: string }[])[0].name, 'This computer');
    await service.updateSettings({ theme: 'light' });
    await until(() => msgs.find((m) => m.t === 'event' && m.event === 'settings-changed'));
    ws.close();
  });

  test('errors come back as data with their code', async () => {
    const { ws, msgs } = await open(`ws://127.0.0.1:${port}/host-api`, { Authorization: 'token tok' });
    ws.send(JSON.stringify({ t: 'call', id: 7, method: 'getCluster', args: ['nope'] }));
    ws.send(JSON.stringify({ t: 'call', id: 8, method: 'constructor', args: [] }));
    const r7 = await until(() => msgs.find((m) => m.id === 7));
    const r8 = await until(() => msgs.find((m) => m.id === 8));
    assert.equal(r7.error?.code, 'not-found');
    assert.equal(r8.error?.code, 'not-found');
    ws.close();
  });

  test('a wrong token is closed with 4401; a foreign Host or Origin is refused', async () => {
    const { ws } = await open(`ws://127.0.0.1:${port}/host-api?token=wrong`);
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    assert.equal(code, 4401);
    await assert.rejects(
      open(`ws://127.0.0.1:${port}/host-api?token=tok`, { Host: 'evil.example' }),
      /HTTP 403/,
    );
    await assert.rejects(
      open(`ws://127.0.0.1:${port}/host-api?token=tok`, { Origin: 'http://evil.example' }),
      /HTTP 403/,
    );
    const ok = await open(`ws://127.0.0.1:${port}/host-api?token=tok`, {
      Origin: `http://127.0.0.1:${port}`,
    });
    ok.ws.close();
  });

  test('non-JSON or binary frames close that socket only', async () => {
    const a = await open(`ws://127.0.0.1:${port}/host-api?token=tok`);
    const b = await open(`ws://127.0.0.1:${port}/host-api?token=tok`);
    a.ws.send('not json');
    const code = await new Promise<number>((r) => a.ws.once('close', (c) => r(c)));
    assert.equal(code, 1007);
    b.ws.send(JSON.stringify({ t: 'call', id: 1, method: 'getSettings', args: [] }));
    await until(() => b.msgs.find((m) => m.id === 1));
    b.ws.close();
  });
});

describe('IPC transport', () => {
  test('registers one handler per method; untrusted senders are refused; events are broadcast', async () => {
    const ipcDir = mkdtempSync(join(tmpdir(), 'gd-ipc-'));
    const service = new HostService({
      backend: new FakeBackend(ipcDir),
      shell: 'electron',
      healthIntervalMs: 0,
    });
    await service.init();
    const handlers = new Map<string, (e: { trusted: boolean }, ...a: unknown[]) => unknown>();
    const sent: unknown[] = [];
    const rejected: string[] = [];
    const off = registerIpcTransport<{ trusted: boolean }>({
      ipcMain: {
        handle: (c, l) => handlers.set(c, l),
        removeHandler: (c) => handlers.delete(c),
      },
      service,
      isTrustedSender: (e) => e.trusted,
      broadcast: (channel, msg) => sent.push({ channel, msg }),
      onRejected: (_e, c) => rejected.push(c),
    });
    assert.deepEqual([...handlers.keys()].sort(), HOST_METHOD_NAMES.map(ipcMethodChannel).sort());
    const call = handlers.get(ipcMethodChannel('getProxyInfo'))!;
    const bad = (await call({ trusted: false })) as HostIpcReply;
    assert.equal(bad.ok, false);
    assert.deepEqual(rejected, [ipcMethodChannel('getProxyInfo')]);
    const good = (await call({ trusted: true })) as HostIpcReply;
    assert.equal(good.ok, true);
    await service.updateSettings({ theme: 'dark' });
    assert.ok(sent.some((s) => (s as { channel: string }).channel === IPC_EVENT_CHANNEL));
    off();
    assert.equal(handlers.size, 0);
    service.close();
    rmSync(ipcDir, { recursive: true, force: true });
  });
});
