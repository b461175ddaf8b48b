// WebSocket framing of Jupyter messages, both protocols, without re-encoding JSON where it can be avoided.
//
// v1.kernel.websocket.jupyter.org: one binary frame, uint64 LE: N, N offsets, then channel, header,
//   parent_header, metadata, content, buffers... The four JSON parts are the exact ZMQ bytes.
// legacy: a UTF-8 JSON text frame {channel, header, msg_id, msg_type, parent_header, metadata, content,
//   buffers: []}, or, with buffers, a binary frame: uint32 BE count, count offsets, the JSON (without
//   buffers), then the raw buffers.
import { isUtf8 } from 'node:buffer';
import type { Channel, WireMessage } from '../../provisioners/types';
import { JsonScanError, topLevelMembers, type MemberRange } from './json-members';

export const V1_PROTOCOL = 'v1.kernel.websocket.jupyter.org';

export type WsProtocol = 'v1' | 'legacy';

/** A frame a client sent that cannot be understood; the socket is closed with 1007 and this message. */
export class FrameError extends Error {}

const CLIENT_CHANNELS = new Set<string>(['shell', 'control', 'stdin']);
const EMPTY_OBJECT = Buffer.from('{}');
const MAX_PARTS = 100_000;

function part(b: Buffer): Buffer {
  return b.length === 0 ? EMPTY_OBJECT : b;
}

// ---------------------------------------------------------------------------------------------------------
// kernel -> client

/** Encode a message for a v1 client: raw parts, no JSON work at all. */
export function encodeV1(msg: WireMessage): Buffer {
  const channel = Buffer.from(msg.channel, 'latin1');
  const parts: Buffer[] = [
    channel,
    part(msg.header),
    part(msg.parentHeader),
    part(msg.metadata),
    part(msg.content),
  ];
  for (const b of msg.buffers) parts.push(b);
  const n = parts.length + 1; // offsets: start of each part + the end
  const headerLen = 8 * (n + 1);
  let total = headerLen;
  for (const p of parts) total += p.length;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(n, 0);
  out.writeUInt32LE(0, 4);
  let off = headerLen;
  let pos = headerLen;
  for (let i = 0; i < parts.length; i++) {
    writeU64(out, 8 * (i + 1), off);
    parts[i].copy(out, pos);
    pos += parts[i].length;
    off += parts[i].length;
  }
  writeU64(out, 8 * n, off);
  return out;
}

function writeU64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value % 0x1_0000_0000, at);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}

const LEGACY_PREFIX: Record<string, Buffer> = {};
for (const ch of ['shell', 'control', 'stdin', 'iopub']) {
  LEGACY_PREFIX[ch] = Buffer.from(`{"channel":"${ch}","header":`);
}
const P_PARENT = Buffer.from(',"parent_header":');
const P_METADATA = Buffer.from(',"metadata":');
const P_CONTENT = Buffer.from(',"content":');
const P_END_TEXT = Buffer.from(',"buffers":[]}');
const P_END_BINARY = Buffer.from('}');

/** msg_id and msg_type from a raw header without parsing anything else. */
function headerIds(header: Buffer): { msgId: string; msgType: string } {
  try {
    const h = JSON.parse(header.toString('utf8')) as { msg_id?: unknown; msg_type?: unknown };
    return {
      msgId: typeof h.msg_id === 'string' ? h.msg_id : '',
      msgType: typeof h.msg_type === 'string' ? h.msg_type : '',
    };
  } catch {
    return { msgId: '', msgType: '' };
  }
}

/**
 * Encode a message for a legacy client. The JSON text is built by concatenating the raw parts (only the
 * small header is parsed, for the top-level msg_id/msg_type copies). With buffers: the legacy binary frame.
 */
export function encodeLegacy(msg: WireMessage): { data: Buffer; binary: boolean } {
  const { msgId, msgType } = headerIds(msg.header);
  const prefix =
    LEGACY_PREFIX[msg.channel] ?? Buffer.from(`{"channel":${JSON.stringify(msg.channel)},"header":`);
  const ids = Buffer.from(`,"msg_id":${JSON.stringify(msgId)},"msg_type":${JSON.stringify(msgType)}`);
  const binary = msg.buffers.length > 0;
  const jsonParts = [
    prefix,
    part(msg.header),
    ids,
    P_PARENT,
    part(msg.parentHeader),
    P_METADATA,
    part(msg.metadata),
    P_CONTENT,
    part(msg.content),
    binary ? P_END_BINARY : P_END_TEXT,
  ];
  if (!binary) return { data: Buffer.concat(jsonParts), binary: false };

  let jsonLen = 0;
  for (const p of jsonParts) jsonLen += p.length;
  const count = 1 + msg.buffers.length;
  const headerLen = 4 * (count + 1);
  let total = headerLen + jsonLen;
  for (const b of msg.buffers) total += b.length;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(count, 0);
  let pos = headerLen;
  out.writeUInt32BE(pos, 4);
  for (const p of jsonParts) {
    p.copy(out, pos);
    pos += p.length;
  }
  for (let i = 0; i < msg.buffers.length; i++) {
    out.writeUInt32BE(pos, 4 * (i + 2));
    msg.buffers[i].copy(out, pos);
    pos += msg.buffers[i].length;
  }
  return { data: out, binary: true };
}

