// The response listener against a real sender: a Python script that builds Gateway Provisioners' payload
// version 1 exactly as its launchers do (pycryptodome AES-128-ECB + RSA PKCS#1 v1.5, §2.4) and sends it over TCP.
// Every rejection is followed by a correct payload to show the listener still serves, and the wait that was
// pending during the bad connection is the one that gets it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import type { V1Payload } from '../payload-v1';
import { V1ResponseListener, type ResponseListenerOptions } from '../response-listener';

const PYTHON = '/usr/bin/python3';

// argv: mode (send | print), response address, public key, version; stdin: the payload JSON, or
// {"gp": true, "kernel_id": …} for the field set launch_ipykernel.py sends (connection file written by
// jupyter_client, plus pid, pgid, comm_port, kernel_id). Prints {"wire", "sent"}.
const SENDER = `
import base64, json, os, socket, sys, uuid
from Cryptodome.Cipher import AES, PKCS1_v1_5
from Cryptodome.PublicKey import RSA
from Cryptodome.Random import get_random_bytes
from Cryptodome.Util.Padding import pad

mode, address, public_key, version = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
info = json.loads(sys.stdin.read())
comm = None
if info.get("gp"):
    from jupyter_client.connect import write_connection_file
    fname, _ = write_connection_file(ip="0.0.0.0", key=str(uuid.uuid4()).encode())
    with open(fname) as fp:
        cf = json.load(fp)
    os.remove(fname)
    comm = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    comm.bind(("0.0.0.0", 0))
    cf["pid"] = os.getpid()
    cf["pgid"] = os.getpgid(os.getpid())
    cf["comm_port"] = comm.getsockname()[1]
    cf["kernel_id"] = info["kernel_id"]
else:
    cf = info
aes_key = get_random_bytes(16)
conn_info = base64.b64encode(AES.new(aes_key, AES.MODE_ECB).encrypt(pad(json.dumps(cf).encode("utf-8"), 16)))
rsa = PKCS1_v1_5.new(RSA.importKey(base64.b64decode(public_key.encode())))
key = base64.b64encode(rsa.encrypt(aes_key))
envelope = json.dumps({"version": version, "key": key.decode("ascii"), "conn_info": conn_info.decode("ascii")},
                      separators=(", ", ": "))
wire = base64.b64encode(envelope.encode("utf-8"))
if mode == "send":
    host, port = address.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect((host, int(port)))
        s.sendall(wire)
print(json.dumps({"wire": wire.decode("ascii"), "sent": cf}))
`;

const hasSender =
  spawnSync(PYTHON, ['-c', 'import Cryptodome, jupyter_client'], { stdio: 'ignore' }).status === 0;
const skip = hasSender
  ? false
  : `${PYTHON} lacks Cryptodome or jupyter_client (apt-get install python3-pycryptodome python3-jupyter-client)`;

interface Sent {
  wire: string;
  sent: Record<string, unknown>;
}

function runSender(
  mode: 'send' | 'print',
  to: { address: string; publicKey: string },
  info: object,
  version = 1,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', SENDER, mode, to.address, to.publicKey, String(version)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as Sent);
      else reject(new Error(`sender exited ${code}: ${err}`));
    });
    child.stdin.end(JSON.stringify(info));
  });
}

/** Connection info as a test kernel would report it. */
function info(kernelId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    shell_port: 50001,
    iopub_port: 50002,
    stdin_port: 50003,
    control_port: 50004,
    hb_port: 50005,
    ip: '10.0.0.7',
    key: randomUUID(),
    transport: 'tcp',
    signature_scheme: 'hmac-sha256',
    kernel_name: '',
    pid: 4242,
    pgid: 4242,
    comm_port: 50006,
    kernel_id: kernelId,
    ...extra,
  };
}

