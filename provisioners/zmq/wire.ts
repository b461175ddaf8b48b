// The Jupyter wire format (jupyter_client `Session`) on raw ZMQ frames:
//   [identities...] <IDS|MSG> <hmac hex> <header> <parent_header> <metadata> <content> [buffers...]
// Messages stay as raw JSON byte parts: nothing here parses or re-encodes a frame on the pass-through path.
import { createHmac, randomUUID, timingSafeEqual, getHashes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Channel, WireMessage } from '../types';

export const DELIMITER = Buffer.from('<IDS|MSG>', 'ascii');
export const PROTOCOL_VERSION = '5.3';

/** The fields of a message header this library reads. Kernels may add more (e.g. subshell_id). */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [key: string]: unknown;
}

export type RejectReason = 'no-delimiter' | 'too-few-frames' | 'bad-signature' | 'replayed-signature';

export interface WireCodecOptions {
  key: string;
  signatureScheme?: string;
  /** Called for every dropped incoming message (after counting). Default: rate-limited console.warn. */
  onReject?: (reason: RejectReason, detail: string) => void;
  /** How many recent incoming signatures to remember to reject replays (0 = off). Default 4096. */
  replayHistory?: number;
}

export interface DecodedMessage {
  identities: Buffer[];
  msg: WireMessage;
}

function hashFor(scheme: string): string {
  const m = /^hmac-(.+)$/.exec(scheme);
  if (!m) throw new Error(`Unsupported signature_scheme "${scheme}" (expected e.g. "hmac-sha256")`);
  const algo = m[1];
  if (!getHashes().includes(algo)) throw new Error(`Unsupported signature_scheme "${scheme}"`);
  return algo;
}

let lastDefaultWarn = 0;
let suppressedWarns = 0;
function defaultOnReject(reason: RejectReason, detail: string): void {
  const now = Date.now();
  if (now - lastDefaultWarn < 5000) {
    suppressedWarns++;
    return;
  }
  const extra = suppressedWarns ? ` (${suppressedWarns} similar messages suppressed)` : '';
  suppressedWarns = 0;
  lastDefaultWarn = now;
  console.warn(`[zmq] dropped an incoming kernel message: ${reason}: ${detail}${extra}`);
}

/**
 * Signs outgoing and verifies incoming messages for one kernel connection (one HMAC key).
 * An empty key turns signing off (empty signature frame; incoming signatures are not checked).
 */
export class WireCodec {
  readonly signing: boolean;
  /** Counters of dropped incoming messages. */
  readonly stats = { rejected: 0, badSignature: 0, malformed: 0, replayed: 0 };
  private readonly key: Buffer;
  private readonly algo: string;
  private readonly onReject: (reason: RejectReason, detail: string) => void;
  private readonly historyMax: number;
  private readonly history = new Set<string>();

  constructor(opts: WireCodecOptions) {
    this.key = Buffer.from(opts.key, 'utf8');
    this.signing = this.key.length > 0;
    this.algo = hashFor(opts.signatureScheme || 'hmac-sha256');
    this.onReject = opts.onReject ?? defaultOnReject;
    this.historyMax = opts.replayHistory ?? 4096;
  }

  /** Hex HMAC over header, parent, metadata, content (not the buffers). Empty string when not signing. */
  sign(header: Buffer, parent: Buffer, metadata: Buffer, content: Buffer): string {
    if (!this.signing) return '';
    return createHmac(this.algo, this.key)
      .update(header)
      .update(parent)
      .update(metadata)
      .update(content)
      .digest('hex');
  }

  /** Constant-time check of a received signature frame. */
  verify(signature: Buffer, header: Buffer, parent: Buffer, metadata: Buffer, content: Buffer): boolean {
    if (!this.signing) return true;
    const expected = Buffer.from(this.sign(header, parent, metadata, content), 'ascii');
    if (signature.length !== expected.length) {
      // Still spend the comparison so timing does not depend on where the mismatch is.
      timingSafeEqual(expected, expected);
      return false;
    }
    return timingSafeEqual(signature, expected);
  }

  /** Frames ready for `socket.send`: identities, delimiter, signature, the four JSON parts, buffers. */
  serialize(msg: WireMessage, identities: Buffer[] = []): Buffer[] {
    const sig = this.sign(msg.header, msg.parentHeader, msg.metadata, msg.content);
    return [
      ...identities,
      DELIMITER,
      Buffer.from(sig, 'ascii'),
      msg.header,
      msg.parentHeader,
      msg.metadata,
      msg.content,
      ...msg.buffers,
    ];
  }

