// The bench path "docker": a kernel in a container on a private Docker Engine (scripts/testing/dockerd.ts; the
// image is already on the engine, so no pull) started through the Docker cluster (DockerCluster → docker
// provisioner → our launcher copied in), reached with the same ZMQ client the direct path uses
// (KernelBackend.openPort). Issue 13's targets: start within 1.5 s of a local start, `1+1` within 0.5 ms.
// Reported besides the usual figures: where a start's time goes (the engine's progress steps) and the engine.
import { randomUUID } from 'node:crypto';
import { DockerCluster } from '../../electron/clusters/docker/docker-cluster';
import type { DockerClusterConfig } from '../../electron/clusters/kinds/docker/config';
import type { KernelBackend, LaunchProgress } from '../../provisioners/types';
import { SYSTEM_PYTHON } from '../testing/jupyter-server';
import { HOST_RUNTIME_MOUNTS, dockerdUnavailable, startDockerd, type TestDockerd } from '../testing/dockerd';
import { ZmqBenchClient } from './kernel-client';
import { measurePath, type BenchConfig, type BenchPath, type PathResult } from './measure';
import { median, nowMs, round } from './stats';

export interface DockerReport {
  /** Where a warm start's time went (median per progress phase, ms until the next; the last: until the
   * bench client's kernel_info reply). */
  start_phases_ms: Record<string, number>;
  engine: string;
  /** The network mode kernel containers ran with (host: no NAT between this process and the kernel). */
  network: string;
}

export type DockerBench =
  | { ok: true; result: PathResult; report: DockerReport }
  | { ok: false; skipped: string };

/** Why the docker path cannot run here, or null when it can. */
export function dockerSkipReason(): string | null {
  return dockerdUnavailable();
}

function clusterConfig(d: TestDockerd): DockerClusterConfig {
  return {
    id: 'bench-docker',
    name: 'bench dockerd',
    kind: 'docker',
    enabled: true,
    host: d.host,
    image: d.image,
    python: SYSTEM_PYTHON,
    // The fixture's image is an almost empty rootfs: the host's Python runs in it through these mounts.
    volumes: HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`),
    pull: 'never',
  };
}

/** ms from each progress phase to the next (until `endMs` for the last), keyed by phase. */
function phaseDurations(steps: LaunchProgress[], endMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  steps.forEach((s, i) => {
    let key = s.phase;
    for (let n = 2; key in out; n++) key = `${s.phase} #${n}`;
    out[key] = round((i + 1 < steps.length ? steps[i + 1]!.elapsedMs : endMs) - s.elapsedMs, 1);
  });
  return out;
}

function medianPhases(runs: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((k) => [k, round(median(runs.map((r) => r[k]).filter((v): v is number => v !== undefined)), 1)]),
  );
}

export function dockerPath(cluster: DockerCluster, phaseRuns: Record<string, number>[] = []): BenchPath {
  return {
    name: 'docker',
    async start() {
      const steps: LaunchProgress[] = [];
      const t0 = nowMs();
      const km: KernelBackend = await cluster.startKernel({
        kernelId: randomUUID(),
        specName: 'python3',
        env: {},
        onProgress: (p) => steps.push(p),
      });
      const client = new ZmqBenchClient((s, cb) => km.openPort(s, cb));
      return {
        id: km.id,
        client,
        stop: async () => {
          // measurePath awaits ready() before stop(): the phases end there.
          phaseRuns.push(phaseDurations(steps, nowMs() - t0));
          client.close();
          await km.shutdown();
        },
      };
    },
  };
}

/** A private dockerd and a Docker cluster on it, for the docker path here and in ab.ts. */
export async function openDockerCluster(log: (s: string) => void): Promise<{
  d: TestDockerd;
  config: DockerClusterConfig;
  cluster: DockerCluster;
  close(): Promise<void>;
}> {
  const d = await startDockerd();
  const config = clusterConfig(d);
  const cluster = new DockerCluster(config, {
    installId: `bench-${randomUUID()}`,
    log: (m) => log(`  [docker cluster] ${m}`),
  });
  return {
    d,
    config,
    cluster,
    async close() {
      await cluster.dispose().catch((e: Error) => log(`  docker: dispose: ${e.message}`));
      await d.stop();
    },
  };
}

export async function dockerBench(cfg: BenchConfig, log: (s: string) => void): Promise<DockerBench> {
  const skip = dockerSkipReason();
  if (skip) return { ok: false, skipped: skip };
  const { d, config, cluster, close } = await openDockerCluster(log);
  try {
    const v = await d.docker.version();
    const phaseRuns: Record<string, number>[] = [];
    const result = await measurePath(dockerPath(cluster, phaseRuns), cfg, log);
    return {
      ok: true,
      result,
      report: {
        // The first start is left out, as it is from the median start.
        start_phases_ms: medianPhases(phaseRuns.slice(1, cfg.starts + 1)),
        engine: `Docker ${v.Version} (API ${v.ApiVersion}, ${v.Os}/${v.Arch})`,
        network: config.network ?? 'host',
      },
    };
  } finally {
    await close();
  }
}
