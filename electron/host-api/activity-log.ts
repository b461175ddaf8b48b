// What the app's log records about things the user did not do from the app's own buttons: kernels started
// by another client (JupyterLab, a script through the proxy's REST API), kernels that died, JupyterLab
// stopping; and "Test connection" results once per change of outcome, so retries do not flood the log.
import type { BackendKernelEvent } from './backend';
import type { AppLog } from './log';
import type { ClusterInput, ConnectionDiagnosis, LabStatus } from './models';

export interface ActivityLogOptions {
  log: AppLog;
  clusterName(id: string): string;
  /** True for kernels the app's own Start asked for (those log their own lines). */
  ownLaunch(kernelId: string): boolean;
}

type TestTarget = { id: string } | { input: ClusterInput; baseId?: string };

const MAX_TEST_KEYS = 100;

export class ActivityLog {
  private labState: LabStatus['state'] | null = null;
  private readonly dead = new Set<string>();
  private readonly lastTest = new Map<string, { outcome: string; repeats: number }>();

  constructor(private readonly opts: ActivityLogOptions) {}

  kernelEvent(e: BackendKernelEvent): void {
    const { log } = this.opts;
    if (e.type === 'removed') {
      this.dead.delete(e.id);
      // Idle culling (electron/kernels/culler.ts) says how long the kernel was inactive.
      if (e.reason?.startsWith('culled'))
        log.info('kernels', `kernel ${e.id.slice(0, 8)} was shut down: ${e.reason}`);
      return;
    }
    const k = e.kernel;
    const where = this.opts.clusterName(k.clusterId);
    if (e.type === 'added' && !this.opts.ownLaunch(k.id))
      log.info('kernels', `kernel ${k.id.slice(0, 8)} (${k.specName}) started on ${where} by another client`);
    if (k.state === 'dead' && !this.dead.has(k.id)) {
      this.dead.add(k.id);
      log.warn('kernels', `kernel ${k.id.slice(0, 8)} on ${where} died${k.reason ? `: ${k.reason}` : ''}`);
    } else if (k.state !== 'dead') this.dead.delete(k.id);
  }

  labStatus(s: LabStatus): void {
    const prev = this.labState;
    this.labState = s.state;
    if (prev !== 'running' || s.state === 'running') return;
    if (s.state === 'failed') this.opts.log.warn('lab', s.message);
    else this.opts.log.info('lab', s.message || 'JupyterLab stopped.');
  }

  /** Logs a test's outcome when it differs from the last one for the same target. */
  testResult(target: TestTarget, d: ConnectionDiagnosis): void {
    const key =
      'id' in target ? `id:${target.id}` : `input:${target.baseId ?? ''}:${target.input.gateway?.url ?? ''}`;
    // Numbers (durations, counts) vary between identical failures; they do not make a new outcome.
    const outcome = `${d.ok}|${d.kind}|${d.title}|${d.detail}`.replace(/\d+(\.\d+)?/g, '#');
    const last = this.lastTest.get(key);
    if (last && last.outcome === outcome) {
      last.repeats++;
      return;
    }
    const again = last && last.repeats > 0 ? ` (the previous result came ${last.repeats + 1} times)` : '';
    this.lastTest.delete(key);
    this.lastTest.set(key, { outcome, repeats: 0 });
    if (this.lastTest.size > MAX_TEST_KEYS) {
      const oldest = this.lastTest.keys().next().value;
      if (oldest !== undefined) this.lastTest.delete(oldest);
    }
    this.opts.log.write(
      d.ok ? 'info' : 'warn',
      'clusters',
      `test connection: ${d.title} — ${d.detail}${again}`,
    );
  }
}
