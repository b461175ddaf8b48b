// Gateway Desktop benchmark: `npm run bench -- [--quick] [--json FILE]`.
// Measures, on the same machine and the same kernelspec, with ordinary clients:
//   direct          a ZMQ client straight to the kernel (the limit)
//   proxy           a WebSocket client to Gateway Desktop's proxy (local cluster), legacy protocol
//   proxy (v1)      the same with the v1 WebSocket protocol that JupyterLab offers
//   jupyter_server  Debian's Jupyter Server 1.23 serving the same kernelspec (the peer), rate limits off
//   lab path        Jupyter Server started with --gateway-url at the proxy (what JupyterLab does)
//   relay           the proxy relaying to an upstream Jupyter Server (gateway cluster); compare to jupyter_server
//   upstream_zmq    a ZMQ client straight to a kernel that upstream Jupyter Server started (the relay's floor)
// plus, for the proxy alone: memory and CPU with idle kernels connected, event-loop delay while many kernels
// stream, and fan-out of one kernel's output to many clients.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { WsBenchClient } from './kernel-client';
import {
  directPath,
  gatewayPath,
  measurePath,
  streamCode,
  checkStream,
  type BenchPath,
  type KernelSession,
  type PathResult,
} from './measure';
import {
  machineCpu,
  mainThreadSched,
  procStats,
  runCli,
  startJupyterServer,
  startServe,
  type RunningServer,
} from './servers';
import { nowMs, round } from './stats';
import { upstreamZmqPath } from './upstream-zmq';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIdx = args.indexOf('--json');
const jsonFile = jsonIdx >= 0 ? args[jsonIdx + 1] : undefined;
if (args.includes('--help')) {
  console.log('usage: npm run bench -- [--quick] [--json FILE] [--only path,path] [--load-kernels N]');
  process.exit(0);
}
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? new Set(args[onlyIdx + 1].split(',')) : null;

const cfg = quick ? { starts: 2, rtts: 30, throughputMB: 4 } : { starts: 5, rtts: 200, throughputMB: 50 };
const load = quick
  ? { idleKernels: 4, streamKernels: 4, streamMB: 1, fanoutClients: 4, fanoutMB: 2 }
  : { idleKernels: 50, streamKernels: 50, streamMB: 4, fanoutClients: 20, fanoutMB: 16 };
