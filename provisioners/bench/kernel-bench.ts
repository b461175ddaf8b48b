// Measures the provisioner library against the real ipykernel (not a test: prints figures).
//   node --import tsx provisioners/bench/kernel-bench.ts [starts=5] [executes=100]
import { randomUUID } from 'node:crypto';
import { loadKernelSpec } from '../kernelspec/discovery';
import { startKernel } from '../start';
import type { KernelManager } from '../kernel-manager';
import type { KernelSpec } from '../types';
import { makeMessage, parseHeader } from '../zmq/wire';

const starts = Number(process.argv[2] ?? 5);
const executes = Number(process.argv[3] ?? 100);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function roundTrips(km: KernelManager, n: number): Promise<{ reply: number[]; idle: number[] }> {
  const session = `bench-${randomUUID()}`;
  let waiting: { id: string; t0: number; reply?: number; idle?: boolean; done: () => void } | undefined;
  const port = km.openPort(session, (m) => {
    if (!waiting) return;
    const parent = m.parentHeader.length > 2 ? parseHeader(m.parentHeader).msg_id : undefined;
    if (parent !== waiting.id) return;
    const type = parseHeader(m.header).msg_type;
    if (type === 'execute_reply') waiting.reply = performance.now() - waiting.t0;
    // iopub and shell are different sockets: the idle status may arrive before the reply.
    if (type === 'status' && m.content.includes('idle')) waiting.idle = true;
    if (waiting.idle && waiting.reply !== undefined) waiting.done();
  });
  const reply: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < n + 5; i++) {
    const msg = makeMessage(
      'shell',
      'execute_request',
      { code: '1+1', silent: false, store_history: true },
      session,
    );
    const id = parseHeader(msg.header).msg_id;
    const t0 = performance.now();
    await new Promise<void>((done) => {
      waiting = { id, t0, done };
      port.send(msg);
    });
    if (i >= 5) {
      reply.push(waiting?.reply ?? NaN);
      idle.push(performance.now() - t0);
    }
  }
  port.close();
  return { reply, idle };
}

async function main(): Promise<void> {
  const spec = (await loadKernelSpec('/usr/share/jupyter/kernels/python3', 'python3')) as KernelSpec;
  const env = { PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  const startTimes: number[] = [];
  const spawnToInfo: number[] = [];
  let last: KernelManager | undefined;
  for (let i = 0; i < starts; i++) {
    let spawnAt = 0;
    const t0 = performance.now();
    const km = await startKernel({
      kernelId: randomUUID(),
      spec,
      env,
      onProgress: (p) => {
        if (p.phase === 'spawning') spawnAt = performance.now();
      },
    });
    const t = performance.now();
    startTimes.push(t - t0);
    spawnToInfo.push(t - spawnAt);
    if (i < starts - 1) await km.shutdown();
    else last = km;
  }
  console.log(
    `start → kernel_info_reply (+ iopub live): median ${median(startTimes).toFixed(0)} ms ` +
      `(min ${Math.min(...startTimes).toFixed(0)}, max ${Math.max(...startTimes).toFixed(0)}, n=${starts}); ` +
      `spawn → ready median ${median(spawnToInfo).toFixed(0)} ms`,
  );
  const km = last as KernelManager;
  const { reply, idle } = await roundTrips(km, executes);
  console.log(
    `execute 1+1 → execute_reply: median ${median(reply).toFixed(2)} ms, p90 ${pct(reply, 90).toFixed(2)} ms; ` +
      `→ idle: median ${median(idle).toFixed(2)} ms (n=${executes})`,
  );
  const t = performance.now();
  await km.shutdown();
  console.log(`shutdown: ${(performance.now() - t).toFixed(0)} ms`);
}

await main();
