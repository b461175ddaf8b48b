// How the proxy tells a paused kernel from a dead one, and what it says when one dies: a kernel stopped for
// 20 s (a debugger, a closed laptop lid, heavy swapping) is "not answering" and kept with its state; a kernel
// killed from outside is dead with the real reason, in the REST model and in the host API's state.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { AppCore } from '../../app-core';
import { RawClient, api, startTestCore, waitFor } from './helpers';

let core: AppCore;
let cleanup: () => Promise<void>;

/** The ipykernel process of a kernel (found by its connection file, which carries the kernel id). */
function kernelPid(kernelId: string): number {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  const line = lines.find((l) => l.includes(kernelId) && l.includes('ipykernel'));
  assert.ok(line, `no ipykernel process for ${kernelId}`);
  return Number(line.trim().split(/\s+/)[0]);
}

async function startKernel(): Promise<string> {
  const res = await api(core, 'api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

describe('paused and dead kernels', { timeout: 180_000 }, () => {
  before(async () => {
    ({ core, cleanup } = await startTestCore());
  });
  after(async () => {
    await cleanup();
  });

  test('a kernel paused for 20 s is shown not answering, kept, and keeps a variable set before', async () => {
    const id = await startKernel();
    const session = `paused-${Date.now()}`;
    const c = new RawClient(core, id, session);
    try {
      await c.opened;
      await c.ready(session);
      await c.execute('before_pause = 41', session);
      const pid = kernelPid(id);
      const stoppedAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        await waitFor(
          () => core.registry.get(id)?.link === 'not-answering',
          20_000,
          'the kernel to be shown as not answering',
        );
        assert.match(core.registry.get(id)?.reason ?? '', /not answering heartbeats/);
        // Queued while paused: it must run once the kernel is back, not be lost with a killed process.
        const queued = c.execute('print(before_pause + 1)', session, 60_000);
        await waitFor(() => Date.now() - stoppedAt >= 20_000, 25_000, 'a pause of 20 s', 250);
        assert.notEqual(core.registry.get(id)?.executionState, 'dead');
        process.kill(pid, 'SIGCONT');
        const { stdout } = await queued;
        assert.equal(stdout, '42\n');
      } finally {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // already gone: the assertions above say why
        }
      }
      await waitFor(() => core.registry.get(id)?.link === undefined, 20_000, 'the kernel to answer again');
    } finally {
      c.close();
    }
  });

  test('a kernel killed with SIGKILL is dead with that reason in its model, not "kernel died"', async () => {
    const id = await startKernel();
    process.kill(kernelPid(id), 'SIGKILL');
    const model = await waitFor(
      async () => {
        const m = (await (await api(core, `api/kernels/${id}`)).json()) as {
          execution_state: string;
          reason?: string;
        };
        return m.execution_state === 'dead' ? m : null;
      },
      20_000,
      'the kernel to be reported dead',
    );
    assert.match(model.reason ?? '', /exit code -9, killed by SIGKILL/);
    assert.match(core.registry.get(id)?.reason ?? '', /killed by SIGKILL/);
  });
});
