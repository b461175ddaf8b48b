// A bounded fuzz run against `npm run serve` with one real kernel: random and mutated frames of both
// WebSocket protocols, and random REST requests. Afterwards the proxy is up, the kernel answers, and nothing
// leaked (descriptors, kernels, sessions). Seeded, so a failure can be replayed with FUZZ_SEED.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startServe, type ServeProcess } from '../../../scripts/testing/serve-process';
import { RawClient, rawMessage, waitFor } from './helpers';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const FRAMES = 600;
const REQUESTS = 300;
const BUDGET_MS = 60_000;

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

/** Flip, drop, duplicate or insert bytes, or cut the end off. */
function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (int(5)) {
    case 0:
      for (let k = 0; k < 1 + int(4); k++) out[int(out.length)] = int(256);
      return out;
    case 1:
      return out.subarray(0, int(out.length));
    case 2: {
      const at = int(out.length);
      return Buffer.concat([out.subarray(0, at), randomBytes(1 + int(16)), out.subarray(at)]);
    }
    case 3: {
      const at = int(out.length);
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(8))]);
    }
    default: {
      const at = int(out.length);
      return Buffer.concat([out.subarray(0, at), out.subarray(at), out.subarray(0, int(32))]);
    }
  }
}

const JSON_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '"',
  '\\',
  '\\u00',
  'null',
  'true',
  '1e9',
  '-0',
  '""',
  '{}',
];

function legacyText(session: string): Buffer {
  const m = rawMessage(
    pick(['execute_request', 'kernel_info_request', 'comm_msg', 'x']),
    { code: '1' },
    session,
  );
  const base = JSON.stringify({ ...m, channel: pick(['shell', 'control', 'stdin', 'iopub', 'nope', null]) });
  if (rand() < 0.2) {
    const at = int(base.length);
    return Buffer.from(base.slice(0, at) + pick(JSON_TOKENS) + base.slice(at));
  }
  return mutate(Buffer.from(base));
}

function v1Frame(session: string): Buffer {
  const m = rawMessage('kernel_info_request', {}, session);
  const parts = [
    Buffer.from(pick(['shell', 'control', 'iopub', 'stdin', ''])),
    Buffer.from(JSON.stringify(m.header)),
    Buffer.from('{}'),
    Buffer.from('{}'),
    Buffer.from('{}'),
  ];
  const n = parts.length + 1;
  const head = Buffer.alloc(8 * (n + 1));
  head.writeBigUInt64LE(BigInt(n), 0);
  let off = head.length;
  for (let i = 0; i < parts.length; i++) {
    head.writeBigUInt64LE(BigInt(off), 8 * (i + 1));
    off += parts[i].length;
  }
  head.writeBigUInt64LE(BigInt(off), 8 * n);
  const frame = Buffer.concat([head, ...parts]);
  return rand() < 0.8 ? mutate(frame) : frame;
}

function legacyBinary(session: string): Buffer {
  const json = Buffer.from(JSON.stringify(rawMessage('comm_msg', { comm_id: 'x' }, session)));
  const buf = randomBytes(int(64));
  const head = Buffer.alloc(12);
  head.writeUInt32BE(2, 0);
  head.writeUInt32BE(12, 4);
  head.writeUInt32BE(12 + json.length, 8);
  return mutate(Buffer.concat([head, json, buf]));
}

let serve: ServeProcess;
let kernelId: string;

