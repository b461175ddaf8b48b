// The proxy alone under load: memory and CPU with idle kernels connected, event-loop delay while many kernels
// stream (paced, then flat out), and fan-out of one kernel's output to many clients.
import { WsBenchClient } from './kernel-client';
import { gatewayPath, streamCode, checkStream, type BenchPath, type KernelSession } from './measure';
import { machineCpu, mainThreadSched, procStats, type RunningServer } from './servers';
import { nowMs, round } from './stats';

export interface LoadConfig {
  idleKernels: number;
  streamKernels: number;
  streamMB: number;
  fanoutClients: number;
  fanoutMB: number;
}

export interface LoadRun {
  load: LoadConfig;
  /** How long the idle kernels sit connected while the proxy's CPU is measured. */
  idleWindowMs: number;
  log: (s: string) => void;
}

/** Paced streaming in the load run: 64 KiB chunks per second per kernel (4 = 256 KiB/s each). */
const STREAM_RATE_CHUNKS_PER_S = 4;

async function metrics(server: RunningServer, reset = false) {
  const r = await fetch(`${server.url}/api/gateway-desktop/metrics${reset ? '?reset=1' : ''}`, {
    headers: { Authorization: `token ${server.token}` },
  });
  if (!r.ok) throw new Error(`metrics endpoint → ${r.status}`);
  return (await r.json()) as { eventLoopDelayMs: { p50: number; p99: number; max: number } };
}

async function startMany(path: BenchPath, n: number, parallel = 4) {
  const sessions = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => path.start()));
    for (const s of batch) await s.client.ready();
    sessions.push(...batch);
  }
  return sessions;
}

/**
 * Every streaming kernel prints its share at once (`rate` chunks of 64 KiB per second per kernel, or flat out
 * when null) while the proxy's event-loop delay histogram runs. Also reports how much of one core the proxy
 * used, how busy the whole machine was (all processes, all cores), and how long the proxy's main thread sat
 * in the run queue: near 100 % busy means kernels and clients saturate the box, and timer lateness then
 * includes waiting for the OS scheduler, not only the proxy's work.
 */
async function streamAll(o: LoadRun, serve: RunningServer, sessions: KernelSession[], rate: number | null) {
  await metrics(serve, true);
  const chunks = Math.round((o.load.streamMB * 1024 * 1024) / 65536);
  const cpu0 = procStats(serve.pid).cpuMs;
  const mach0 = machineCpu();
  const sched0 = mainThreadSched(serve.pid);
  const t0 = nowMs();
  const mono0 = process.hrtime.bigint() / 1000n;
  await Promise.all(
    sessions.map(async (s, i) => {
      const parts: string[] = [];
      // Paced kernels are spread evenly over one period rather than all printing at the same instant.
      const code = rate ? streamCode(chunks, rate, i / (sessions.length * rate)) : streamCode(chunks);
      await s.client.execute(code, (t) => parts.push(t), 600000);
      checkStream(parts.join(''), chunks);
    }),
  );
  const secs = (nowMs() - t0) / 1000;
  // For lining up a --cpu-prof of the proxy (V8 profile times are CLOCK_MONOTONIC µs on Linux).
  o.log(
    `  ${rate ? 'paced' : 'flat-out'} streaming window, monotonic µs: ${mono0} ${process.hrtime.bigint() / 1000n}`,
  );
  const m = await metrics(serve);
  const mach1 = machineCpu();
  const sched1 = mainThreadSched(serve.pid);
  return {
    totalMBs: round((sessions.length * o.load.streamMB) / secs),
    p50: round(m.eventLoopDelayMs.p50, 2),
    p99: round(m.eventLoopDelayMs.p99, 2),
    max: round(m.eventLoopDelayMs.max, 2),
    proxyCpu: round(((procStats(serve.pid).cpuMs - cpu0) / (secs * 1000)) * 100, 1),
    machineBusy: round(((mach1.busyMs - mach0.busyMs) / (mach1.totalMs - mach0.totalMs)) * 100, 1),
    // Share of the window the proxy's main thread was runnable but waiting for a CPU (the OS scheduler):
    // event-loop delay the proxy's own code cannot remove.
    runQueueWait: round(((sched1.waitMs - sched0.waitMs) / (secs * 1000)) * 100, 1),
  };
}