/** The listener's log, with a wait for a line (already logged or still to come). */
class LogWatch {
  readonly lines: string[] = [];
  private readonly waiting: { re: RegExp; resolve: (line: string) => void }[] = [];
  readonly log = (line: string): void => {
    this.lines.push(line);
    for (const w of [...this.waiting]) {
      if (w.re.test(line)) {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  line(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const found = this.lines.find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no log line matching ${re} in ${timeoutMs} ms; log: ${this.lines.join(' | ')}`)),
        timeoutMs,
      );
      this.waiting.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }
}

const open: V1ResponseListener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function startListener(
  opts: ResponseListenerOptions = {},
): Promise<{ listener: V1ResponseListener; logs: LogWatch }> {
  const logs = new LogWatch();
  const listener = await V1ResponseListener.start({ keyBits: 1024, ...opts, log: logs.log });
  open.push(listener);
  return { listener, logs };
}

/** Send raw bytes over TCP; `close: false` leaves the connection open. Resolves when the listener closes it. */
function sendRaw(address: string, data: string, close = true): Promise<void> {
  const [host, port] = address.split(':');
  const socket = connect({ host, port: Number(port) });
  sockets.push(socket);
  socket.on('error', () => undefined); // a cut connection may reset: the close is what matters
  socket.resume();
  socket.write(data);
  if (close) socket.end();
  return new Promise((resolve) => socket.on('close', () => resolve()));
}

function pick(p: V1Payload | Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
}

/** A correct payload for a kernel that was already waiting reaches it. */
async function stillServes(
  listener: V1ResponseListener,
  pending: Promise<V1Payload>,
  id: string,
): Promise<void> {
  const { sent } = await runSender('send', listener, info(id));
  assert.deepEqual(pick(await pending), sent);
}

describe('V1ResponseListener', { skip, timeout: 60_000 }, () => {
  test('routes a payload from the Python sender to the kernel that waits, comparing ids without case', async () => {
    const { listener } = await startListener({ keyBits: 2048 });
    assert.match(listener.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(listener.address, `127.0.0.1:${listener.port}`);
    const id = randomUUID();
    const payload = listener.waitFor(id.toUpperCase(), new AbortController().signal);
    const { sent } = await runSender('send', listener, info(id));
    assert.deepEqual(pick(await payload), sent);
  });

  test("decodes Gateway Provisioners' own field set (jupyter_client connection file, pid, pgid, comm_port)", async () => {
    const { listener } = await startListener();
    const id = randomUUID();
    const pending = listener.waitFor(id, new AbortController().signal);
    const { sent } = await runSender('send', listener, { gp: true, kernel_id: id });
    const got = await pending;
    assert.deepEqual(pick(got), sent);
    assert.equal(got.ip, '0.0.0.0');
    assert.match(got.key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(got.transport, 'tcp');
    assert.equal(got.signature_scheme, 'hmac-sha256');
    assert.equal(got.kernel_name, '');
    assert.equal(typeof got.pid, 'number');
    assert.equal(got.pgid, sent.pgid);
    assert.ok(got.comm_port > 0 && got.shell_port > 0);
  });

  test('accepts a stream handed over from elsewhere (as an SSH reverse forward delivers it)', async () => {
    const { listener } = await startListener();
    const id = randomUUID();
    const pending = listener.waitFor(id, new AbortController().signal);
    const { wire, sent } = await runSender('print', listener, info(id));
    const stream = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    listener.accept(stream, 'test forward');
    for (let i = 0; i < wire.length; i += 100) stream.push(wire.slice(i, i + 100)); // several chunks
    stream.push(null);
    assert.deepEqual(pick(await pending), sent);
  });

  const rejections: { name: string; log: RegExp; act: (l: V1ResponseListener) => Promise<unknown> }[] = [
    {
      name: 'a truncated wire',
      log: /rejected \(malformed/,
      act: async (l) => {
        const { wire } = await runSender('print', l, info(randomUUID()));
        await sendRaw(l.address, wire.slice(0, 4 * Math.floor(wire.length / 8)));
      },
    },
    {
      name: 'text that is not base64',
      log: /rejected \(malformed: .*not base64/,
      act: (l) => sendRaw(l.address, 'GET / HTTP/1.1\r\n\r\n'),
    },
    {
      name: 'payload version 2',
      log: /rejected \(version: payload version 2/,
      act: (l) => runSender('send', l, info(randomUUID()), 2),
    },
    {
      name: 'payload version 0',
      log: /rejected \(version: payload version 0/,
      act: (l) => runSender('send', l, info(randomUUID()), 0),
    },
    {
      name: 'a payload encrypted for another RSA key',
      log: /rejected \(key: /,
      act: (l) => {
        const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
        const publicKey = other.export({ type: 'spki', format: 'der' }).toString('base64');
        return runSender('send', { address: l.address, publicKey }, info(randomUUID()));
      },
    },
    {
      name: 'a payload for a kernel nobody waits for',
      log: /for kernel [0-9a-f-]+ dropped: no launch waits/,
      act: (l) => runSender('send', l, info(randomUUID())),
    },
    {
      name: 'more than maxBytes',
      log: /dropped: more than 4096 bytes/,
      act: (l) => sendRaw(l.address, 'A'.repeat(20_000)),
    },
    {
      name: 'a connection that never closes',
      log: /dropped: it did not send and close within 700 ms/,
      act: async (l) => {
        const { wire } = await runSender('print', l, info(randomUUID()));
        await sendRaw(l.address, wire.slice(0, 100), false); // resolves when the listener cuts it
      },
    },
  ];

  for (const r of rejections) {
    test(`rejects ${r.name}, logs why, and keeps serving`, async () => {
      const { listener, logs } = await startListener({ maxBytes: 4096, connectionTimeoutMs: 700 });
      const id = randomUUID();
      const pending = listener.waitFor(id, new AbortController().signal);
      await r.act(listener);
      await logs.line(r.log);
      await stillServes(listener, pending, id);
    });
  }

  test('uses a payload once: the same payload again, even for a new wait of that kernel, is dropped', async () => {
    const { listener, logs } = await startListener();
    const id = randomUUID();
    const first = listener.waitFor(id, new AbortController().signal);
    const { wire, sent } = await runSender('print', listener, info(id));
    await sendRaw(listener.address, wire);
    assert.deepEqual(pick(await first), sent);
    const again = listener.waitFor(id, new AbortController().signal); // e.g. the kernel restarts
    await sendRaw(listener.address, wire);
    await logs.line(/dropped: that payload was already received/);
    await stillServes(listener, again, id);
  });

  test('keeps nothing unsolicited: a payload that came before waitFor does not satisfy it', async () => {
    const { listener, logs } = await startListener();
    const id = randomUUID();
    await runSender('send', listener, info(id));
    await logs.line(/no launch waits for that kernel/);
    await stillServes(listener, listener.waitFor(id, new AbortController().signal), id);
  });

  test("abort rejects the wait with the signal's reason and unregisters the kernel", async () => {
    const { listener, logs } = await startListener();
    const id = randomUUID();
    const ac = new AbortController();
    const pending = listener.waitFor(id, ac.signal);
    const reason = new Error('launch cancelled by the user');
    ac.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    await runSender('send', listener, info(id));
    await logs.line(new RegExp(`for kernel ${id} dropped: no launch waits`));
    const aborted = AbortSignal.abort(new Error('already over'));
    await assert.rejects(listener.waitFor(id, aborted), /already over/);
    await stillServes(listener, listener.waitFor(id, new AbortController().signal), id);
  });

  test('close rejects pending waits and stops listening', async () => {
    const { listener } = await startListener();
    const pending = listener.waitFor(randomUUID(), new AbortController().signal);
    await listener.close();
    await assert.rejects(pending, /response listener was closed/);
    await assert.rejects(listener.waitFor(randomUUID(), new AbortController().signal), /is closed/);
    const [host, port] = listener.address.split(':');
    const err = await new Promise<NodeJS.ErrnoException>((resolve) =>
      connect({ host, port: Number(port) }).on('error', resolve),
    );
    assert.equal(err.code, 'ECONNREFUSED');
  });
});
