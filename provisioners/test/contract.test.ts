// The provisioner contract (issue 11 item 2) against fake provisioners: link state (disconnected, heartbeat
// misses not counted, reconnected), the poll interval a provisioner chooses, the hook before terminate, a
// launch bound by the deadline and the abort signal whatever the provisioner does, progress with the cluster's
// reason, a restore that re-establishes the way to the kernel before it is dialled (a TCP "tunnel"), JSON
// state, signal numbers of the kernel's host. Where a kernel is needed it is Debian's real ipykernel.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { KernelManager, startKernelWith } from '../kernel-manager';
import { LocalProvisioner } from '../local/local-provisioner';
import { DARWIN_SIGNALS, LINUX_SIGNALS } from '../signals';
import type {
  ConnectionInfo,
  KernelEvent,
  KernelProvisioner,
  KernelSpec,
  LaunchBounds,
  LaunchProgress,
  LinkState,
  ProvisionerState,
} from '../types';
import { describeExit } from '../zmq/heartbeat';
import { KERNEL_ENV, TestClient, newKernelId, pidAlive, pythonSpec, waitFor } from './helpers';

/** A real local kernel whose "link" the test drives, and which records the lifecycle calls it gets. */
class LinkedProvisioner extends LocalProvisioner {
  override readonly pollIntervalMs: number = 250;
  readonly calls: string[] = [];
  private readonly linkListeners = new Set<(s: LinkState) => void>();

  onLinkChange(listener: (s: LinkState) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  setLink(state: LinkState): void {
    for (const l of [...this.linkListeners]) l(state);
  }

  get linkListenerCount(): number {
    return this.linkListeners.size;
  }

  async shutdownRequested(restart: boolean): Promise<void> {
    this.calls.push(`shutdownRequested(${restart})`);
  }

  override async terminate(restart?: boolean): Promise<void> {
    this.calls.push('terminate');
    await super.terminate(restart);
  }

  override async kill(restart?: boolean): Promise<void> {
    this.calls.push('kill');
    await super.kill(restart);
  }
}

/** A provisioner whose launch never finishes and ignores its signal; it reports what the "cluster" says. */
class StuckProvisioner implements KernelProvisioner {
  readonly name = 'stuck-provisioner';
  readonly hasProcess = false;
  readonly calls: string[] = [];
  bounds: LaunchBounds | undefined;
  constructor(readonly kernelId: string) {}
  async preLaunch(): Promise<void> {
    this.calls.push('preLaunch');
  }
  launch(bounds: LaunchBounds): Promise<ConnectionInfo> {
    this.calls.push('launch');
    this.bounds = bounds;
    bounds.progress(
      'waiting-for-pod',
      'Waiting for the pod',
      'ContainerCreating: pulling image elyra/kernel-py',
    );
    return new Promise<ConnectionInfo>(() => undefined); // ignores bounds.signal on purpose
  }
  async poll(): Promise<number | null> {
    return null;
  }
  async sendSignal(): Promise<void> {}
  async terminate(): Promise<void> {
    this.calls.push('terminate');
  }
  async kill(): Promise<void> {
    this.calls.push('kill');
  }
  async wait(): Promise<number | null> {
    return 0;
  }
  async cleanup(): Promise<void> {
    this.calls.push('cleanup');
  }
  getProvisionerInfo(): ProvisionerState {
    throw new Error('not launched');
  }
  async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    return state.connection;
  }
}

/** TCP forwarders from new local ports to a kernel's five ports: a stand-in for an SSH tunnel. */
class Tunnel {
  readonly servers: Server[] = [];
  readonly accepted: Record<string, number> = {};
  private readonly sockets = new Set<Socket>();

  static async open(to: ConnectionInfo): Promise<{ tunnel: Tunnel; connection: ConnectionInfo }> {
    const t = new Tunnel();
    const names = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;
    const ports: Partial<Record<(typeof names)[number], number>> = {};
    for (const n of names) ports[n] = await t.forward(n, to.ip, to[n]);
    return { tunnel: t, connection: { ...to, ip: '127.0.0.1', ...ports } };
  }

