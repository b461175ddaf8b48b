// WireMessage <-> the two kernel WebSocket protocols (gateway API §4.2, §4.3), for the relay's upstream leg.
// v1 is a pure re-framing of the raw JSON parts (no parse). Legacy needs a JSON object per message; on the
// way up we build it by splicing the raw parts (no parse either); on the way down we must parse once.
// Buffers always travel as bytes: legacy messages with buffers use the legacy binary frame, never text.
import type { Channel, WireMessage } from '../../../provisioners/types';

const CHANNELS: ReadonlySet<string> = new Set(['shell', 'control', 'stdin', 'iopub']);
const EMPTY_OBJECT = Buffer.from('{}');

function orEmpty(b: Buffer): Buffer {
  return b.length ? b : EMPTY_OBJECT;
}

export class FrameError extends Error {
  override name = 'FrameError';
}

// ---------------------------------------------------------------------------------------------------
// v1.kernel.websocket.jupyter.org: [N][off_0..off_{N-1}][channel][header][parent][metadata][content][bufs...]
// all integers uint64 little-endian; off_0 = 8 * (N + 1); the last offset is the frame length.

export function encodeV1(msg: WireMessage): Buffer {
  const parts = [
    Buffer.from(msg.channel, 'utf8'),
    orEmpty(msg.header),
    orEmpty(msg.parentHeader),
    orEmpty(msg.metadata),
    orEmpty(msg.content),
    ...msg.buffers,
  ];
  const n = parts.length + 1; // number of offsets (the last one is the end)
  const headLen = 8 * (n + 1);
  const head = Buffer.alloc(headLen);
  head.writeBigUInt64LE(BigInt(n), 0);
  let off = headLen;
  for (let i = 0; i < parts.length; i++) {
    head.writeBigUInt64LE(BigInt(off), 8 * (i + 1));
    off += parts[i].length;
  }
  head.writeBigUInt64LE(BigInt(off), 8 * n);
  return Buffer.concat([head, ...parts], off);
}

export function decodeV1(frame: Buffer): WireMessage {
  if (frame.length < 8) throw new FrameError('v1 frame too short');
  const n = Number(frame.readBigUInt64LE(0));
  if (n < 6 || 8 * (n + 1) > frame.length) throw new FrameError(`v1 frame has a bad offset count (${n})`);
  const offs: number[] = [];
  for (let i = 0; i < n; i++) offs.push(Number(frame.readBigUInt64LE(8 * (i + 1))));
  // Servers write either N offsets ending at the frame length, or N offsets of part starts (the last part
  // then runs to the end). Accept both.
  if (offs[offs.length - 1] !== frame.length) offs.push(frame.length);
  const parts: Buffer[] = [];
  for (let i = 0; i + 1 < offs.length; i++) {
    const a = offs[i];
    const b = offs[i + 1];
    if (a > b || b > frame.length) throw new FrameError('v1 frame has offsets out of range');
    parts.push(frame.subarray(a, b));
  }
  if (parts.length < 5) throw new FrameError('v1 frame has too few parts');
  const channel = parts[0].toString('utf8');
  if (!CHANNELS.has(channel)) throw new FrameError(`v1 frame has an unknown channel "${channel}"`);
  return {
    channel: channel as Channel,
    header: parts[1],
    parentHeader: parts[2],
    metadata: parts[3],
    content: parts[4],
    buffers: parts.slice(5),
  };
}

// ---------------------------------------------------------------------------------------------------
// Legacy: a JSON text frame; with buffers, a binary frame:
// [uint32 n][n uint32 offsets (BE)][JSON without buffers][buf_0]...[buf_{n-2}]

function legacyJson(msg: WireMessage): Buffer {
  return Buffer.concat([
    Buffer.from(`{"channel":${JSON.stringify(msg.channel)},"header":`),
    orEmpty(msg.header),
    Buffer.from(',"parent_header":'),
    orEmpty(msg.parentHeader),
    Buffer.from(',"metadata":'),
    orEmpty(msg.metadata),
    Buffer.from(',"content":'),
    orEmpty(msg.content),
    Buffer.from(msg.buffers.length ? '}' : ',"buffers":[]}'),
  ]);
}

/** Encode for a legacy upstream: `binary` says which WebSocket frame type to send. */
export function encodeLegacy(msg: WireMessage): { data: Buffer; binary: boolean } {
  const json = legacyJson(msg);
  if (!msg.buffers.length) return { data: json, binary: false };
  const parts = [json, ...msg.buffers];
  const n = parts.length;
  const head = Buffer.alloc(4 * (n + 1));
  head.writeUInt32BE(n, 0);
  let off = head.length;
  for (let i = 0; i < n; i++) {
    head.writeUInt32BE(off, 4 * (i + 1));
    off += parts[i].length;
  }
  return { data: Buffer.concat([head, ...parts], off), binary: true };
}

interface LegacyObject {
  channel?: unknown;
  header?: unknown;
  parent_header?: unknown;
  metadata?: unknown;
  content?: unknown;
  buffers?: unknown;
}

function fromLegacyObject(obj: LegacyObject, buffers: Buffer[]): WireMessage {
  const channel = typeof obj.channel === 'string' && CHANNELS.has(obj.channel) ? obj.channel : null;
  if (!channel) throw new FrameError(`legacy message has no valid channel (${String(obj.channel)})`);
  const j = (v: unknown): Buffer => Buffer.from(JSON.stringify(v ?? {}), 'utf8');
  return {
    channel: channel as Channel,
    header: j(obj.header),
    parentHeader: j(obj.parent_header),
    metadata: j(obj.metadata),
    content: j(obj.content),
    buffers,
  };
}

/** Decode a legacy frame (text: JSON; binary: the legacy binary framing). */
export function decodeLegacy(data: Buffer, isBinary: boolean): WireMessage {
  if (!isBinary) {
    const obj = JSON.parse(data.toString('utf8')) as LegacyObject;
    // Text frames may still carry base64-free buffers only as empty lists; anything else is dropped.
    return fromLegacyObject(obj, []);
  }
  if (data.length < 4) throw new FrameError('legacy binary frame too short');
  const n = data.readUInt32BE(0);
  if (n < 1 || 4 * (n + 1) > data.length)
    throw new FrameError(`legacy binary frame has a bad part count (${n})`);
  const offs: number[] = [];
  for (let i = 0; i < n; i++) offs.push(data.readUInt32BE(4 * (i + 1)));
  offs.push(data.length);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (offs[i] > offs[i + 1]) throw new FrameError('legacy binary frame has offsets out of order');
    parts.push(data.subarray(offs[i], offs[i + 1]));
  }
  const obj = JSON.parse(parts[0].toString('utf8')) as LegacyObject;
  return fromLegacyObject(obj, parts.slice(1));
}

/** Read header.msg_type and (for status) content.execution_state without keeping the parse. */
export function peekStatus(msg: WireMessage): { msgType: string; executionState?: string } {
  let msgType = '';
  try {
    const h = JSON.parse(msg.header.toString('utf8')) as { msg_type?: unknown };
    if (typeof h.msg_type === 'string') msgType = h.msg_type;
  } catch {
    return { msgType };
  }
  if (msgType !== 'status') return { msgType };
  try {
    const c = JSON.parse(msg.content.toString('utf8')) as { execution_state?: unknown };
    return { msgType, executionState: typeof c.execution_state === 'string' ? c.execution_state : undefined };
  } catch {
    return { msgType };
  }
}