describe(`fuzz (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, { timeout: 240_000 }, () => {
  before(async () => {
    serve = await startServe();
    const res = await serve.api('api/kernels', { method: 'POST', body: '{"name":"python3"}' });
    assert.equal(res.status, 201);
    kernelId = ((await res.json()) as { id: string }).id;
  });
  after(async () => {
    await serve?.stop();
  });

  test('random and mutated frames of both protocols, then random REST: nothing breaks or leaks', async () => {
    const fdsBefore = serve.openFds();
    const deadline = Date.now() + BUDGET_MS;
    let ws: WebSocket | null = null;
    let closedByProxy = 0;
    const open = (): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const v1 = rand() < 0.5;
        const s = new WebSocket(
          serve.channelsUrl(kernelId, `fuzz-${int(50)}`),
          v1 ? ['v1.kernel.websocket.jupyter.org'] : [],
          { headers: { Authorization: `token ${serve.token}` }, perMessageDeflate: false },
        );
        s.on('error', () => undefined);
        s.once('open', () => resolve(s));
        s.once('close', () => closedByProxy++);
        s.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)));
      });
    for (let i = 0; i < FRAMES && Date.now() < deadline; i++) {
      if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
      const session = `fuzz-${i}`;
      const kind = int(4);
      const data =
        kind === 0
          ? legacyText(session)
          : kind === 1
            ? v1Frame(session)
            : kind === 2
              ? legacyBinary(session)
              : randomBytes(int(200));
      // Text frames must be UTF-8 for ws to send them; anything else goes as a binary frame.
      const asText = kind === 0 && Buffer.from(data.toString('utf8')).equals(data);
      await new Promise<void>((resolve) => ws?.send(data, { binary: !asText }, () => resolve()));
      if (rand() < 0.05) ws.terminate();
    }
    ws?.terminate();

    const methods = ['GET', 'POST', 'DELETE', 'PATCH', 'PUT', 'OPTIONS', 'HEAD'];
    const paths = [
      'api',
      'api/kernels',
      `api/kernels/${kernelId}/nothing`,
      'api/kernels/not-a-uuid',
      'api/kernelspecs/%2e%2e',
      'api/sessions',
      'api/sessions/x',
      'kernelspecs/python3/../../x',
      'api/status',
      '%ff%fe',
      'host-api',
      '',
    ];
    for (let i = 0; i < REQUESTS && Date.now() < deadline; i++) {
      const p =
        pick(paths) + (rand() < 0.3 ? `/${encodeURIComponent(randomBytes(int(8)).toString('latin1'))}` : '');
      const method = pick(methods);
      // Random bytes (never a JSON object), or JSON naming a spec that does not exist: no kernel is started.
      const missing = 'fuzz-no-such-spec';
      const json = JSON.stringify({
        name: missing,
        kernel: { name: missing },
        env: { X: int(9) },
        path: 'x',
      });
      const body = ['GET', 'HEAD', 'OPTIONS'].includes(method)
        ? undefined
        : rand() < 0.5
          ? Buffer.concat([Buffer.from('\x00'), randomBytes(int(64))])
          : Buffer.from(json);
      const headers: Record<string, string> = rand() < 0.8 ? { Authorization: `token ${serve.token}` } : {};
      const res = await serve.api(p, { method, body, headers }).catch(() => null);
      if (res) {
        // 5xx means the proxy failed, except 501 (no kernelspec for a session) and a deliberate "not yet"
        // (503 + Retry-After while serve builds the UI).
        const notYet = res.status === 503 && res.headers.has('retry-after');
        assert.ok(res.status < 500 || res.status === 501 || notYet, `${method} /${p} answered ${res.status}`);
        await res.arrayBuffer().catch(() => undefined);
      }
    }

    // Afterwards: the proxy is up, the kernel answers, only our kernel is listed, nothing was left open.
    assert.equal(serve.child.exitCode, null, `serve exited:\n${serve.err()}`);
    assert.doesNotMatch(serve.err(), /uncaught exception|unhandled promise rejection/);
    const session = `after-fuzz-${Date.now()}`;
    const c = new RawClient({ proxyUrl: serve.url, token: serve.token }, kernelId, session);
    await c.opened;
    await c.ready(session);
    assert.equal((await c.execute('print(6 * 7)', session)).stdout, '42\n');
    c.close();
    const kernels = (await (await serve.api('api/kernels')).json()) as Array<{ id: string }>;
    assert.deepEqual(
      kernels.map((k) => k.id),
      [kernelId],
    );
    // Sessions the fuzz abandoned wait for their client at most 5 minutes, and 64 at most: bounded.
    const bound = fdsBefore + 64 * 6 + 40;
    await waitFor(() => serve.openFds() <= bound, 20_000, `descriptors <= ${bound} (now ${serve.openFds()})`);
    assert.ok(closedByProxy > 0, 'the proxy closed sockets that sent malformed frames');
  });
});