  private forward(name: string, host: string, port: number): Promise<number> {
    const srv = createServer((a) => {
      this.accepted[name] = (this.accepted[name] ?? 0) + 1;
      const b = connect(port, host);
      for (const s of [a, b]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      a.pipe(b).pipe(a);
    });
    this.servers.push(srv);
    return new Promise((resolve) =>
      srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)),
    );
  }

  close(): void {
    for (const s of this.servers) s.close();
    for (const s of this.sockets) s.destroy();
  }
}

/** A local kernel reached only through a tunnel that loadProvisionerInfo builds (as SSH backends will). */
class TunnelledProvisioner extends LocalProvisioner {
  tunnel: Tunnel | undefined;
  override async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    const direct = await super.loadProvisionerInfo(state);
    const { tunnel, connection } = await Tunnel.open(direct);
    this.tunnel = tunnel;
    return connection;
  }
  override async cleanup(restart?: boolean): Promise<void> {
    this.tunnel?.close();
    await super.cleanup(restart);
  }
}

describe('the provisioner contract', { timeout: 180_000 }, () => {
  let spec: KernelSpec;
  const started: KernelManager[] = [];

  const start = async (provisioner: KernelProvisioner, extra: object = {}): Promise<KernelManager> => {
    const km = await startKernelWith({
      kernelId: provisioner.kernelId,
      spec,
      env: KERNEL_ENV,
      launchTimeoutMs: 90_000,
      provisioner,
      ...extra,
    });
    started.push(km);
    return km;
  };

  before(async () => {
    spec = await pythonSpec();
  });

  after(async () => {
    await Promise.all(started.map((k) => k.shutdown().catch(() => undefined)));
  });

  test('link down: disconnected, heartbeat misses not counted, not dead; back: reconnected, counted again', async () => {
    const prov = new LinkedProvisioner(newKernelId());
    const km = await start(prov, { monitor: { intervalMs: 200, timeoutMs: 200, maxMisses: 2 } });
    const client = new TestClient(km);
    assert.equal((await client.execute('kept = 41')).reply.content.status, 'ok');
    const events: KernelEvent[] = [];
    km.onEvent((e) => events.push(e));
    const pid = prov.pid as number;

    prov.setLink({ up: false, reason: 'ssh tunnel to node-3 closed' });
    assert.deepEqual(events, [{ type: 'disconnected', reason: 'ssh tunnel to node-3 closed' }]);
    assert.equal(km.linkUp, false);
    process.kill(pid, 'SIGSTOP'); // the kernel cannot answer either: only the link state keeps it "not hung"
    try {
      await waitFor(
        () => km.diagnostics().heartbeatMissesWhileLinkDown >= 4,
        20_000,
        'twice maxMisses heartbeats missed while the link is down',
      );
      assert.ok(!events.some((e) => e.type === 'unresponsive' || e.type === 'dead'), JSON.stringify(events));
      assert.ok(pidAlive(pid));

      prov.setLink({ up: true });
      assert.deepEqual(events.at(-1), { type: 'reconnected' });
      assert.equal(km.linkUp, true);
      // Still paused: now the misses count, and it is reported not answering (never dead: its process runs).
      await waitFor(
        () => events.some((e) => e.type === 'unresponsive'),
        20_000,
        "'unresponsive' after reconnect",
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => events.some((e) => e.type === 'responsive'), 20_000, "the 'responsive' event");
    assert.ok(!events.some((e) => e.type === 'dead'));
    assert.equal((await client.execute('print(kept + 1)')).reply.content.status, 'ok');
    await km.shutdown();
    assert.equal(prov.linkListenerCount, 0, 'the manager unsubscribes from link state');
  });

  test("the monitor polls at the provisioner's interval; the local provisioner keeps 1 s", async () => {
    const linked = await start(new LinkedProvisioner(newKernelId()));
    assert.equal(linked.diagnostics().pollIntervalMs, 250);
    const local = await start(new LocalProvisioner(newKernelId()));
    assert.equal(local.diagnostics().pollIntervalMs, 1000);
    await Promise.all([linked.shutdown(), local.shutdown()]);
  });

  test('shutdownRequested runs after shutdown_request and before terminate/kill, with the restart flag', async () => {
    const prov = new LinkedProvisioner(newKernelId());
    const km = await start(prov);
    await km.restart();
    const afterRestart = prov.calls.splice(0);
    assert.equal(afterRestart[0], 'shutdownRequested(true)', afterRestart.join(', '));
    await km.shutdown();
    assert.equal(prov.calls[0], 'shutdownRequested(false)', prov.calls.join(', '));
    assert.ok(prov.calls.includes('kill'));
  });

  test('launch() is bound by the deadline even when the provisioner ignores it; progress carries the reason', async () => {
    const prov = new StuckProvisioner(newKernelId());
    const progress: LaunchProgress[] = [];
    await assert.rejects(
      startKernelWith({
        kernelId: prov.kernelId,
        spec,
        provisioner: prov,
        launchTimeoutMs: 600,
        onProgress: (p) => progress.push(p),
      }),
      /did not become ready within 1 s \(still launching: Waiting for the pod: ContainerCreating: pulling image/,
    );
    assert.equal(prov.bounds?.signal.aborted, true, 'the bound signal fired at the deadline');
    assert.ok(prov.bounds && prov.bounds.deadline > 0);
    const pod = progress.find((p) => p.phase === 'waiting-for-pod');
    assert.equal(pod?.detail, 'ContainerCreating: pulling image elyra/kernel-py');
    assert.equal(typeof pod?.elapsedMs, 'number');
    assert.ok(prov.calls.includes('kill') && prov.calls.at(-1) === 'cleanup', prov.calls.join(', '));
  });

  test('launch() is bound by the abort signal', async () => {
    const prov = new StuckProvisioner(newKernelId());
    const abort = new AbortController();
    const p = startKernelWith({
      kernelId: prov.kernelId,
      spec,
      provisioner: prov,
      launchTimeoutMs: 90_000,
      signal: abort.signal,
      onProgress: (e) => {
        if (e.phase === 'waiting-for-pod') setImmediate(() => abort.abort());
      },
    });
    await assert.rejects(p, (err: Error) => err.name === 'AbortError');
    assert.equal(prov.bounds?.signal.aborted, true);
    assert.equal(prov.calls.at(-1), 'cleanup');
  });

  test('re-attach dials the connection restore() re-established (a tunnel), not the saved ports', async () => {
    const kernelId = newKernelId();
    const km = await start(new LocalProvisioner(kernelId, { tieToParent: false }));
    const c1 = new TestClient(km);
    await c1.execute('marker = "through the tunnel"');
    const state = await km.release();
    assert.deepEqual(JSON.parse(JSON.stringify(state)), state, 'saved state is plain JSON');

    const prov = new TunnelledProvisioner(kernelId, { tieToParent: false });
    const again = await KernelManager.reattach(state, spec, { provisioner: prov });
    started.push(again);
    const tunnel = prov.tunnel as Tunnel;
    assert.ok(tunnel.accepted.control_port >= 1, 'kernel_info went through the tunnel');
    assert.ok(tunnel.accepted.iopub_port >= 1, 'iopub went through the tunnel');
    const c2 = new TestClient(again);
    const { iopub } = await c2.execute('print(marker)');
    assert.ok(iopub.some((m) => m.msgType === 'stream' && m.content.text === 'through the tunnel\n'));
    assert.ok(tunnel.accepted.shell_port >= 1);
    await again.shutdown();
  });

  test("exit signals are named with the kernel host's numbers", () => {
    assert.equal(describeExit(-9), 'exit code -9, killed by SIGKILL');
    assert.equal(describeExit(-12, LINUX_SIGNALS), 'exit code -12, killed by SIGUSR2');
    assert.equal(describeExit(-31, DARWIN_SIGNALS), 'exit code -31, killed by SIGUSR2');
    assert.equal(describeExit(-12, DARWIN_SIGNALS), 'exit code -12');
    const local = new LocalProvisioner(newKernelId());
    assert.equal(local.signals.SIGUSR1, (osConstants.signals as Record<string, number>).SIGUSR1);
  });
});
