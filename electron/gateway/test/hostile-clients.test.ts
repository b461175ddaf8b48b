// What one client can do to everyone else's kernels, tried against `npm run serve` in its own process with
// a real kernel: nothing a client sends may end the proxy, abandoned sessions stay bounded, huge frames stay
// within the memory bound, and REST answers what it should without a token or with an oversize body.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startServe, type ServeProcess } from '../../../scripts/testing/serve-process';
import { RawClient, rawMessage, waitFor } from './helpers';

let serve: ServeProcess;
let kernelId: string;

async function newKernel(s: ServeProcess): Promise<string> {
  const res = await s.api('api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

/** A client that executes on the kernel: what every other user of the proxy expects to keep working. */
async function stillExecutes(s: ServeProcess, id: string, session: string): Promise<void> {
  const c = new RawClient({ proxyUrl: s.url, token: s.token }, id, session);
  try {
    await c.opened;
    await c.ready(session);
    const { stdout } = await c.execute('print(6 * 7)', session);
    assert.equal(stdout, '42\n');
  } finally {
    c.close();
  }
}

function openSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: `token ${token}` }, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)));
  });
}

describe('hostile clients against serve', { timeout: 300_000 }, () => {
  before(async () => {
    serve = await startServe();
    kernelId = await newKernel(serve);
  });
  after(async () => {
    await serve?.stop();
  });

  test('a session_id of 400 UTF-8 bytes neither ends the proxy nor its kernel; it and others execute', async () => {
    const long = 'é'.repeat(200);
    await stillExecutes(serve, kernelId, long);
    assert.equal(serve.child.exitCode, null, `serve exited:\n${serve.err()}`);
    await stillExecutes(serve, kernelId, `second-${Date.now()}`);
  });

  test('300 sessions opened and abandoned keep the descriptors bounded; the oldest are released', async () => {
    const fdsBefore = serve.openFds();
    for (let i = 0; i < 300; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          openSocket(serve.channelsUrl(kernelId, `abandoned-${i + j}`), serve.token),
        ),
      );
      for (const ws of batch) ws.terminate(); // gone without a close: the session waits for a reconnect
    }
    // Each waiting session holds three kernel sockets (six descriptors here); 64 may wait in all.
    const bound = fdsBefore + 64 * 6 + 40;
    await waitFor(() => serve.openFds() <= bound, 20_000, `descriptors <= ${bound} (now ${serve.openFds()})`);
    assert.match(serve.err(), /released while waiting for its client/);
    await stillExecutes(serve, kernelId, `after-abandoned-${Date.now()}`);
    assert.equal(serve.child.exitCode, null);
  });

  test('three concurrent 200 MB legacy frames stay within the memory bound and all reach the kernel', async () => {
    const rssBefore = serve.rssMb();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, serve.rssMb())), 10);
    const blob = 'a'.repeat(200 * 1024 * 1024);
    try {
      await Promise.all(
        [0, 1, 2].map(async (i) => {
          const session = `big-${i}-${Date.now()}`;
          const c = new RawClient({ proxyUrl: serve.url, token: serve.token }, kernelId, session);
          try {
            await c.opened;
            await c.ready(session, 60_000);
            // A comm message to no comm: the kernel reads and drops it; the execute after it proves it got it.
            c.send(rawMessage('comm_msg', { comm_id: `none-${i}`, data: { blob } }, session));
            const { stdout } = await c.execute(`print(${i})`, session, 120_000);
            assert.equal(stdout, `${i}\n`);
          } finally {
            c.close();
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const grew = peak - rssBefore;
    // The bound: 256 MB of incomplete client messages (ws briefly holds each twice while it joins its
    // chunks) plus the message on its way to the kernel. Without it three frames took 1.6 GB.
    assert.ok(grew < 800, `serve grew by ${grew.toFixed(0)} MB (peak ${peak.toFixed(0)} MB)`);
  });

  test('a message over the per-message limit is closed 1009 with a reason that names the limit', async () => {
    const small = await startServe({ args: ['--max-message-mb', '1'] });
    try {
      const id = await newKernel(small);
      const c = new RawClient({ proxyUrl: small.url, token: small.token }, id, 'oversize');
      await c.opened;
      c.send(rawMessage('comm_msg', { comm_id: 'x', data: { blob: 'b'.repeat(2 * 1024 * 1024) } }, 'o'));
      assert.equal(await c.closed, 1009);
      assert.match(c.closeReason, /over the 1 MB limit \(serve --max-message-mb\)/);
      await stillExecutes(small, id, 'after-oversize');
    } finally {
      await small.stop();
    }
  });

  test('a client sets only KERNEL_* variables in a kernel on this computer, not PATH or LD_PRELOAD', async () => {
    const res = await serve.api('api/kernels', {
      method: 'POST',
      body: JSON.stringify({
        name: 'python3',
        env: { KERNEL_FOO: 'bar', GD_NOT_ALLOWED: 'x', LD_PRELOAD: '/nonexistent.so' },
      }),
    });
    assert.equal(res.status, 201);
    const id = ((await res.json()) as { id: string }).id;
    const session = `env-${Date.now()}`;
    const c = new RawClient({ proxyUrl: serve.url, token: serve.token }, id, session);
    try {
      await c.opened;
      await c.ready(session);
      const code =
        "import os; print(os.environ.get('KERNEL_FOO'), os.environ.get('GD_NOT_ALLOWED'), os.environ.get('LD_PRELOAD'))";
      assert.equal((await c.execute(code, session)).stdout, 'bar None None\n');
    } finally {
      c.close();
      await serve.api(`api/kernels/${id}`, { method: 'DELETE' });
    }
    assert.match(serve.err(), /ignored env GD_NOT_ALLOWED, LD_PRELOAD/);
  });

  test('unknown paths without a token answer 401, not 404', async () => {
    for (const p of ['no/such/page', 'api/nothing', '%zz', 'static/../../etc/passwd']) {
      const res = await fetch(new URL(p, serve.url));
      assert.equal(res.status, 401, p);
    }
    const withToken = await serve.api('no/such/page');
    assert.equal(withToken.status, 404);
  });

  test('an oversize chunked request body gets 413 with a reason, not a reset connection', async () => {
    const url = new URL('api/kernels', serve.url);
    let answered = false;
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: { Authorization: `token ${serve.token}`, 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          answered = true;
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      // Writes after the answer may fail once the server closes; only an error before any answer counts.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * 1024 * 1024 && !answered) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(status, 413);
    assert.match(body, /Request body over \d+ bytes/);
  });
});
