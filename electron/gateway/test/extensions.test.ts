// The proxy's extension hooks that the host API and the serve UI use: extra HTTP routes and WebSocket
// upgrade paths on the same server, with the proxy's token/Host/Origin checks still enforced, the
// `?token=` → HttpOnly cookie hand-off for page loads, and built-in Jupyter routes winning over a catch-all.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { AppCore } from '../../app-core';
import { sendJson } from '../http-util';
import { startTestCore } from './helpers';

function rawGet(
  core: AppCore,
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; setCookie?: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: core.port, path: p, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function openWs(url: string, headers: Record<string, string>): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (_q, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.on('error', () => undefined);
  });
}

describe('proxy extension hooks', { timeout: 60_000 }, () => {
  let core: AppCore;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ core, cleanup } = await startTestCore({
      proxyOptions: { allowedOrigins: ['http://lab.example:8888'], log: () => undefined },
      extensions: [
        (c) => {
          const offs = [
            c.proxy.addRoute('/', (ctx) => {
              ctx.res.writeHead(200, { 'Content-Type': 'text/html' });
              ctx.res.end('<html>ui</html>');
            }),
            c.proxy.addRoute('/host-api', (ctx) => sendJson(ctx.res, 200, { path: ctx.segments })),
            c.proxy.addRoute('/public', (ctx) => sendJson(ctx.res, 200, { open: true }), { auth: false }),
            c.proxy.addUpgrade('/host-api/ws', (_req, _sock, _head, ctx) => {
              void ctx.accept().then((ws) => ws.on('message', (d) => ws.send(`echo:${d.toString()}`)));
            }),
          ];
          return () => offs.forEach((off) => off());
        },
      ],
    }));
  });

  after(async () => {
    await cleanup();
  });

  test('extra routes need the token unless opted out; Host is always checked', async () => {
    assert.equal((await rawGet(core, '/host-api/x')).status, 401);
    const ok = await rawGet(core, '/host-api/a/b%20c', { Authorization: `token ${core.token}` });
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { path: ['host-api', 'a', 'b c'] });
    assert.equal((await rawGet(core, '/public')).status, 200);
    assert.equal((await rawGet(core, '/public', { Host: `evil.example:${core.port}` })).status, 403);
  });

  test('built-in routes win over a catch-all; unknown /api paths are JSON 404s', async () => {
    const auth = { Authorization: `token ${core.token}` };
    const specs = await rawGet(core, '/api/kernelspecs', auth);
    assert.equal(specs.status, 200);
    assert.ok('kernelspecs' in JSON.parse(specs.body));
    assert.equal((await rawGet(core, '/api/kernels/nope', auth)).status, 404);
    assert.equal((await rawGet(core, '/anything', auth)).body, '<html>ui</html>');
  });

  test('?token= on a page load sets an HttpOnly cookie that authenticates later requests', async () => {
    const page = await rawGet(core, `/?token=${core.token}`);
    assert.equal(page.status, 200);
    const cookie = page.setCookie?.[0] ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const pair = cookie.split(';')[0];
    assert.equal((await rawGet(core, '/host-api/x', { Cookie: pair })).status, 200);
    assert.equal((await rawGet(core, '/api/kernels', { Cookie: pair })).status, 200);
    assert.equal(
      (await rawGet(core, '/api/kernels', { Cookie: pair, Origin: 'http://evil.example' })).status,
      403,
    );
  });

  test('extra upgrade paths: auth and Origin enforced, accept() gives a working socket', async () => {
    const url = `${core.proxyUrl.replace('http', 'ws')}host-api/ws`;
    assert.equal((await openWs(url, {})).status, 401);
    assert.equal(
      (await openWs(url, { Authorization: `token ${core.token}`, Origin: 'http://evil.example' })).status,
      403,
    );
    assert.equal(
      (
        await openWs(`${core.proxyUrl.replace('http', 'ws')}nowhere`, {
          Authorization: `token ${core.token}`,
        })
      ).status,
      404,
    );
    const { status, ws } = await openWs(`${url}?token=${core.token}`, {
      Origin: `http://127.0.0.1:${core.port}`,
    });
    assert.equal(status, 101);
    assert.ok(ws);
    const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
    ws.send('hi');
    assert.equal(await reply, 'echo:hi');
    ws.close();
  });
  test('allow-listed origin: CORS preflight without token, credentials allowed, WebSocket accepted', async () => {
    const pre = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: core.port,
          path: '/api/kernels',
          method: 'OPTIONS',
          headers: { Origin: 'http://lab.example:8888', 'Access-Control-Request-Method': 'POST' },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://lab.example:8888');
    assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/);
    const get = await rawGet(core, '/api/kernels', {
      Authorization: `token ${core.token}`,
      Origin: 'http://lab.example:8888',
    });
    assert.equal(get.status, 200);
    const ws = await openWs(`${core.proxyUrl.replace('http', 'ws')}host-api/ws?token=${core.token}`, {
      Origin: 'http://lab.example:8888',
    });
    assert.equal(ws.status, 101);
    ws.ws?.close();
  });
});
