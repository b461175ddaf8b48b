// The bench path "ssh": a kernel on a loopback sshd (the private test fixture) started through the SSH cluster
// (SshCluster → ssh provisioner → our launcher), reached over the tunnel's local ports with the same ZMQ client
// the direct path uses (KernelBackend.openPort of the manager that dials the tunnel). Reported besides the
// usual figures: the first start on the host (connection + launcher upload, the launcher deleted first), and
// where a start's time goes (progress steps).
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { SshCluster } from '../../electron/clusters/ssh/ssh-cluster';
import { remoteLauncherPath } from '../../electron/clusters/ssh/remote-launcher';
import type { SshClusterConfig } from '../../electron/clusters/kinds/ssh/config';
import type { KernelBackend, LaunchProgress } from '../../provisioners/types';
import { SYSTEM_PYTHON } from '../testing/jupyter-server';
import { sshdAvailable, startSshd, type TestSshd } from '../testing/sshd';
import { ZmqBenchClient } from './kernel-client';
import { measurePath, type BenchConfig, type BenchPath, type PathResult } from './measure';
import { median, nowMs, round } from './stats';

export interface SshReport {
  /** Connection + launcher upload + launch + tunnel + kernel_info, on a host with no launcher and no link. */
  first_start_on_host_ms: number;
  launcher_uploaded: boolean;
  /** Where the first start's time went: ms from each progress step to the next (the last: until the
   * bench client's kernel_info reply). */
  first_start_steps_ms: Record<string, number>;
  /** The same for the warm starts (median of each step). */
  warm_start_steps_ms: Record<string, number>;
  /** What ssh2 negotiates with this sshd by default (the cluster sets no algorithms). */
  cipher: string;
  mac: string;
  /** ssh2's optional native crypto binding (chacha20/AES-GCM in C++) loaded; else Node's crypto + JS. */
  ssh2_native_crypto: boolean;
}

export type SshBench = { ok: true; result: PathResult; report: SshReport } | { ok: false; skipped: string };

/** Why the ssh path cannot run here, or null when it can. */
export function sshSkipReason(): string | null {
  return sshdAvailable() ? null : 'no /usr/sbin/sshd or ssh-keygen here (apt-get install openssh-server)';
}

const noSecrets = { get: (): string | undefined => undefined };

function clusterConfig(sshd: TestSshd): SshClusterConfig {
  return {
    id: 'bench-ssh',
    name: 'bench loopback sshd',
    kind: 'ssh',
    enabled: true,
    hosts: [sshd.host],
    user: sshd.user,
    port: sshd.port,
    identityFile: sshd.clientKey,
    useAgent: false,
    knownHostsFile: sshd.knownHostsFile,
    python: SYSTEM_PYTHON,
  };
}

/**
 * Milliseconds each progress step took until the next one (until `endMs` for the last), keyed by its message
 * with the pid left out so that starts line up ("Checking the launcher on 127.0.0.1": 12).
 */
function stepDurations(steps: LaunchProgress[], endMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  steps.forEach((s, i) => {
    const base = s.message.replace(/\bpid \d+/, 'pid N');
    let key = base;
    for (let n = 2; key in out; n++) key = `${base} #${n}`;
    const next = i + 1 < steps.length ? steps[i + 1].elapsedMs : endMs;
    out[key] = round(next - s.elapsedMs, 1);
  });
  return out;
}

function medianSteps(runs: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((k) => [k, round(median(runs.map((r) => r[k]).filter((v) => v !== undefined)), 1)]),
  );
}

/** One start through the cluster, timed like the direct path: until the client's kernel_info reply. */
async function startOne(cluster: SshCluster) {
  const steps: LaunchProgress[] = [];
  const t0 = nowMs();
  const km: KernelBackend = await cluster.startKernel({
    kernelId: randomUUID(),
    specName: 'python3',
    env: {},
    onProgress: (p) => steps.push(p),
  });
  const client = new ZmqBenchClient((s, cb) => km.openPort(s, cb));
  return { km, client, steps, t0 };
}