async function proxyLoad(o: LoadRun, serve: RunningServer) {
  const path = gatewayPath('proxy', serve, 'python3');
  const base = procStats(serve.pid);
  o.log(`  proxy load: starting ${o.load.idleKernels} kernels`);
  const sessions = await startMany(path, o.load.idleKernels);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const withKernels = procStats(serve.pid);
    const idleWindow = o.idleWindowMs;
    await new Promise((r) => setTimeout(r, idleWindow));
    const afterIdle = procStats(serve.pid);
    const idleCpuPct = ((afterIdle.cpuMs - withKernels.cpuMs) / idleWindow) * 100;

    const streamSessions = sessions.slice(0, o.load.streamKernels);
    // The target figure: every kernel streams at a fixed rate (staggered), so the machine is not saturated by
    // the kernels themselves and the event-loop delay measures the proxy.
    const paced = await streamAll(o, serve, streamSessions, STREAM_RATE_CHUNKS_PER_S);
    // Flat out, for reference: 50 Python kernels printing as fast as they can saturate a small machine.
    const flat = await streamAll(o, serve, streamSessions, null);
    return {
      idle_kernels: o.load.idleKernels,
      rss_base_mb: round(base.rss / 1048576),
      rss_with_idle_kernels_mb: round(withKernels.rss / 1048576),
      rss_per_idle_kernel_mb: round((withKernels.rss - base.rss) / 1048576 / o.load.idleKernels, 3),
      cpu_idle_percent: round(idleCpuPct, 2),
      streaming_kernels: o.load.streamKernels,
      streaming_kib_per_s_per_kernel: STREAM_RATE_CHUNKS_PER_S * 64,
      streaming_total_mb_per_s: paced.totalMBs,
      event_loop_delay_ms_p50: paced.p50,
      event_loop_delay_ms_p99: paced.p99,
      event_loop_delay_ms_max: paced.max,
      streaming_proxy_cpu_percent: paced.proxyCpu,
      streaming_machine_cpu_busy_percent: paced.machineBusy,
      streaming_proxy_run_queue_wait_percent: paced.runQueueWait,
      flatout_total_mb_per_s: flat.totalMBs,
      flatout_event_loop_delay_ms_p50: flat.p50,
      flatout_event_loop_delay_ms_p99: flat.p99,
      flatout_event_loop_delay_ms_max: flat.max,
      flatout_proxy_cpu_percent: flat.proxyCpu,
      flatout_machine_cpu_busy_percent: flat.machineBusy,
      flatout_proxy_run_queue_wait_percent: flat.runQueueWait,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.stop()));
  }
}

async function fanout(o: LoadRun, serve: RunningServer) {
  const path = gatewayPath('proxy', serve, 'python3');
  const k = await path.start();
  const others: WsBenchClient[] = [];
  try {
    await k.client.ready();
    for (let i = 1; i < o.load.fanoutClients; i++)
      others.push(await WsBenchClient.connect(serve.url, k.id, serve.token));
    const chunks = Math.round((o.load.fanoutMB * 1024 * 1024) / 65536);
    const expected = chunks * 65536;
    const got = others.map(() => 0);
    const done = others.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          c.onMessage((m) => {
            if (m.header.msg_type === 'stream') got[i] += String(m.content.text).length;
            if (got[i] >= expected) resolve();
          });
        }),
    );
    const t0 = nowMs();
    const parts: string[] = [];
    await k.client.execute(streamCode(chunks), (t) => parts.push(t), 600000);
    checkStream(parts.join(''), chunks);
    await Promise.all(done);
    const secs = (nowMs() - t0) / 1000;
    return {
      fanout_clients: o.load.fanoutClients,
      fanout_mb_per_client: o.load.fanoutMB,
      fanout_seconds_until_all_received: round(secs, 3),
      fanout_aggregate_mb_per_s: round((o.load.fanoutMB * o.load.fanoutClients) / secs),
      fanout_all_bytes_received: got.every((g) => g === expected),
    };
  } finally {
    others.forEach((c) => c.close());
    await k.stop();
  }
}

/** Every load figure of the proxy at `serve`. */
export async function proxyLoadFigures(
  o: LoadRun,
  serve: RunningServer,
): Promise<Record<string, number | boolean>> {
  return { ...(await proxyLoad(o, serve)), ...(await fanout(o, serve)) };
}
