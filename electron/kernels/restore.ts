// Re-attaching, at startup, the kernels the app left running when it last quit (or could not shut down
// because it crashed): each one is checked (process alive, heartbeat, signed kernel_info) by its cluster and
// listed again under its old id, so a JupyterLab tab that still holds that id keeps working through the proxy.
import { clusterKinds } from '../clusters/kinds';
import type { ClusterRuntime } from '../clusters/types';
import { processAlive, sweepStaleRuntimeFiles } from '../../provisioners/local/local-provisioner';
import { errorMessage } from './errors';
import type { KernelRegistry } from './registry';
import {
  CorruptStateFileError,
  leftRunningPath,
  readLeftRunning,
  type KeptKernelRecord,
  type LeftRunningState,
} from './left-running';

export type LogLevel = 'info' | 'warn' | 'error';
export interface LogLine {
  level: LogLevel;
  message: string;
}

export interface RestoreReport {
  /** Ids of the kernels listed again. */
  reattached: string[];
  /** Kernels in the state file that could not be re-attached, with why. */
  dropped: { id: string; reason: string }[];
  /** What the state file said: the user left them running, or the app did not exit cleanly. */
  cause: 'left-running' | 'crash' | null;
  /**
   * True when the file belongs to another live process (a second app on the same data dir): it was not
   * touched, and this app must not write it either.
   */
  foreign: boolean;
  /** Human lines for the app log. */
  log: LogLine[];
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A kernel that cannot come back: its kind cleans up after it (a local one stops a process still running). */
async function drop(rec: KeptKernelRecord): Promise<string> {
  const drop = clusterKinds.get(rec.details.kind)?.kept?.drop;
  return drop ? drop(rec.id, rec.details).catch(() => '') : '';
}

/**
 * Read `<dataDir>/kernels-left-running.json` and re-attach what still runs. Never throws: a corrupt file is
 * moved aside and reported in the log lines. The caller rewrites or removes the file afterwards.
 */
export async function restoreKernels(opts: {
  dataDir: string;
  registry: KernelRegistry;
  clusterOf: (id: string) => ClusterRuntime | undefined;
}): Promise<RestoreReport> {
  const report: RestoreReport = { reattached: [], dropped: [], cause: null, foreign: false, log: [] };
  const file = leftRunningPath(opts.dataDir);
  let state: LeftRunningState | null;
  try {
    const r = await readLeftRunning(opts.dataDir);
    state = r.state;
    for (const s of r.skipped) report.log.push({ level: 'warn', message: `${file}: skipped an entry: ${s}` });
  } catch (err) {
    report.log.push({
      level: 'error',
      message: err instanceof CorruptStateFileError ? err.message : `${file}: ${errorMessage(err)}`,
    });
    state = null;
  }
  if (state?.status === 'running' && state.pid !== process.pid && processAlive(state.pid)) {
    report.foreign = true;
    report.log.push({
      level: 'warn',
      message:
        `${file} belongs to process ${state.pid}, which still runs (another Gateway Desktop on the same data ` +
        'folder?): its kernels are left alone and not re-attached here.',
    });
    return report;
  }
  if (state && state.kernels.length) {
    report.cause = state.status === 'running' ? 'crash' : 'left-running';
    await Promise.all(
      state.kernels.map(async (rec) => {
        const cluster = opts.clusterOf(rec.clusterId);
        let reason: string;
        if (!cluster?.reattachKernel) {
          reason = `cluster "${rec.clusterId}" is no longer configured`;
        } else {
          try {
            const backend = await cluster.reattachKernel(rec.id, rec.clusterSpecName, rec.details);
            try {
              opts.registry.adopt({
                id: rec.id,
                backend,
                cluster,
                specName: rec.specName,
                clusterSpecName: rec.clusterSpecName,
                startedAt: rec.startedAt ? new Date(rec.startedAt) : undefined,
                params: rec.params,
              });
            } catch (err) {
              await cluster.releaseKernel?.(backend).catch(() => undefined);
              throw err;
            }
            report.reattached.push(rec.id);
            return;
          } catch (err) {
            reason = errorMessage(err).split('\n')[0]; // not the kernel's output tail
          }
        }
        reason += await drop(rec);
        report.dropped.push({ id: rec.id, reason });
        report.log.push({
          level: 'warn',
          message: `Kernel ${rec.id} (${rec.specName}) was dropped: ${reason}`,
        });
      }),
    );
    const n = report.reattached.length;
    if (n) {
      report.log.unshift({
        level: 'info',
        message:
          report.cause === 'crash'
            ? `Re-attached ${plural(n, 'kernel')} that kept running after Gateway Desktop last exited unexpectedly`
            : `Re-attached ${plural(n, 'kernel')} left running at last quit`,
      });
    }
  }
  // Connection files of kernels that died while nobody watched (crashes, old runs).
  const swept = await sweepKernelFiles();
  if (swept) report.log.push(swept);
  return report;
}

/**
 * Remove the runtime files (connection files with HMAC keys, logs) of local kernels that no longer run: at
 * start and at exit. Never those of running kernels (left running on purpose, or another app's), nor files
 * this app did not write. The log line to show, or null when nothing was removed.
 */
export async function sweepKernelFiles(): Promise<LogLine | null> {
  const swept = await sweepStaleRuntimeFiles().catch(() => [] as string[]);
  return swept.length
    ? { level: 'info', message: `Removed ${plural(swept.length, 'stale kernel file')}` }
    : null;
}