// ---------------------------------------------------------------------------------------------------------
// client -> kernel (the proxy), and gateway -> us (the relay's upstream leg: `from: 'server'`)

/** Result of decoding a frame: a message, or a reason to drop it quietly. */
export type Decoded = { msg: WireMessage } | { drop: string };

/** Who wrote the frame: a client (may not send on iopub) or an upstream gateway (sends on every channel). */
export type FrameSource = 'client' | 'server';

function checkChannel(channel: string, from: FrameSource): Decoded | null {
  if (CLIENT_CHANNELS.has(channel)) return null;
  if (channel === 'iopub') return from === 'server' ? null : { drop: 'clients cannot send on iopub' };
  return { drop: `unknown channel "${channel.slice(0, 40)}"` };
}

function checkHeaderBytes(header: Buffer): void {
  if (header.length === 0) throw new FrameError('message has no header');
  let h: unknown;
  try {
    h = JSON.parse(header.toString('utf8'));
  } catch (err) {
    throw new FrameError(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof h !== 'object' || h === null || Array.isArray(h))
    throw new FrameError('header is not a JSON object');
  if (typeof (h as { msg_type?: unknown }).msg_type !== 'string')
    throw new FrameError('header has no msg_type');
}

/**
 * Decode a v1 binary frame. Parts are zero-copy slices of the frame; only the header is checked. Writers put
 * either N offsets ending with the frame length (the spec) or only the part starts (the last part then runs
 * to the end of the frame); both are read.
 */
export function decodeV1(frame: Buffer, from: FrameSource = 'client'): Decoded {
  if (frame.length < 8) throw new FrameError(`v1 frame too short (${frame.length} bytes)`);
  const nBig = frame.readBigUInt64LE(0);
  if (nBig < 6n || nBig > BigInt(MAX_PARTS))
    throw new FrameError(`v1 frame has a bad offset count (${nBig})`);
  const n = Number(nBig);
  const headerLen = 8 * (n + 1);
  if (frame.length < headerLen) throw new FrameError(`v1 frame too short for ${n} offsets`);
  const offsets: number[] = new Array<number>(n);
  let prev = headerLen;
  for (let i = 0; i < n; i++) {
    const o = frame.readBigUInt64LE(8 * (i + 1));
    if (o > BigInt(frame.length)) throw new FrameError(`v1 offset ${i} (${o}) is past the end of the frame`);
    const v = Number(o);
    if (v < prev) throw new FrameError(`v1 offset ${i} (${v}) is out of order`);
    offsets[i] = v;
    prev = v;
  }
  if (offsets[n - 1] !== frame.length) offsets.push(frame.length); // part starts only
  const channel = frame.toString('utf8', offsets[0], offsets[1]);
  const bad = checkChannel(channel, from);
  if (bad) return bad;
  const header = frame.subarray(offsets[1], offsets[2]);
  checkHeaderBytes(header);
  const buffers: Buffer[] = [];
  for (let i = 5; i < offsets.length - 1; i++) buffers.push(frame.subarray(offsets[i], offsets[i + 1]));
  return {
    msg: {
      channel: channel as Channel,
      header,
      parentHeader: part(frame.subarray(offsets[2], offsets[3])),
      metadata: part(frame.subarray(offsets[3], offsets[4])),
      content: part(frame.subarray(offsets[4], offsets[5])),
      buffers,
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A legacy message from the JSON object in `frame[start, end)`. Only the header (and channel) are parsed; the
 * other parts are zero-copy slices of the frame (see json-members.ts), so a big frame is held once.
 */
function fromJsonBytes(
  frame: Buffer,
  start: number,
  end: number,
  buffers: Buffer[],
  from: FrameSource,
): Decoded {
  let members: Map<string, MemberRange>;
  try {
    members = topLevelMembers(frame, start, end);
  } catch (err) {
    if (
      err instanceof JsonScanError &&
      /expected a JSON object/.test(err.message) &&
      isJsonValue(frame, start, end)
    )
      throw new FrameError('message is not a JSON object');
    throw new FrameError(`message is not valid JSON (${(err as Error).message})`);
  }
  const slice = (name: string): Buffer | undefined => {
    const r = members.get(name);
    return r ? frame.subarray(r.start, r.end) : undefined;
  };
  const header = slice('header');
  if (!header || header[0] !== 0x7b) throw new FrameError('message has no header object');
  const h = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
  if (typeof h.msg_type !== 'string') throw new FrameError('header has no msg_type');
  const rawChannel = slice('channel');
  const channel: unknown = rawChannel ? JSON.parse(rawChannel.toString('utf8')) : null;
  const ch = channel === null ? 'shell' : channel;
  if (typeof ch !== 'string') throw new FrameError('channel is not a string');
  const bad = checkChannel(ch, from);
  if (bad) return bad;
  const objectPart = (name: string): Buffer => {
    const b = slice(name);
    return b && b[0] === 0x7b ? b : EMPTY_OBJECT;
  };
  return {
    msg: {
      channel: ch as Channel,
      header,
      parentHeader: objectPart('parent_header'),
      metadata: objectPart('metadata'),
      content: objectPart('content'),
      buffers,
    },
  };
}

/** Whether the bytes are some JSON value (for telling "not an object" from "not JSON"); small inputs only. */
function isJsonValue(frame: Buffer, start: number, end: number): boolean {
  if (end - start > 1024 * 1024) return false;
  try {
    return !isObject(JSON.parse(frame.toString('utf8', start, end)));
  } catch {
    return false;
  }
}

/** Decode a legacy text frame (a missing channel means shell). ws has checked that it is UTF-8. */
export function decodeLegacyText(frame: Buffer, from: FrameSource = 'client'): Decoded {
  return fromJsonBytes(frame, 0, frame.length, [], from);
}

/** Decode a legacy binary frame (uint32 BE count + offsets, JSON, buffers). Buffers are zero-copy slices. */
export function decodeLegacyBinary(frame: Buffer, from: FrameSource = 'client'): Decoded {
  if (frame.length < 8) throw new FrameError(`binary frame too short (${frame.length} bytes)`);
  const count = frame.readUInt32BE(0);
  if (count < 1 || count > MAX_PARTS) throw new FrameError(`binary frame has a bad part count (${count})`);
  const headerLen = 4 * (count + 1);
  if (frame.length < headerLen) throw new FrameError(`binary frame too short for ${count} offsets`);
  const offsets: number[] = new Array<number>(count);
  let prev = headerLen;
  for (let i = 0; i < count; i++) {
    const o = frame.readUInt32BE(4 * (i + 1));
    if (o < prev || o > frame.length) throw new FrameError(`binary frame offset ${i} (${o}) is out of range`);
    offsets[i] = o;
    prev = o;
  }
  const end = (i: number) => (i + 1 < count ? offsets[i + 1] : frame.length);
  const buffers: Buffer[] = [];
  for (let i = 1; i < count; i++) buffers.push(frame.subarray(offsets[i], end(i)));
  if (!isUtf8(frame.subarray(offsets[0], end(0)))) throw new FrameError('message JSON is not valid UTF-8');
  return fromJsonBytes(frame, offsets[0], end(0), buffers, from);
}

/** Decode a client's frame in the socket's protocol (v1 frames must be binary). */
export function decodeClientFrame(protocol: WsProtocol, data: Buffer, isBinary: boolean): Decoded {
  if (protocol === 'v1') {
    if (!isBinary) throw new FrameError('v1.kernel.websocket.jupyter.org expects binary frames');
    return decodeV1(data);
  }
  return isBinary ? decodeLegacyBinary(data) : decodeLegacyText(data);
}

/** A status message the gateway makes up itself (`restarting`, `dead`), as raw parts on iopub. */
export function statusMessage(state: 'restarting' | 'dead' | 'starting', session: string): WireMessage {
  const header = {
    msg_id: `gateway-status-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`,
    msg_type: 'status',
    username: 'gateway-desktop',
    session,
    date: new Date().toISOString().replace('Z', '000Z'),
    version: '5.3',
  };
  return {
    channel: 'iopub',
    header: Buffer.from(JSON.stringify(header)),
    parentHeader: EMPTY_OBJECT,
    metadata: EMPTY_OBJECT,
    content: Buffer.from(JSON.stringify({ execution_state: state })),
    buffers: [],
  };
}
