// Wire format and signing, against raw zeromq sockets that play the kernel's side.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Publisher, Router } from 'zeromq';
import { allocatePorts, allocateKernelPorts } from '../ports';
import type { ConnectionInfo, WireMessage } from '../types';
import { KernelConnection } from '../zmq/kernel-connection';
import { DELIMITER, WireCodec, isoDateMicro, makeMessage, parseHeader } from '../zmq/wire';
import { waitFor } from './helpers';

const KEY = 'a'.repeat(64);

function signedFrames(msg: WireMessage, key: string, ids: Buffer[] = []): Buffer[] {
  const sig = key
    ? createHmac('sha256', key)
        .update(msg.header)
        .update(msg.parentHeader)
        .update(msg.metadata)
        .update(msg.content)
        .digest('hex')
    : '';
  return [
    ...ids,
    DELIMITER,
    Buffer.from(sig),
    msg.header,
    msg.parentHeader,
    msg.metadata,
    msg.content,
    ...msg.buffers,
  ];
}

describe('wire format', { timeout: 30_000 }, () => {
  test('serialize signs the four JSON parts with HMAC-SHA256 and keeps buffers raw', () => {
    const codec = new WireCodec({ key: KEY });
    const msg = makeMessage('shell', 'execute_request', { code: '1+1' }, 'sess');
    msg.buffers = [Buffer.from([0, 1, 2])];
    const frames = codec.serialize(msg, [Buffer.from('id1')]);
    assert.deepEqual(frames, signedFrames(msg, KEY, [Buffer.from('id1')]));
  });

  test('deserialize verifies, keeps bytes as they came, and rejects bad, truncated and replayed signatures', () => {
    const rejects: string[] = [];
    const codec = new WireCodec({ key: KEY, onReject: (r) => rejects.push(r) });
    const msg: WireMessage = {
      channel: 'iopub',
      header: Buffer.from('{"msg_id":"1", "msg_type":"stream"}'),
      parentHeader: Buffer.from('{}'),
      metadata: Buffer.from('{ }'),
      content: Buffer.from('{"text":  "odd  spacing"}'),
      buffers: [Buffer.from('raw')],
    };
    const ok = codec.deserialize('iopub', signedFrames(msg, KEY, [Buffer.from('topic')]));
    assert.ok(ok);
    assert.deepEqual(ok.identities, [Buffer.from('topic')]);
    assert.ok(ok.msg.content.equals(msg.content), 'content bytes unchanged');
    assert.ok(ok.msg.header.equals(msg.header));
    assert.deepEqual(ok.msg.buffers, [Buffer.from('raw')]);

    assert.equal(codec.deserialize('iopub', signedFrames(msg, 'wrong-key')), null);
    const truncated = signedFrames({ ...msg, header: Buffer.from('{"msg_id":"2"}') }, KEY);
    truncated[1] = truncated[1].subarray(0, 10);
    assert.equal(codec.deserialize('iopub', truncated), null);
    assert.equal(codec.deserialize('iopub', signedFrames(msg, KEY)), null, 'replay of an accepted message');
    assert.equal(codec.deserialize('iopub', [Buffer.from('x'), Buffer.from('y')]), null);
    assert.deepEqual(rejects, ['bad-signature', 'bad-signature', 'replayed-signature', 'no-delimiter']);
    assert.equal(codec.stats.badSignature, 2);
    assert.equal(codec.stats.rejected, 4);
  });

  test('an empty key means no signing', () => {
    const codec = new WireCodec({ key: '' });
    const msg = makeMessage('shell', 'kernel_info_request', {}, 's');
    const frames = codec.serialize(msg);
    assert.equal(frames[1].length, 0);
    assert.ok(codec.deserialize('shell', frames));
  });

  test('makeMessage builds a protocol 5.3 header with a microsecond ISO date', () => {
    const m = makeMessage('shell', 'kernel_info_request', {}, 'sess-x', { msg_id: 'p1' });
    const h = parseHeader(m.header);
    assert.equal(h.msg_type, 'kernel_info_request');
    assert.equal(h.session, 'sess-x');
    assert.equal(h.version, '5.3');
    assert.match(h.msg_id, /^[0-9a-f-]{36}$/);
    assert.match(h.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(parseHeader(m.parentHeader).msg_id, 'p1');
    assert.match(isoDateMicro(new Date(0)), /^1970-01-01T00:00:00\.000000Z$/);
  });
});

describe('KernelConnection against fake kernel sockets', { timeout: 30_000 }, () => {
  test('drops iopub and shell messages signed with a wrong key, delivers good ones, routes by session id', async () => {
    const ports = await allocateKernelPorts();
    const info: ConnectionInfo = {
      transport: 'tcp',
      ip: '127.0.0.1',
      ...ports,
      key: KEY,
      signature_scheme: 'hmac-sha256',
    };
    const pub = new Publisher({ linger: 0 });
    const shell = new Router({ linger: 0 });
    await pub.bind(`tcp://127.0.0.1:${ports.iopub_port}`);
    await shell.bind(`tcp://127.0.0.1:${ports.shell_port}`);
    const rejected: string[] = [];
    const conn = new KernelConnection(info, { onReject: (r) => rejected.push(r), log: () => undefined });
    try {
      const iopubSeen: string[] = [];
      conn.onIopub((m) => iopubSeen.push(parseHeader(m.header).msg_type));
      // Slow joiner: publish probes until the subscription is live.
      for (let i = 0; !iopubSeen.includes('probe'); i++) {
        await pub.send(
          signedFrames(makeMessage('iopub', 'probe', {}, 'k'), KEY, [Buffer.from('kernel.x.probe')]),
        );
        await new Promise((r) => setTimeout(r, 50));
        assert.ok(i < 200, 'subscription never became live');
      }
      await pub.send(signedFrames(makeMessage('iopub', 'forged', {}, 'k'), 'not-the-key'));
      await pub.send(signedFrames(makeMessage('iopub', 'genuine', {}, 'k'), KEY));
      await waitFor(() => iopubSeen.includes('genuine'), 5000, 'the genuine iopub message');
      assert.ok(!iopubSeen.includes('forged'));
      assert.deepEqual(rejected, ['bad-signature']);
      assert.equal(conn.codec.stats.badSignature, 1);

      const replies: string[] = [];
      const client = conn.openChannels('session-42', (m) => replies.push(parseHeader(m.header).msg_type));
      client.send(makeMessage('shell', 'execute_request', { code: '1' }, 'session-42'));
      const [identity, ...rest] = await shell.receive();
      assert.equal(identity.toString(), 'session-42', 'routing id is the session id');
      const codec = new WireCodec({ key: KEY });
      const decoded = codec.deserialize('shell', [identity, ...rest]);
      assert.ok(decoded, 'the kernel side accepts our signature');
      assert.equal(parseHeader(decoded.msg.header).msg_type, 'execute_request');

      await shell.send(signedFrames(makeMessage('shell', 'forged_reply', {}, 'k'), 'nope', [identity]));
      await shell.send(signedFrames(makeMessage('shell', 'execute_reply', {}, 'k'), KEY, [identity]));
      await waitFor(() => replies.includes('execute_reply'), 5000, 'the genuine reply');
      assert.deepEqual(replies, ['execute_reply']);
      assert.equal(conn.codec.stats.badSignature, 2);
    } finally {
      conn.close();
      pub.close();
      shell.close();
    }
  });
});

describe('port allocation', { timeout: 30_000 }, () => {
  test('concurrent allocations never hand out the same port', async () => {
    const batches = await Promise.all(Array.from({ length: 20 }, () => allocatePorts(5)));
    const all = batches.flat();
    assert.equal(new Set(all).size, all.length);
    const again = await allocatePorts(50);
    for (const p of again) assert.ok(!all.includes(p), `port ${p} handed out twice`);
  });
});
