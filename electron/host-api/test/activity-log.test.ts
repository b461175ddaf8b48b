import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ActivityLog } from '../activity-log';
import { AppLog } from '../log';
import type { BackendKernel } from '../backend';
import type { ConnectionDiagnosis, LabStatus } from '../models';

const kernel = (
  id: string,
  state: BackendKernel['state'] = 'idle',
  reason: string | null = null,
): BackendKernel => ({
  id,
  clusterId: 'uni',
  specName: 'python3',
  state,
  startedAt: new Date(),
  lastActivity: new Date(),
  connections: 0,
  reason,
});

const diag = (ok: boolean, detail: string): ConnectionDiagnosis => ({
  ok,
  kind: ok ? 'ok' : 'refused',
  title: ok ? 'Connected' : 'Connection refused',
  detail,
  hint: null,
  version: null,
  kernelspecCount: null,
  durationMs: 12,
});

const lab = (state: LabStatus['state'], message: string): LabStatus => ({
  state,
  url: null,
  message,
  installHint: null,
  log: [],
});

function setup(own: string[] = []) {
  const log = new AppLog();
  const a = new ActivityLog({ log, clusterName: () => 'University', ownLaunch: (id) => own.includes(id) });
  return { a, lines: () => log.list().map((e) => `${e.level} ${e.source} ${e.message}`) };
}

describe('activity log', () => {
  test('a kernel another client started is logged; the app’s own are not; a death once', () => {
    const { a, lines } = setup(['aaaaaaaa-own']);
    a.kernelEvent({ type: 'added', kernel: kernel('aaaaaaaa-own') });
    a.kernelEvent({ type: 'added', kernel: kernel('bbbbbbbb-other') });
    a.kernelEvent({ type: 'updated', kernel: kernel('bbbbbbbb-other', 'dead', 'killed by SIGKILL') });
    a.kernelEvent({ type: 'updated', kernel: kernel('bbbbbbbb-other', 'dead', 'killed by SIGKILL') });
    assert.deepEqual(lines(), [
      'info kernels kernel bbbbbbbb (python3) started on University by another client',
      'warn kernels kernel bbbbbbbb on University died: killed by SIGKILL',
    ]);
  });

  test('JupyterLab stopping after it ran is logged (an exit with an error as a warning)', () => {
    const { a, lines } = setup();
    a.labStatus(lab('stopped', 'JupyterLab stopped.'));
    a.labStatus(lab('running', 'runs'));
    a.labStatus(lab('stopped', 'JupyterLab stopped.'));
    a.labStatus(lab('running', 'runs'));
    a.labStatus(lab('failed', 'JupyterLab exited with code 1.'));
    assert.deepEqual(lines(), ['info lab JupyterLab stopped.', 'warn lab JupyterLab exited with code 1.']);
  });

  test('the same test outcome is logged once until it changes, then the repeats are counted', () => {
    const { a, lines } = setup();
    for (let i = 0; i < 5; i++) a.testResult({ id: 'uni' }, diag(false, `refused after ${i * 3} ms`));
    a.testResult({ id: 'uni' }, diag(true, 'Jupyter Server 1.23'));
    a.testResult({ id: 'other' }, diag(false, 'refused after 1 ms'));
    assert.deepEqual(lines(), [
      'warn clusters test connection: Connection refused — refused after 0 ms',
      'info clusters test connection: Connected — Jupyter Server 1.23 (the previous result came 5 times)',
      'warn clusters test connection: Connection refused — refused after 1 ms',
    ]);
  });
});
