// Upstream stopped mid-session. Restarting jupyter_server would lose its kernels, so the honest test cuts the
// network instead: a TCP pass-through between the relay and the real upstream is cut (every connection
// dropped, the port closed) and restored on the same port. The kernel keeps running upstream and its
// jupyter_server buffers the session's output while no socket is attached. Clients must see 'disconnected'
// (not dead), the relay must reconnect with the same session_id, emit 'reconnected', deliver what was
// buffered upstream, and send what the client sent meanwhile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { makeGatewayConfig, secretKeys } from '../config';
import { createSecretStore } from '../../secrets/secret-store';
import { GatewayClusterRuntime } from '../gateway/runtime';
import type { GatewayKernel } from '../gateway/kernel';
import type { KernelEvent } from '../../../provisioners/types';
import {
  CuttableProxy,
  Inbox,
  makeMsg,
  executeMsg,
  startJupyterServer,
  tempDir,
  waitFor,
  type JupyterServer,
} from './helpers';

describe('upstream drop and reconnect', { timeout: 180_000 }, () => {
  let upstream: JupyterServer;
  let proxy: CuttableProxy;
  let dir: string;
  const runtimes: GatewayClusterRuntime[] = [];
  let secrets: ReturnType<typeof createSecretStore>;

  const makeRuntime = (legacy: boolean): GatewayClusterRuntime => {
    const rt = new GatewayClusterRuntime(
      makeGatewayConfig({
        id: 'uni',
        name: 'University',
        url: `http://127.0.0.1:${proxy.port}`,
        tokenSecret: secretKeys.token('uni'),
        pollIntervalMs: 300,
        timeouts: { connectMs: 1000 },
      }),
      secrets,
      { backoffMs: 200, maxBackoffMs: 1000, forceLegacy: legacy },
    );
    runtimes.push(rt);
    return rt;
  };

  before(
    async () => {
      dir = tempDir();
      upstream = await startJupyterServer();
      proxy = new CuttableProxy(upstream.port);
      await proxy.start();
      secrets = createSecretStore({ dataDir: dir });
      secrets.set(secretKeys.token('uni'), upstream.token);
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      await proxy?.restore().catch(() => undefined);
      for (const rt of runtimes) {
        for (const k of rt.relayedKernels()) await k.shutdown().catch(() => undefined);
        await rt.dispose();
      }
      await proxy?.close();
      await upstream?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    { timeout: 90_000 },
  );

  for (const legacy of [false, true]) {
    test(`clients see disconnected, output resumes after the upstream returns (${legacy ? 'legacy' : 'v1'})`, async () => {
      const rt = makeRuntime(legacy);
      const k = (await rt.startKernel({
        kernelId: randomUUID(),
        specName: 'python3',
        env: {},
      })) as GatewayKernel;
      const events: KernelEvent[] = [];
      k.onEvent((e) => events.push(e));
      const inbox = new Inbox();
      const session = randomUUID();
      const port = k.openPort(session, inbox.push);
      const info = makeMsg('shell', 'kernel_info_request', {}, session);
      port.send(info.msg);
      await inbox.wait((p) => p.msgType === 'kernel_info_reply', 60_000);

      // A cell that prints 0..29 over ~3 s.
      const ex = executeMsg(
        'import time\nfor i in range(30):\n    print(i, flush=True)\n    time.sleep(0.1)',
        session,
      );
      port.send(ex.msg);
      await waitFor('some output', () => inbox.streamText(ex.msgId).includes('3\n'), 30_000, 20);
      // Only events after the cut count: under load the first connect can time out and reconnect too.
      const sinceCut = events.length;
      await proxy.cut();
      await waitFor(
        'disconnected',
        () => events.slice(sinceCut).some((e) => e.type === 'disconnected'),
        10_000,
        20,
      );
      assert.ok(!events.some((e) => e.type === 'dead'), 'not dead');
      assert.notEqual(k.executionState, 'dead');

      // While cut: the client sends another cell; it is queued, not lost.
      const later = executeMsg("print('after the outage')", session);
      port.send(later.msg);
      await new Promise((r) => setTimeout(r, 1500));
      await proxy.restore();
      await waitFor(
        'reconnected',
        () => events.slice(sinceCut).some((e) => e.type === 'reconnected'),
        20_000,
        20,
      );

      await inbox.idleFor(ex.msgId, 30_000);
      const text = inbox.streamText(ex.msgId);
      assertResumed(text);
      await inbox.idleFor(later.msgId, 30_000);
      assert.equal(inbox.streamText(later.msgId).trim(), 'after the outage');
      await k.shutdown();
      port.close();
    });
  }
});

/**
 * Output of the 0..29 cell across an outage: in order, no duplicates, through to the end. Lines that were on
 * the wire at the instant of the cut may be lost (as on a real network: the gateway had already written
 * them); everything the gateway produced after it noticed the drop is buffered there and replayed.
 */
function assertResumed(text: string): void {
  const numbers = text.trim().split('\n').map(Number);
  for (let i = 1; i < numbers.length; i++) {
    assert.ok(numbers[i] > numbers[i - 1], `in order, no duplicates: ${numbers.join(',')}`);
  }
  assert.equal(numbers[numbers.length - 1], 29, `output resumed to the end: ${numbers.join(',')}`);
  assert.ok(numbers.length >= 27, `at most the lines in flight at the cut are lost: ${numbers.join(',')}`);
}
