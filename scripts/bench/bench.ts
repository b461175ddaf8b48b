// Gateway Desktop benchmark: `npm run bench -- [--quick] [--json FILE]`.
// Measures, on the same machine and the same kernelspec, with ordinary clients:
//   direct          a ZMQ client straight to the kernel (the limit)
//   proxy           a WebSocket client to Gateway Desktop's proxy (local cluster), legacy protocol
//   proxy (v1)      the same with the v1 WebSocket protocol that JupyterLab offers
//   jupyter_server  Debian's Jupyter Server 1.23 serving the same kernelspec (the peer), rate limits off
//   lab path        Jupyter Server started with --gateway-url at the proxy (what JupyterLab does)
//   relay           the proxy relaying to an upstream Jupyter Server (gateway cluster); compare to jupyter_server
//   upstream_zmq    a ZMQ client straight to a kernel that upstream Jupyter Server started (the relay's floor)
//   ssh             the direct path's ZMQ client through an SSH cluster's tunnel to a kernel on a loopback sshd
//   docker          the same client to a kernel in a container on a private Docker Engine (docker cluster)
// plus, for the proxy alone: memory and CPU with idle kernels connected, event-loop delay while many kernels
// stream, and fan-out of one kernel's output to many clients.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { proxyLoadFigures } from './load';
import { directPath, gatewayPath, measurePath, type BenchPath, type PathResult } from './measure';
import { runCli, startJupyterServer, startServe, type RunningServer } from './servers';
import { sshBench, type SshReport } from './ssh-path';
import { dockerBench, type DockerReport } from './docker-path';
import { round } from './stats';
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

/** One measured path; null when it does not apply here (e.g. no sshd). */
interface Step {
  name: string;
  run(): Promise<PathResult | null>;
}

async function main() {
  const started = new Date();
  log(
    `Gateway Desktop benchmark (${quick ? 'quick' : 'full'}) on ${cpus().length} × ${cpus()[0]?.model}, ${round(totalmem() / 2 ** 30, 1)} GiB`,
  );
  const want = (name: string) => !only || only.has(name);
  const results: PathResult[] = [];
  // Only the servers the chosen paths need: idle ones still take memory and CPU from a small machine.
  const upstream = ['jupyter_server', 'relay', 'upstream_zmq'].some(want) ? await startJupyterServer() : null;
  let serve: (RunningServer & { dataDir: string }) | null = null;
  let lab: RunningServer | null = null;
  // The relay path: a gateway cluster "upstream" pointing at the same Jupyter Server, reached by pinned name.
  const relaySpec = 'upstream--python3';
  let proxyExtra: Record<string, number | boolean> = {};
  let ssh: (SshReport & PathResult) | { skipped: string } | null = null;
  let docker: (DockerReport & PathResult) | { skipped: string } | null = null;
  try {
    if (['proxy', 'proxy_v1', 'lab_path', 'relay', 'load'].some(want)) serve = await startServe();
    if (serve && upstream)
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
    if (serve && want('lab_path'))
      lab = await startJupyterServer({ gatewayUrl: serve.url, gatewayToken: serve.token });

    const paths: BenchPath[] = [];
    if (want('direct')) paths.push(await directPath());
    if (serve && want('proxy')) paths.push(gatewayPath('proxy', serve, 'python3'));
    if (serve && want('proxy_v1')) paths.push(gatewayPath('proxy_v1', serve, 'python3', 'v1'));
    if (upstream && want('jupyter_server')) paths.push(gatewayPath('jupyter_server', upstream, 'python3'));
    if (lab) paths.push(gatewayPath('lab_path', lab, 'python3'));
    if (serve && upstream && want('relay')) paths.push(gatewayPath('relay', serve, relaySpec));
    if (upstream && want('upstream_zmq')) paths.push(upstreamZmqPath(upstream));
    const steps: Step[] = paths.map((p) => ({ name: p.name, run: () => measurePath(p, cfg, log) }));
    // ssh right after direct: the two figures it is judged by are then measured minutes apart, not more.
    if (want('ssh'))
      steps.splice(paths[0]?.name === 'direct' ? 1 : 0, 0, {
        name: 'ssh',
        async run() {
          const r = await sshBench(cfg, log);
          if (!r.ok) {
            log(`  skipped ssh: ${r.skipped}`);
            ssh = { skipped: r.skipped };
            return null;
          }
          ssh = { ...r.result, ...r.report };
          return r.result;
        },
      });
    // docker next to direct too (after ssh when both run): its targets are differences from direct.
    if (want('docker'))
      steps.splice(steps.filter((s) => s.name === 'direct' || s.name === 'ssh').length, 0, {
        name: 'docker',
        async run() {
          const r = await dockerBench(cfg, log);
          if (!r.ok) {
            log(`  skipped docker: ${r.skipped}`);
            docker = { skipped: r.skipped };
            return null;
          }
          docker = { ...r.result, ...r.report };
          return r.result;
        },
      });
    for (const p of steps) {
      log(`measuring ${p.name}`);
      // One retry: a shared 2-core box occasionally stalls a start; a second failure is reported as such.
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          const r = await p.run();
          if (r) results.push(r);
          break;
        } catch (e) {
          log(`  ${p.name} FAILED (attempt ${attempt}): ${(e as Error).message}`);
          if (attempt === 2 && ['direct', 'proxy', 'ssh', 'docker'].includes(p.name)) throw e;
        }
      }
    }
    if (serve && want('load')) {
      log('measuring proxy under load');
      proxyExtra = await proxyLoadFigures({ load, idleWindowMs: quick ? 2000 : 10000, log }, serve);
    }
  } finally {
    await lab?.stop();
    await serve?.stop();
    await upstream?.stop();
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
      // Issue 12's targets: rtt within 1 ms of direct (median), throughput >= 70 %, warm start within 1 s.
      ssh_vs_direct: ratio(by('ssh'), by('direct')),
      // Issue 13's targets: start within 1.5 s of direct (image present), 1+1 within 0.5 ms (median).
      docker_vs_direct: ratio(by('docker'), by('direct')),
    },
    ssh,
    docker,
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
  if (ssh) console.log('ssh:', JSON.stringify(ssh, null, 1));
  if (docker) console.log('docker:', JSON.stringify(docker, null, 1));
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