/** The algorithms ssh2's defaults negotiate with `sshd`, from a separate short connection. */
function negotiated(sshd: TestSshd): Promise<{ cipher: string; mac: string }> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let algos = { cipher: 'unknown', mac: 'unknown' };
    c.on('handshake', (n) => {
      algos = { cipher: n.cs.cipher, mac: n.cs.mac };
    });
    c.on('ready', () => {
      c.end();
      resolve(algos);
    });
    c.on('error', reject);
    c.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      privateKey: readFileSync(sshd.clientKey),
      hostVerifier: (key: Buffer) =>
        `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}` ===
        sshd.hostKeyFingerprint,
      readyTimeout: 15_000,
    });
  });
}

function nativeCrypto(): boolean {
  // ssh2 sets bindingAvailable when lib/protocol/crypto/build/Release/sshcrypto.node loaded.
  const crypto = createRequire(import.meta.url)('ssh2/lib/protocol/crypto') as { bindingAvailable?: boolean };
  return crypto.bindingAvailable === true;
}

/** A loopback sshd and an SSH cluster on it, for the ssh path here and in ab.ts. */
export async function openSshCluster(log: (s: string) => void): Promise<{
  sshd: TestSshd;
  cluster: SshCluster;
  close(): Promise<void>;
}> {
  const sshd = await startSshd();
  const cluster = new SshCluster(clusterConfig(sshd), {
    secrets: noSecrets,
    log: (m) => log(`  [ssh cluster] ${m}`),
  });
  return {
    sshd,
    cluster,
    async close() {
      await cluster.dispose();
      await sshd.stop();
    },
  };
}

/** The ssh path alone (no first-start figures): `stepRuns` gets each start's steps when it is stopped. */
export function sshPath(cluster: SshCluster, stepRuns: Record<string, number>[] = []): BenchPath {
  return {
    name: 'ssh',
    async start() {
      const { km, client, steps, t0 } = await startOne(cluster);
      return {
        id: km.id,
        client,
        stop: async () => {
          // measurePath awaits ready() before stop(): the steps end there.
          stepRuns.push(stepDurations(steps, nowMs() - t0));
          client.close();
          await km.shutdown();
        },
      };
    },
  };
}

export async function sshBench(cfg: BenchConfig, log: (s: string) => void): Promise<SshBench> {
  const skip = sshSkipReason();
  if (skip) return { ok: false, skipped: skip };
  const { sshd, cluster, close } = await openSshCluster(log);
  let holder: KernelBackend | undefined;
  try {
    // The sshd logs in as this user, so the host's copy of the launcher is in this user's home (cwd of an
    // exec is the passwd home). Deleting it makes the first start upload it. Another suite sharing this host
    // at the same instant could miss the file for this one start; it is back (same name) right after.
    const launcher = join(userInfo().homedir, remoteLauncherPath());
    rmSync(launcher, { force: true });
    const first = await startOne(cluster);
    await first.client.ready();
    const firstMs = nowMs() - first.t0;
    first.client.close();
    holder = first.km;
    const launcherUploaded = existsSync(launcher);
    log(`  ssh: first start on the host ${round(firstMs)} ms (launcher uploaded: ${launcherUploaded})`);
    // The first kernel stays up while the rest are measured: the pool keeps the host's connection only while
    // a kernel holds it, and "warm" means another kernel on that host already opened it.
    const stepRuns: Record<string, number>[] = [];
    const result = await measurePath(sshPath(cluster, stepRuns), cfg, log);
    const algos = await negotiated(sshd);
    return {
      ok: true,
      result,
      report: {
        first_start_on_host_ms: round(firstMs),
        launcher_uploaded: launcherUploaded,
        first_start_steps_ms: stepDurations(first.steps, firstMs),
        // The first warm start is left out, as it is from the median start.
        warm_start_steps_ms: medianSteps(stepRuns.slice(1, cfg.starts + 1)),
        ...algos,
        ssh2_native_crypto: nativeCrypto(),
      },
    };
  } finally {
    await holder?.shutdown().catch((e: Error) => log(`  ssh: holder shutdown: ${e.message}`));
    await close();
  }
}
