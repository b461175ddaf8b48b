// The relay's answer to the ~40 ms stall of every Jupyter Server, Kernel Gateway and Enterprise Gateway:
// their WebSocket sockets keep Nagle's algorithm on, so after one small frame (status: busy) the next ones
// wait until that frame is acknowledged; an ordinary client that has nothing to send delays its ACK (Linux:
// 40 ms), and a reply of a few frames stalls for that long. Node has no TCP_QUICKACK, and the option must
// be set again after every read anyway. Instead, after every read from the upstream the relay sends an
// unsolicited pong (RFC 6455 §5.5.3: a unidirectional heartbeat, no answer expected; 6 bytes from a
// client): the ACK rides on it at once and the upstream's next frame leaves without waiting. One pong per
// event-loop turn that read anything, sent right after that turn's reads (so a burst of output costs one).
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';

/** Make `ws` (a client socket, before it opens) acknowledge every read from its server at once. */
export function ackPromptly(ws: WebSocket): void {
  ws.once('upgrade', (res: IncomingMessage) => {
    const sock = res.socket;
    let scheduled = false;
    const ack = (): void => {
      scheduled = false;
      if (ws.readyState === 1) ws.pong();
    };
    const onData = (): void => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(ack);
    };
    // Listen only once ws has its own 'data' listener (it attaches it after 'upgrade', right before
    // 'open'): a listener added earlier would put the socket in flowing mode and receive the frames that
    // came with the handshake answer alone. Those frames never show up as 'data' here, hence the first ack.
    ws.once('open', () => {
      sock.on('data', onData);
      onData();
    });
    ws.once('close', () => sock.off('data', onData));
  });
}
