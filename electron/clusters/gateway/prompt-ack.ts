// The relay's answer to the ~40 ms stall of every Jupyter Server, Kernel Gateway and Enterprise Gateway:
// their WebSocket sockets keep Nagle's algorithm on, so after one small frame (status: busy) the next ones
// wait until that frame is acknowledged; an ordinary client that has nothing to send delays its ACK (Linux:
// 40 ms), and a reply of a few frames stalls for that long. Node has no TCP_QUICKACK, and the option must
// be set again after every read anyway. Instead, after every read from the upstream the relay sends an
// unsolicited pong (RFC 6455 §5.5.3: a unidirectional heartbeat, no answer expected; 6 bytes from a
// client): the ACK rides on it at once and the upstream's next frame leaves without waiting. One pong per
// read, sent before the read's frames are handled.
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';

/** Make `ws` (a client socket, before it opens) acknowledge every read from its server at once. */
export function ackPromptly(ws: WebSocket): void {
  ws.once('upgrade', (res: IncomingMessage) => {
    const sock = res.socket;
    const onData = (): void => {
      if (ws.readyState === 1) ws.pong();
    };
    // Attached once ws has its own 'data' listener (ws adds it after 'upgrade', right before 'open'): one
    // added earlier would put the socket in flowing mode and alone receive the frames that came with the
    // handshake answer (hence the first pong at open). Prepended, so the pong and with it the ACK leave
    // before this read's frames are handled.
    ws.once('open', () => {
      sock.prependListener('data', onData);
      onData();
    });
    ws.once('close', () => sock.off('data', onData));
  });
}
