// WebSocket framing against @jupyterlab/services' own (de)serializers, both protocols and both directions,
// with binary buffers byte for byte; malformed frames give FrameErrors that say what is wrong.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { deserialize, serialize } from '@jupyterlab/services/lib/kernel/serialize';
import type { KernelMessage } from '@jupyterlab/services';
import { validateMessage } from '@jupyterlab/services/lib/kernel/validate';
import type { WireMessage } from '../../../provisioners/types';
import {
  FrameError,
  V1_PROTOCOL,
  decodeLegacyBinary,
  decodeLegacyText,
  decodeV1,
  encodeLegacy,
  encodeV1,
  statusMessage,
} from '../frames';

const header = {
  msg_id: 'm1',
  msg_type: 'comm_msg',
  username: 'u',
  session: 's',
  date: '2024-01-01T00:00:00.000000Z',
  version: '5.3',
};
// Raw kernel bytes with odd-but-valid JSON spacing: must pass through untouched.
const wire = (buffers: Buffer[]): WireMessage => ({
  channel: 'iopub',
  header: Buffer.from(JSON.stringify(header)),
  parentHeader: Buffer.from('{ "msg_id" : "p0" }'),
  metadata: Buffer.from('{}'),
  content: Buffer.from('{"comm_id": "c", "data": {"x": "\u00e9\u4e2d"}}'),
  buffers,
});

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return new Uint8Array(b).buffer;
}

function asBuffer(v: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v);
}

