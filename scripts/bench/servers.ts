// Child servers the benchmark measures: Gateway Desktop's headless `serve`, and Debian's Jupyter Server
// (as a peer gateway, and as the "lab path" client started with --gateway-url at the proxy).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort as freePort } from '../testing/free-port';
import { startJupyterServer as startTestingJupyterServer } from '../testing/jupyter-server';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface RunningServer {
  url: string; // http://127.0.0.1:P
  token: string;
  pid: number;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, timeoutMs = 15000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitForHttp(
  url: string,
  token: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 60000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${log()}`);
    try {
      const r = await fetch(`${url}/api/kernelspecs`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server at ${url} did not answer within ${timeoutMs} ms:\n${log()}`);
}

function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => out };
}

/** Debian's Jupyter Server 1.23 with rate limits off; optionally in gateway mode against `gatewayUrl`. */
export async function startJupyterServer(
  opts: { gatewayUrl?: string; gatewayToken?: string } = {},
): Promise<RunningServer & { runtimeDir: string }> {
  const js = await startTestingJupyterServer({
    token: randomBytes(16).toString('hex'),
    gatewayUrl: opts.gatewayUrl,
    gatewayToken: opts.gatewayToken,
  });
  return { url: js.url, token: js.token, pid: js.proc.pid!, runtimeDir: js.runtimeDir, stop: js.stop };
}

/** Gateway Desktop's headless proxy (`electron/serve.ts`) on a fresh data dir. */
export async function startServe(
  opts: { dataDir?: string } = {},
): Promise<RunningServer & { dataDir: string }> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'gd-bench-data-'));
  // BENCH_PROXY_NODE_ARGS: extra node flags for the proxy process only, e.g. to profile it during a run:
  //   BENCH_PROXY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench -- --only load
  const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const args = [
    ...nodeArgs,
    '--import',
    'tsx',
    'electron/serve.ts',
    '--port',
    String(port),
    '--token',
    token,
    '--data-dir',
    dataDir,
  ];
  const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  const { child, log } = spawnLogged(process.execPath, args, env);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(url, token, child, log);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    url,
    token,
    pid: child.pid!,
    dataDir,
    stop: async () => {
      await stopChild(child, 30000);
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Run a CLI of ours (e.g. electron/cli/cluster-cli.ts) to completion; throws with its output on failure. */
export function runCli(entry: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const { child, log } = spawnLogged(process.execPath, ['--import', 'tsx', entry, ...args], env);
    child.once('exit', (code) =>
      code === 0 ? resolve(log()) : reject(new Error(`${entry} ${args.join(' ')} → ${code}\n${log()}`)),
    );
  });
}

/** Resident set size (bytes) and total CPU time (ms) of a process, from /proc. */
export function procStats(pid: number): { rss: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { rss: rssKb * 1024, cpuMs: (ticks * 1000) / 100 };
}

/** Whole-machine CPU time (ms, all cores) spent busy and in total, from /proc/stat. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const t = line.trim().split(/\s+/).slice(1).map(Number); // user nice system idle iowait irq softirq steal
  const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = t[3] + t[4];
  return { busyMs: ((total - idle) * 1000) / 100, totalMs: (total * 1000) / 100 };
}

/**
 * Time (ms) the main thread of `pid` spent running and waiting in the run queue (runnable, no CPU given),
 * from /proc/PID/task/PID/schedstat; zeros where the kernel does not provide it.
 */
export function mainThreadSched(pid: number): { runMs: number; waitMs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return { runMs: 0, waitMs: 0 };
  }
}
