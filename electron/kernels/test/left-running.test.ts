// "Leave running" end to end with real ipykernels and the real app-core: a kernel kept at close outlives the
// core, the next core on the same data dir re-attaches it under the same id (its variables intact, reachable
// through the proxy's WebSocket), a corrupt state file is moved aside with an error naming it, a kernel that
// died meanwhile is dropped, and a crashed app's kernels are recovered from the journal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import {
  RawClient,
  SYSTEM_KERNELS,
  api,
  processesMatching,
  rawMessage,
  waitFor,
} from '../../gateway/test/helpers';
import type { LocalKept } from '../../clusters/local-cluster';
import { LEFT_RUNNING_FILE, type KeptKernelRecord, type LeftRunningState } from '../left-running';
import type { LogLine } from '../restore';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
const cores: AppCore[] = [];
const pids = new Set<number>();

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'gd-left-'));
  dirs.push(d);
  return d;
}

async function core(dataDir: string, lines: LogLine[] = []): Promise<AppCore> {
  const c = await createAppCore({
    dataDir,
    token: 'test-token-123',
    kernelSpecDirs: [SYSTEM_KERNELS],
    kernelsOutliveApp: true,
    log: (l) => lines.push(l),
    proxyOptions: { log: () => undefined },
  });
  cores.push(c);
  return c;
}