describe('frames', () => {
  const bufs = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(5000), Buffer.alloc(0)];

  test('v1 kernel→client: Lab decodes it, parts are the raw bytes', () => {
    const frame = encodeV1(wire(bufs));
    const msg = deserialize(toArrayBuffer(frame), V1_PROTOCOL) as KernelMessage.IMessage;
    assert.equal(msg.channel, 'iopub');
    assert.deepEqual(msg.header, header);
    assert.deepEqual(msg.parent_header, { msg_id: 'p0' });
    assert.equal((msg.content as { data: { x: string } }).data.x, '\u00e9\u4e2d');
    assert.equal(msg.buffers?.length, 3);
    msg.buffers?.forEach((b, i) => assert.ok(asBuffer(b as ArrayBufferView).equals(bufs[i]), `buffer ${i}`));
    // raw pass-through: the parent header keeps its original spacing
    assert.ok(frame.includes(Buffer.from('{ "msg_id" : "p0" }')));
  });

  test('legacy kernel→client text and binary: Lab decodes both', () => {
    const text = encodeLegacy(wire([]));
    assert.equal(text.binary, false);
    const m1 = deserialize(text.data.toString('utf8') as unknown as ArrayBuffer) as KernelMessage.IMessage & {
      msg_id: string;
      msg_type: string;
    };
    assert.equal(m1.msg_id, 'm1');
    assert.equal(m1.msg_type, 'comm_msg');
    assert.equal(m1.channel, 'iopub');
    assert.deepEqual(m1.buffers, []);

    const bin = encodeLegacy(wire(bufs));
    assert.equal(bin.binary, true);
    const m2 = deserialize(toArrayBuffer(bin.data)) as KernelMessage.IMessage;
    assert.deepEqual(m2.header, header);
    assert.equal(m2.buffers?.length, 3);
    m2.buffers?.forEach((b, i) => assert.ok(asBuffer(b as ArrayBufferView).equals(bufs[i]), `buffer ${i}`));
  });

  const labMsg = (buffers: ArrayBuffer[]): KernelMessage.IMessage =>
    ({
      channel: 'shell',
      header,
      parent_header: {},
      metadata: {},
      content: { comm_id: 'c', data: {} },
      buffers,
    }) as unknown as KernelMessage.IMessage;

  test('client→kernel: what Lab serializes decodes to the same message and bytes (both protocols)', () => {
    const v1 = decodeV1(Buffer.from(serialize(labMsg(bufs.map(toArrayBuffer)), V1_PROTOCOL) as ArrayBuffer));
    assert.ok('msg' in v1);
    assert.equal(v1.msg.channel, 'shell');
    assert.deepEqual(JSON.parse(v1.msg.header.toString()), header);
    v1.msg.buffers.forEach((b, i) => assert.ok(b.equals(bufs[i])));

    const legacyBin = decodeLegacyBinary(
      Buffer.from(serialize(labMsg(bufs.map(toArrayBuffer))) as ArrayBuffer),
    );
    assert.ok('msg' in legacyBin);
    assert.equal(legacyBin.msg.buffers.length, 3);
    legacyBin.msg.buffers.forEach((b, i) => assert.ok(b.equals(bufs[i])));

    const legacyText = decodeLegacyText(Buffer.from(serialize(labMsg([])) as string));
    assert.ok('msg' in legacyText);
    assert.deepEqual(JSON.parse(legacyText.msg.content.toString()), { comm_id: 'c', data: {} });
  });

  test('client→kernel: missing channel means shell; iopub and unknown channels are dropped', () => {
    const noChannel = decodeLegacyText(Buffer.from(JSON.stringify({ header, content: {} })));
    assert.ok('msg' in noChannel && noChannel.msg.channel === 'shell');
    assert.ok('drop' in decodeLegacyText(Buffer.from(JSON.stringify({ channel: 'iopub', header }))));
    assert.ok('drop' in decodeLegacyText(Buffer.from(JSON.stringify({ channel: 'hb', header }))));
  });

  test('gateway→relay (from: server): iopub is accepted in both protocols', () => {
    const v1 = decodeV1(encodeV1(wire(bufs)), 'server');
    assert.ok('msg' in v1 && v1.msg.channel === 'iopub');
    v1.msg.buffers.forEach((b, i) => assert.ok(b.equals(bufs[i]), `buffer ${i}`));
    const bin = encodeLegacy(wire(bufs));
    const legacy = decodeLegacyBinary(bin.data, 'server');
    assert.ok('msg' in legacy && legacy.msg.channel === 'iopub' && legacy.msg.buffers.length === 3);
    const text = decodeLegacyText(encodeLegacy(wire([])).data, 'server');
    assert.ok('msg' in text && text.msg.channel === 'iopub');
    assert.ok('drop' in decodeV1(encodeV1(wire([])), 'client'), 'clients still cannot send on iopub');
  });

  test('v1 frames whose offsets list only part starts: the last part runs to the end', () => {
    // Some writers give N offsets of part starts and no end offset; the last buffer must not be lost.
    // (A trailing empty part would be indistinguishable from the end offset, so the last one has bytes.)
    const two = [bufs[0], bufs[1]];
    const spec = encodeV1({ ...wire(two), channel: 'shell' });
    const n = Number(spec.readBigUInt64LE(0)); // offsets incl. the end
    const starts = n - 1;
    const headLen = 8 * (starts + 1);
    const shift = 8; // one offset fewer
    const head = Buffer.alloc(headLen);
    head.writeBigUInt64LE(BigInt(starts), 0);
    for (let i = 0; i < starts; i++) {
      head.writeBigUInt64LE(spec.readBigUInt64LE(8 * (i + 1)) - BigInt(shift), 8 * (i + 1));
    }
    const startsOnly = Buffer.concat([head, spec.subarray(8 * (n + 1))]);
    const d = decodeV1(startsOnly);
    assert.ok('msg' in d);
    assert.equal(d.msg.buffers.length, 2);
    d.msg.buffers.forEach((b, i) => assert.ok(b.equals(two[i]), `buffer ${i}`));
  });

  test('malformed frames throw FrameError with a reason', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => decodeLegacyText(Buffer.from('{"header":')), /not valid JSON/],
      [() => decodeLegacyText(Buffer.from('[1,2]')), /not a JSON object/],
      [() => decodeLegacyText(Buffer.from('{"channel":"shell"}')), /no header/],
      [() => decodeLegacyText(Buffer.from('{"header":{}}')), /msg_type/],
      [() => decodeLegacyBinary(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])), /part count/],
      [() => decodeLegacyBinary(Buffer.from([0, 0, 0, 1, 0, 0, 0xff, 0xff])), /offset/],
      [() => decodeV1(Buffer.alloc(4)), /too short/],
      [() => decodeV1(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0])), /offset count/],
    ];
    for (const [fn, re] of cases) {
      assert.throws(fn, (e: unknown) => e instanceof FrameError && re.test(e.message), String(re));
    }
  });

  test('gateway status messages validate as Lab status messages', () => {
    const m = deserialize(
      encodeLegacy(statusMessage('restarting', 'sess')).data.toString() as unknown as ArrayBuffer,
    ) as KernelMessage.IStatusMsg;
    assert.equal(m.header.msg_type, 'status');
    assert.equal(m.content.execution_state, 'restarting');
    assert.equal(typeof m.header.username, 'string');
    assert.equal(typeof m.header.version, 'string');
    validateMessage(m);
    validateMessage(
      deserialize(
        encodeLegacy(statusMessage('dead', 'sess')).data.toString() as unknown as ArrayBuffer,
      ) as KernelMessage.IMessage,
    );
  });
});