  /**
   * Split and verify received frames. Returns null (after counting and reporting) for anything that must be
   * dropped: no delimiter, too few frames, a bad or replayed signature.
   */
  deserialize(channel: Channel, frames: Buffer[]): DecodedMessage | null {
    let idx = -1;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      if (f.length === DELIMITER.length && f.equals(DELIMITER)) {
        idx = i;
        break;
      }
    }
    if (idx < 0) return this.reject('no-delimiter', `${frames.length} frames on ${channel}, no <IDS|MSG>`);
    if (frames.length < idx + 6) {
      return this.reject('too-few-frames', `${frames.length - idx - 1} frames after <IDS|MSG> on ${channel}`);
    }
    const [signature, header, parentHeader, metadata, content] = frames.slice(idx + 1, idx + 6);
    if (this.signing) {
      if (!this.verify(signature, header, parentHeader, metadata, content)) {
        return this.reject('bad-signature', `invalid HMAC on ${channel}`);
      }
      if (this.historyMax > 0) {
        const sig = signature.toString('ascii');
        if (this.history.has(sig))
          return this.reject('replayed-signature', `duplicate signature on ${channel}`);
        this.history.add(sig);
        if (this.history.size > this.historyMax) {
          // Drop the oldest tenth (Sets iterate in insertion order).
          let n = Math.ceil(this.historyMax / 10);
          for (const old of this.history) {
            this.history.delete(old);
            if (--n <= 0) break;
          }
        }
      }
    }
    return {
      identities: frames.slice(0, idx),
      msg: { channel, header, parentHeader, metadata, content, buffers: frames.slice(idx + 6) },
    };
  }

  private reject(reason: RejectReason, detail: string): null {
    this.stats.rejected++;
    if (reason === 'bad-signature') this.stats.badSignature++;
    else if (reason === 'replayed-signature') this.stats.replayed++;
    else this.stats.malformed++;
    try {
      this.onReject(reason, detail);
    } catch {
      // a reporting callback must not break the receive loop
    }
    return null;
  }
}

/** ISO 8601 UTC with microseconds and a Z, as Jupyter writes dates ("2024-05-01T12:34:56.789000Z"). */
export function isoDateMicro(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

let cachedUser: string | undefined;
function username(): string {
  if (cachedUser === undefined) {
    try {
      cachedUser = userInfo().username || 'username';
    } catch {
      cachedUser = process.env.USER || process.env.USERNAME || 'username';
    }
  }
  return cachedUser;
}

export function makeHeader(msgType: string, session: string): MessageHeader {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    session,
    username: username(),
    date: isoDateMicro(),
    version: PROTOCOL_VERSION,
  };
}

/** Build a message with a fresh header. `parentHeader` may be raw bytes (kept as is) or an object. */
export function makeMessage(
  channel: Channel,
  msgType: string,
  content: unknown,
  session: string,
  parentHeader?: Buffer | MessageHeader | Record<string, unknown>,
  metadata: Record<string, unknown> = {},
): WireMessage {
  return {
    channel,
    header: Buffer.from(JSON.stringify(makeHeader(msgType, session))),
    parentHeader: Buffer.isBuffer(parentHeader)
      ? parentHeader
      : Buffer.from(JSON.stringify(parentHeader ?? {})),
    metadata: Buffer.from(JSON.stringify(metadata)),
    content: Buffer.from(JSON.stringify(content ?? {})),
    buffers: [],
  };
}

/** Parse a header (or parent header) frame. Throws on invalid JSON; an empty parent parses as {}. */
export function parseHeader(buf: Buffer): MessageHeader {
  const v: unknown = buf.length ? JSON.parse(buf.toString('utf8')) : {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('message header is not a JSON object');
  return v as MessageHeader;
}

/** Best-effort header parse for routing decisions: null instead of throwing. */
export function tryParseHeader(buf: Buffer): MessageHeader | null {
  try {
    return parseHeader(buf);
  } catch {
    return null;
  }
}

/** Parse a content frame as JSON (only where the library must look inside, e.g. status messages). */
export function parseContent<T = Record<string, unknown>>(buf: Buffer): T {
  return JSON.parse(buf.toString('utf8')) as T;
}
