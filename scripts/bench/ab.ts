// Paired A/B measurements for the proxy's overhead over direct ZMQ, robust to a shared, noisy machine: the
// paths are measured interleaved (round-robin, rotating order), so load drift hits each path alike.
//   node --import tsx scripts/bench/ab.ts [--rounds R] [--rtts N] [--starts S] [--paths direct,proxy,proxy_v1,ssh,docker]
// BENCH_PROXY_NODE_ARGS (see servers.ts) passes node flags to the proxy, e.g. --cpu-prof. `ssh` is the bench's
// ssh path (loopback sshd); its starts are warm (a kernel kept on the host holds the pooled connection).
// `docker` is the bench's docker path (a private dockerd; the image is on the engine).
import { directPath, gatewayPath, timeRequests, type BenchPath } from './measure';
import { startServe, type RunningServer } from './servers';
import { openSshCluster, sshPath } from './ssh-path';
import { dockerPath, openDockerCluster } from './docker-path';
import { median, nowMs, percentile, round } from './stats';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const rounds = opt('--rounds', 10);
const rtts = opt('--rtts', 50);
const starts = opt('--starts', 0);
const pathsIdx = args.indexOf('--paths');
const wanted = pathsIdx >= 0 ? args[pathsIdx + 1].split(',') : ['direct', 'proxy', 'proxy_v1'];

async function main() {
  const serve = wanted.some((n) => n.startsWith('proxy')) ? await startServe() : null;
  const ssh = wanted.includes('ssh') ? await openSshCluster((s) => process.stderr.write(s + '\n')) : null;
  const holder = ssh ? await sshPath(ssh.cluster).start() : null;
  const docker = wanted.includes('docker')
    ? await openDockerCluster((s) => process.stderr.write(s + '\n'))
    : null;
  const proxied = (s: RunningServer): Record<string, BenchPath> => ({
    proxy: gatewayPath('proxy', s, 'python3'),
    proxy_v1: gatewayPath('proxy_v1', s, 'python3', 'v1'),
  });
  const all: Record<string, BenchPath> = {
    direct: await directPath(),
    ...(serve ? proxied(serve) : {}),
    ...(ssh ? { ssh: sshPath(ssh.cluster) } : {}),
    ...(docker ? { docker: dockerPath(docker.cluster) } : {}),
  };
  const paths = wanted.map((n) => all[n]).filter(Boolean);
  const rot = <T>(xs: T[], r: number) => xs.map((_, i) => xs[(i + r) % xs.length]);
  try {
    if (starts > 0) {
      const t: Record<string, number[]> = {};
      for (let r = 0; r < starts; r++) {
        for (const p of rot(paths, r)) {
          const t0 = nowMs();
          const k = await p.start();
          await k.client.ready();
          (t[p.name] ??= []).push(nowMs() - t0);
          await k.stop();
        }
      }
      for (const [n, xs] of Object.entries(t))
        console.log(
          `start ${n}: median ${round(median(xs))} ms  (n=${xs.length}: ${xs.map((x) => round(x, 0)).join(' ')})`,
        );
    }
    if (rounds > 0) {
      const sessions = await Promise.all(paths.map((p) => p.start()));
      try {
        for (const s of sessions) {
          await s.client.ready();
          for (let i = 0; i < 20; i++) await s.client.execute('1+1');
        }
        const exec: Record<string, number[]> = {};
        const info: Record<string, number[]> = {};
        const roundMedians: Record<string, number[]> = {};
        for (let r = 0; r < rounds; r++) {
          for (const i of rot([...sessions.keys()], r)) {
            const s = sessions[i];
            const name = paths[i].name;
            const e = await timeRequests(rtts, () => s.client.execute('1+1'));
            const k = await timeRequests(rtts, () =>
              s.client.request('shell', 'kernel_info_request', {}, { waitIdle: true }),
            );
            (exec[name] ??= []).push(...e);
            (info[name] ??= []).push(...k);
            (roundMedians[name] ??= []).push(median(e));
          }
        }
        const base = paths[0].name;
        for (const p of paths) {
          const n = p.name;
          const diffs = roundMedians[n].map((m, r) => m - roundMedians[base][r]);
          console.log(
            `${n.padEnd(9)} execute med ${round(median(exec[n]), 3)} p95 ${round(percentile(exec[n], 95), 3)}` +
              `  kernel_info med ${round(median(info[n]), 3)} p95 ${round(percentile(info[n], 95), 3)}` +
              (n === base ? '' : `  paired execute diff vs ${base}: median ${round(median(diffs), 3)} ms`),
          );
        }
      } finally {
        await Promise.all(sessions.map((s) => s.stop()));
      }
    }
  } finally {
    await holder?.stop();
    await ssh?.close();
    await docker?.close();
    await serve?.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
