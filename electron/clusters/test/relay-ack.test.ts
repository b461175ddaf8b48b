// The relay's upstream leg acknowledges every read at once (prompt-ack.ts): after each frame the upstream
// sends, an unsolicited pong follows, so an upstream that keeps Nagle on (every Jupyter Server, Kernel
// Gateway and Enterprise Gateway) never waits on the relay's delayed ACK. The stand-in sends its next frame
// only once the pong for the previous one arrived: without the behaviour the relay never gets frame 2.
// This checks the socket behaviour, not a timing; the figure lives in `npm run bench`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { makeGatewayConfig } from '../config';
import { GatewayClient } from '../gateway/client';
import { GatewayKernel } from '../gateway/kernel';
import { EnterpriseGatewayStandIn, legacyMsg, type StandInKernel } from './eg-stand-in';
import { Inbox } from './helpers';

let standIn: EnterpriseGatewayStandIn;
before(async () => {
  standIn = await new EnterpriseGatewayStandIn().start();
});
after(async () => {
  await standIn?.stop();
});

test('the upstream leg sends a pong after each read from the upstream', { timeout: 20_000 }, async () => {
  const upstreamId = randomUUID();
  const k: StandInKernel = { id: upstreamId, name: 'python3', env: {}, ready: true, held: [], restarts: 0 };
  standIn.kernels.set(upstreamId, k);
  const frames = ['busy', 'idle', 'busy', 'idle'];
  standIn.on('connection', (ws: WebSocket) => {
    let sent = 0;
    const next = (): void => {
      if (sent < frames.length)
        standIn.send(ws, legacyMsg('iopub', 'status', { execution_state: frames[sent++] }));
    };
    standIn.on('pong', (from: WebSocket) => {
      if (from === ws) next();
    });
    next();
  });
  const client = new GatewayClient(makeGatewayConfig({ id: 'eg', name: 'EG', url: standIn.url }), {
    get: () => undefined,
  });
  const kernel = new GatewayKernel(randomUUID(), upstreamId, 'python3', client, {
    protocolHint: { v1: false },
  });
  const inbox = new Inbox();
  const port = kernel.openPort(randomUUID(), inbox.push);
  try {
    await inbox.wait(() => inbox.all.length === frames.length, 10_000, `all ${frames.length} frames`);
    assert.deepEqual(
      inbox.all.map((p) => p.content.execution_state),
      frames,
    );
  } finally {
    port.close();
    kernel.detach();
    client.dispose();
  }
});