function readState(dataDir: string): LeftRunningState {
  return JSON.parse(readFileSync(path.join(dataDir, LEFT_RUNNING_FILE), 'utf8')) as LeftRunningState;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function connect(c: AppCore, id: string): Promise<{ client: RawClient; session: string }> {
  const session = randomUUID();
  const client = new RawClient(c, id, session);
  await client.opened;
  await client.ready(session);
  return { client, session };
}

after(async () => {
  for (const c of cores) await c.close().catch(() => undefined);
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL'); // a failed test must not leave kernels behind
    } catch {
      // gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A record of a local kernel, with its details as the local kind saves them. */
function localRecord(r: KeptKernelRecord): KeptKernelRecord & { details: LocalKept } {
  assert.equal(r.details.kind, 'local');
  return r as KeptKernelRecord & { details: LocalKept };
}

describe('kernels left running at quit', { timeout: 240_000 }, () => {
  test('kept at close, re-attached under the same id with its state, then shut down', async () => {
    const dataDir = tempDir();
    const c1 = await core(dataDir);
    const info = await c1.registry.start('python3');
    const id = info.id;
    const a = await connect(c1, id);
    await a.client.execute('x = 41', a.session);
    // Still computing when the app quits: re-attaching must not wait for (or kill) a busy kernel.
    const busy = rawMessage(
      'execute_request',
      { code: 'import time; time.sleep(6)', silent: false, store_history: false, allow_stdin: false },
      a.session,
    );
    a.client.send(busy);
    await waitFor(
      () =>
        a.client.messages.some(
          (m) => m.parent_header.msg_id === busy.header.msg_id && m.content.execution_state === 'busy',
        ),
      10_000,
      'the kernel to be busy',
    );
    a.client.close();
    // While the core runs, the journal lists the kernel (owner-only).
    await waitFor(() => existsSync(path.join(dataDir, LEFT_RUNNING_FILE)), 10_000, 'the journal');
    assert.equal(readState(dataDir).status, 'running');

    await c1.close({ leaveRunning: true });
    const file = path.join(dataDir, LEFT_RUNNING_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the state file is owner-only');
    const state = readState(dataDir);
    assert.equal(state.status, 'left-running');
    assert.equal(state.kernels.length, 1);
    const rec = localRecord(state.kernels[0]);
    assert.equal(rec.id, id);
    assert.equal(rec.clusterId, 'local');
    assert.equal(rec.specName, 'python3');
    assert.equal(rec.startedAt, info.startedAt);
    assert.equal(rec.details.kind, 'local');
    if (rec.details.kind !== 'local') return;
    const pid = rec.details.pid;
    pids.add(rec.details.pgid);
    assert.ok(rec.details.connection.key.length > 0, 'the connection info (with its key) is kept');
    assert.ok(alive(pid), 'the kernel process outlives the closed core');
    assert.ok(processesMatching(id).length > 0);
    await assert.rejects(fetch(`${c1.proxyUrl}api`), 'the first proxy is closed');

    const lines: LogLine[] = [];
    const t0 = Date.now();
    const c2 = await core(dataDir, lines);
    assert.ok(Date.now() - t0 < 5000, 'a busy kernel is re-attached without waiting for its cell');
    assert.deepEqual(c2.restored.reattached, [id]);
    assert.equal(c2.restored.cause, 'left-running');
    assert.ok(
      lines.some(
        (l) => l.level === 'info' && /Re-attached 1 kernel left running at last quit/.test(l.message),
      ),
    );
    assert.deepEqual(
      c2.registry.list().map((k) => [k.id, k.specName, k.clusterId, k.startedAt]),
      [[id, 'python3', 'local', info.startedAt]],
    );
    const res = await api(c2, `/api/kernels/${id}`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.ok(!body.includes(rec.details.connection.key), 'the HMAC key is not served');
    const b = await connect(c2, id);
    const out = await b.client.execute('print(x + 1)', b.session);
    assert.equal(out.stdout, '42\n');
    b.client.close();
    // Still owner-only and rewritten as this core's journal.
    await waitFor(
      () => readState(dataDir).pid === process.pid && readState(dataDir).status === 'running',
      10_000,
      'journal',
    );

    await c2.registry.shutdown(id);
    await waitFor(() => !alive(pid) && processesMatching(id).length === 0, 15_000, 'the kernel to exit');
    await waitFor(() => !existsSync(file), 10_000, 'the state file to go once no kernel is left');
    await c2.close();
    pids.delete(rec.details.pgid);
  });

  test('a corrupt state file is moved aside with an error naming it; startup goes on', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, LEFT_RUNNING_FILE);
    writeFileSync(file, '{"version": 1, "kernels": [', { mode: 0o600 });
    const lines: LogLine[] = [];
    const c = await core(dataDir, lines);
    const err = lines.find((l) => l.level === 'error');
    assert.ok(err, 'an error is logged');
    assert.ok(err.message.includes(file), `the error names the file: ${err.message}`);
    assert.ok(!existsSync(file));
    assert.equal(readdirSync(dataDir).filter((n) => n.startsWith(`${LEFT_RUNNING_FILE}.corrupt-`)).length, 1);
    assert.deepEqual(c.registry.list(), []);
    assert.equal((await api(c, '/api/kernels')).status, 200, 'the proxy serves');
    await c.close();
  });

  test('a kernel left running that died meanwhile is dropped with a log line', async () => {
    const dataDir = tempDir();
    const c1 = await core(dataDir);
    const { id } = await c1.registry.start('python3');
    await c1.close({ leaveRunning: true });
    const rec = localRecord(readState(dataDir).kernels[0]);
    assert.equal(rec.details.kind, 'local');
    if (rec.details.kind !== 'local') return;
    const { pgid, pid, connectionFile } = rec.details;
    process.kill(-pgid, 'SIGKILL');
    await waitFor(() => !alive(pid), 10_000, 'the kernel to die');
    const lines: LogLine[] = [];
    const c2 = await core(dataDir, lines);
    assert.deepEqual(c2.restored.reattached, []);
    assert.deepEqual(
      c2.restored.dropped.map((d) => d.id),
      [id],
    );
    assert.ok(lines.some((l) => l.level === 'warn' && l.message.includes(id) && /dropped/.test(l.message)));
    assert.deepEqual(c2.registry.list(), []);
    if (connectionFile) assert.ok(!existsSync(connectionFile), 'its connection file is removed');
    await waitFor(() => !existsSync(path.join(dataDir, LEFT_RUNNING_FILE)), 10_000, 'the state file to go');
    await c2.close();
  });

  test('after a crash (SIGKILL) the journal re-attaches the kernels that kept running', async () => {
    const dataDir = tempDir();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'fixtures', 'core-then-crash.ts'),
        dataDir,
        SYSTEM_KERNELS,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let errText = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    const line = await waitFor(
      () => out.split('\n').find((l) => l.startsWith('{')),
      60_000,
      `the fixture: ${errText}`,
    );
    const { id } = JSON.parse(line) as { id: string };
    const rec = localRecord(readState(dataDir).kernels[0]);
    if (rec.details.kind === 'local') pids.add(rec.details.pgid);
    child.kill('SIGKILL');
    await exited;
    // ipykernel's parent poller checks every second: an untied kernel must still run after that.
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(processesMatching(id).length > 0, 'the kernel survived the crash');
    const lines: LogLine[] = [];
    const c = await core(dataDir, lines);
    assert.deepEqual(c.restored.reattached, [id]);
    assert.equal(c.restored.cause, 'crash');
    assert.ok(lines.some((l) => /exited unexpectedly/.test(l.message)));
    const s = await connect(c, id);
    assert.equal((await s.client.execute('print(6 * 7)', s.session)).stdout, '42\n');
    s.client.close();
    await c.close(); // the default close shuts it down
    await waitFor(() => processesMatching(id).length === 0, 15_000, 'the kernel to exit');
    assert.ok(!existsSync(path.join(dataDir, LEFT_RUNNING_FILE)));
    if (rec.details.kind === 'local') pids.delete(rec.details.pgid);
  });
});