// `--load-kernels N`: idle and streaming kernel count for a smaller load run (e.g. while profiling).
const loadIdx = args.indexOf('--load-kernels');
if (loadIdx >= 0) load.idleKernels = load.streamKernels = Number(args[loadIdx + 1]);
const log = (s: string) => process.stderr.write(s + '\n');
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
async function streamAll(serve: RunningServer, sessions: KernelSession[], rate: number | null) {
  await metrics(serve, true);
  const chunks = Math.round((load.streamMB * 1024 * 1024) / 65536);
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
  log(
    `  ${rate ? 'paced' : 'flat-out'} streaming window, monotonic µs: ${mono0} ${process.hrtime.bigint() / 1000n}`,
  );
  const m = await metrics(serve);
  const mach1 = machineCpu();
  const sched1 = mainThreadSched(serve.pid);
  return {
    totalMBs: round((sessions.length * load.streamMB) / secs),
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

async function proxyLoad(serve: RunningServer) {
  const path = gatewayPath('proxy', serve, 'python3');
  const base = procStats(serve.pid);
  log(`  proxy load: starting ${load.idleKernels} kernels`);
  const sessions = await startMany(path, load.idleKernels);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const withKernels = procStats(serve.pid);
    const idleWindow = quick ? 2000 : 10000;
    await new Promise((r) => setTimeout(r, idleWindow));
    const afterIdle = procStats(serve.pid);
    const idleCpuPct = ((afterIdle.cpuMs - withKernels.cpuMs) / idleWindow) * 100;

    const streamSessions = sessions.slice(0, load.streamKernels);
    // The target figure: every kernel streams at a fixed rate (staggered), so the machine is not saturated by
    // the kernels themselves and the event-loop delay measures the proxy.
    const paced = await streamAll(serve, streamSessions, STREAM_RATE_CHUNKS_PER_S);
    // Flat out, for reference: 50 Python kernels printing as fast as they can saturate a small machine.
    const flat = await streamAll(serve, streamSessions, null);
    return {
      idle_kernels: load.idleKernels,
      rss_base_mb: round(base.rss / 1048576),
      rss_with_idle_kernels_mb: round(withKernels.rss / 1048576),
      rss_per_idle_kernel_mb: round((withKernels.rss - base.rss) / 1048576 / load.idleKernels, 3),
      cpu_idle_percent: round(idleCpuPct, 2),
      streaming_kernels: load.streamKernels,
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

async function fanout(serve: RunningServer) {
  const path = gatewayPath('proxy', serve, 'python3');
  const k = await path.start();
  const others: WsBenchClient[] = [];
  try {
    await k.client.ready();
    for (let i = 1; i < load.fanoutClients; i++)
      others.push(await WsBenchClient.connect(serve.url, k.id, serve.token));
    const chunks = Math.round((load.fanoutMB * 1024 * 1024) / 65536);
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
      fanout_clients: load.fanoutClients,
      fanout_mb_per_client: load.fanoutMB,
      fanout_seconds_until_all_received: round(secs, 3),
      fanout_aggregate_mb_per_s: round((load.fanoutMB * load.fanoutClients) / secs),
      fanout_all_bytes_received: got.every((g) => g === expected),
    };
  } finally {
    others.forEach((c) => c.close());
    await k.stop();
  }
}

async function main() {
  const started = new Date();
  log(
    `Gateway Desktop benchmark (${quick ? 'quick' : 'full'}) on ${cpus().length} × ${cpus()[0]?.model}, ${round(totalmem() / 2 ** 30, 1)} GiB`,
  );
  const want = (name: string) => !only || only.has(name);
  const results: PathResult[] = [];
  const upstream = await startJupyterServer();
  const serve = await startServe();
  // The relay path: a gateway cluster "upstream" pointing at the same Jupyter Server, reached by pinned name.
  const relaySpec = 'upstream--python3';
  let lab: RunningServer | null = null;
  let proxyExtra: Record<string, number | boolean> = {};
  try {
    await runCli(
      'electron/cli/cluster-cli.ts',
      [
        'add',
        'gateway',
        'upstream',
        '--url',
        upstream.url,
        '--token-env',
        'GD_BENCH_UPSTREAM_TOKEN',
        '--data-dir',
        serve.dataDir,
      ],
      { ...process.env, GD_BENCH_UPSTREAM_TOKEN: upstream.token },
    ).catch((e: Error) => log(`  (relay cluster not added: ${e.message.split('\n')[0]})`));
    lab = await startJupyterServer({ gatewayUrl: serve.url, gatewayToken: serve.token });

    const paths: BenchPath[] = [];
    if (want('direct')) paths.push(await directPath());
    if (want('proxy')) paths.push(gatewayPath('proxy', serve, 'python3'));
    if (want('proxy_v1')) paths.push(gatewayPath('proxy_v1', serve, 'python3', 'v1'));
    if (want('jupyter_server')) paths.push(gatewayPath('jupyter_server', upstream, 'python3'));
    if (want('lab_path')) paths.push(gatewayPath('lab_path', lab, 'python3'));
    if (want('relay')) paths.push(gatewayPath('relay', serve, relaySpec));
    if (want('upstream_zmq')) paths.push(upstreamZmqPath(upstream));
    for (const p of paths) {
      log(`measuring ${p.name}`);
      // One retry: a shared 2-core box occasionally stalls a start; a second failure is reported as such.
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          results.push(await measurePath(p, cfg, log));
          break;
        } catch (e) {
          log(`  ${p.name} FAILED (attempt ${attempt}): ${(e as Error).message}`);
          if (attempt === 2 && (p.name === 'direct' || p.name === 'proxy')) throw e;
        }
      }
    }
    if (want('load')) {
      log('measuring proxy under load');
      proxyExtra = { ...(await proxyLoad(serve)), ...(await fanout(serve)) };
    }
  } finally {
    await lab?.stop();
    await serve.stop();
    await upstream.stop();
  }

  const by = (n: string) => results.find((r) => r.path === n);
  const ratio = (a?: PathResult, b?: PathResult) =>
    a && b
      ? {
          execute_rtt_median_diff_ms: round(a.execute_rtt_ms_median - b.execute_rtt_ms_median, 3),
          execute_rtt_p95_diff_ms: round(a.execute_rtt_ms_p95 - b.execute_rtt_ms_p95, 3),
          kernel_info_rtt_median_diff_ms: round(a.kernel_info_rtt_ms_median - b.kernel_info_rtt_ms_median, 3),
          throughput_ratio: round(a.throughput_mb_per_s / b.throughput_mb_per_s, 3),
          kernel_start_diff_ms: round(a.kernel_start_ms_median - b.kernel_start_ms_median, 1),
        }
      : null;
  const report = {
    date: started.toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memory_gib: round(totalmem() / 2 ** 30, 1),
      node: process.version,
    },
    config: { ...cfg, ...load },
    paths: results,
    proxy: proxyExtra,
    ratios: {
      proxy_vs_direct: ratio(by('proxy'), by('direct')),
      proxy_v1_vs_direct: ratio(by('proxy_v1'), by('direct')),
      proxy_vs_jupyter_server: ratio(by('proxy'), by('jupyter_server')),
      relay_vs_upstream: ratio(by('relay'), by('jupyter_server')),
      relay_vs_upstream_zmq: ratio(by('relay'), by('upstream_zmq')),
    },
  };

  const cols = ['path', 'start ms', 'info rtt med', 'info p95', 'exec rtt med', 'exec p95', 'MB/s'];
  const rows = results.map((r) =>
    [
      r.path,
      r.kernel_start_ms_median,
      r.kernel_info_rtt_ms_median,
      r.kernel_info_rtt_ms_p95,
      r.execute_rtt_ms_median,
      r.execute_rtt_ms_p95,
      r.throughput_mb_per_s,
    ].map(String),
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  rows.forEach((r) => console.log(line(r)));
  console.log('\nproxy:', JSON.stringify(report.proxy, null, 1));
  console.log('ratios:', JSON.stringify(report.ratios, null, 1));
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(report, null, 2) + '\n');
  // Sanity: every measured number is positive and every byte arrived.
  const bad = results.filter(
    (r) => !(r.execute_rtt_ms_median > 0 && r.throughput_mb_per_s > 0 && r.throughput_bytes_checked > 0),
  );
  if (bad.length) throw new Error(`insane figures for ${bad.map((b) => b.path).join(', ')}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`benchmark failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
