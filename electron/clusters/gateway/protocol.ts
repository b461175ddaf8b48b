// WireMessage <-> the two kernel WebSocket protocols for the relay's upstream leg. The framing is the proxy's
// own (electron/gateway/frames.ts): v1 is a pure re-framing of the raw JSON parts; legacy frames toward the
// gateway are built by splicing raw parts; frames from it are read with `from: 'server'` (every channel,
// either v1 offset style). Buffers always travel as bytes, never as text.
import type { WireMessage } from '../../../provisioners/types';
import {
  FrameError,
  decodeLegacyBinary,
  decodeLegacyText,
  decodeV1 as decodeV1Frame,
  type Decoded,
} from '../../gateway/frames';

export { FrameError, encodeLegacy, encodeV1 } from '../../gateway/frames';

function messageOf(d: Decoded): WireMessage {
  if ('drop' in d) throw new FrameError(d.drop);
  return d.msg;
}

/** Decode a v1 frame from the gateway. */
export function decodeV1(frame: Buffer): WireMessage {
  return messageOf(decodeV1Frame(frame, 'server'));
}

/** Decode a legacy frame from the gateway (text: JSON; binary: the legacy binary framing). */
export function decodeLegacy(data: Buffer, isBinary: boolean): WireMessage {
  return messageOf(isBinary ? decodeLegacyBinary(data, 'server') : decodeLegacyText(data, 'server'));
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
