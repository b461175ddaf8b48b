// What the benchmark measures on one path: kernel start, request round trips, and output throughput.
import { randomUUID } from 'node:crypto';
import { startKernel } from '../../provisioners/start';
import { discoverKernelSpecs } from '../../provisioners/kernelspec/discovery';
import { BenchKernelClient, WsBenchClient, ZmqBenchClient } from './kernel-client';
import { median, nowMs, percentile, round } from './stats';

export interface KernelSession {
  id: string;
  client: BenchKernelClient;
  stop(): Promise<void>;
}

/** One way of reaching a kernel: start() returns a connected client (before any kernel_info). */
export interface BenchPath {
  name: string;
  start(): Promise<KernelSession>;
}

export interface BenchConfig {
  starts: number;
  rtts: number;
  throughputMB: number;
}

export interface PathResult {
  path: string;
  kernel_start_ms_median: number;
  /** The first start on the path, not in the median (cold). */
  kernel_start_ms_first: number;
  kernel_info_rtt_ms_median: number;
  kernel_info_rtt_ms_p95: number;
  execute_rtt_ms_median: number;
  execute_rtt_ms_p95: number;
  throughput_mb_per_s: number;
  throughput_bytes_checked: number;
}

const CHUNK = 65536;

/**
 * Python that prints `chunks` chunks of 64 KiB, each starting with its 8-digit index; flat out, or paced at
 * `perSecond` chunks per second on a fixed schedule (a late chunk does not delay the next ones) that starts
 * `phaseS` seconds from now.
 */
export function streamCode(chunks: number, perSecond?: number, phaseS = 0): string {
  const pace = perSecond
    ? [`    d = t0 + i / ${perSecond} - time.monotonic()`, '    if d > 0:', '        time.sleep(d)']
    : [];
  return [
    'import sys, time',
    `t0 = time.monotonic() + ${phaseS}`,
    `for i in range(${chunks}):`,
    ...pace,
    `    sys.stdout.write('%08d' % i + 'x' * ${CHUNK - 8})`,
    '    sys.stdout.flush()',
  ].join('\n');
}

/** Verify streamed text is exactly the chunks in order; returns the byte count. */
export function checkStream(text: string, chunks: number): number {
  if (text.length !== chunks * CHUNK) {
    throw new Error(`output corrupted: got ${text.length} bytes, expected ${chunks * CHUNK}`);
  }
  for (let i = 0; i < chunks; i++) {
    const at = i * CHUNK;
    if (text.slice(at, at + 8) !== String(i).padStart(8, '0') || text[at + CHUNK - 1] !== 'x') {
      throw new Error(`output corrupted at chunk ${i}`);
    }
  }
  return text.length;
}

export async function measureThroughput(client: BenchKernelClient, megabytes: number) {
  const chunks = Math.max(1, Math.round((megabytes * 1024 * 1024) / CHUNK));
  const parts: string[] = [];
  const t0 = nowMs();
  await client.execute(streamCode(chunks), (t) => parts.push(t), 600000);
  const secs = (nowMs() - t0) / 1000;
  const bytes = checkStream(parts.join(''), chunks);
  return { mbPerS: bytes / 1024 / 1024 / secs, bytes };
}

export async function timeRequests(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    await fn();
    out.push(nowMs() - t0);
  }
  return out;
}

export async function measurePath(
  path: BenchPath,
  cfg: BenchConfig,
  log: (s: string) => void,
): Promise<PathResult> {
  // The first start on a path is reported on its own (cold: first spawn by that process, first spec lookup,
  // JIT) and the median is over the next `cfg.starts`, so the order the paths run in does not decide it.
  const starts: number[] = [];
  let firstStart = 0;
  for (let i = 0; i <= cfg.starts; i++) {
    const t0 = nowMs();
    const k = await path.start();
    await k.client.ready();
    if (i === 0) firstStart = nowMs() - t0;
    else starts.push(nowMs() - t0);
    await k.stop();
  }
  log(`  ${path.name}: start median ${round(median(starts))} ms (first ${round(firstStart)} ms)`);

  const k = await path.start();
  try {
    await k.client.ready();
    for (let i = 0; i < 20; i++) await k.client.execute('1+1'); // warm up
    const info = await timeRequests(cfg.rtts, () =>
      k.client.request('shell', 'kernel_info_request', {}, { waitIdle: true }),
    );
    const exec = await timeRequests(cfg.rtts, () => k.client.execute('1+1'));
    log(`  ${path.name}: execute rtt median ${round(median(exec))} ms p95 ${round(percentile(exec, 95))} ms`);
    const tp = await measureThroughput(k.client, cfg.throughputMB);
    log(`  ${path.name}: throughput ${round(tp.mbPerS)} MB/s`);
    return {
      path: path.name,
      kernel_start_ms_median: round(median(starts)),
      kernel_start_ms_first: round(firstStart),
      kernel_info_rtt_ms_median: round(median(info), 3),
      kernel_info_rtt_ms_p95: round(percentile(info, 95), 3),
      execute_rtt_ms_median: round(median(exec), 3),
      execute_rtt_ms_p95: round(percentile(exec, 95), 3),
      throughput_mb_per_s: round(tp.mbPerS),
      throughput_bytes_checked: tp.bytes,
    };
  } finally {
    await k.stop();
  }
}

/** A path through any server with the gateway REST + WebSocket API (our proxy, Jupyter Server, ...). */
export function gatewayPath(
  name: string,
  server: { url: string; token: string },
  specName: string,
  protocol: 'legacy' | 'v1' = 'legacy',
): BenchPath {
  const headers = { Authorization: `token ${server.token}`, 'Content-Type': 'application/json' };
  return {
    name,
    async start() {
      const r = await fetch(`${server.url}/api/kernels`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: specName, env: {} }),
      });
      if (r.status !== 201) throw new Error(`${name}: POST /api/kernels → ${r.status} ${await r.text()}`);
      const { id } = (await r.json()) as { id: string };
      const client = await WsBenchClient.connect(server.url, id, server.token, protocol);
      return {
        id,
        client,
        stop: async () => {
          client.close();
          await fetch(`${server.url}/api/kernels/${id}`, { method: 'DELETE', headers });
        },
      };
    },
  };
}

export const newKernelId = (): string => randomUUID();

/** The limit: a ZMQ client straight to a python3 kernel this process starts. */
export async function directPath(): Promise<BenchPath> {
  const { specs } = await discoverKernelSpecs();
  const spec = specs.find((s) => s.name === 'python3');
  if (!spec) throw new Error('no python3 kernelspec found: apt-get install python3-ipykernel');
  return {
    name: 'direct',
    async start() {
      const km = await startKernel({ kernelId: randomUUID(), spec });
      const client = new ZmqBenchClient((s, cb) => km.openPort(s, cb));
      return {
        id: km.id,
        client,
        stop: async () => {
          client.close();
          await km.shutdown();
        },
      };
    },
  };
}
