// One way to start Debian's Jupyter Server 1.23 for tests: as a token-protected upstream gateway (the
// "university gateway"), or as a client of our proxy with --gateway-url (what JupyterLab does). It runs in
// its own process group with a private HOME/config/runtime dir, and is killed (group-wide) on stop() or,
// as a safety net, when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './free-port';

export { freeTcpPort };

export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface JupyterServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8888 */
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  /** Where it writes its kernels' connection files (`kernel-<id>.json`). */
  runtimeDir: string;
  /** Everything the server printed so far (for assertion messages). */
  log: () => string;
  stop: () => Promise<void>;
}

export interface JupyterServerOptions {
  token?: string;
  port?: number;
  /** TLS: both files make it serve https. */
  certfile?: string;
  keyfile?: string;
  rootDir?: string;
  /** Make it a gateway client of this URL (our proxy), authenticating with gatewayToken. */
  gatewayUrl?: string;
  gatewayToken?: string;
  /** iopub rate limits are off unless this is false (they would throttle output tests). */
  rateLimitsOff?: boolean;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

// Process groups this test process started; killed when it exits even if an after() hook did not run.
const startedGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of startedGroups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Start it; resolves once it accepts connections (Tornado listens only when the app is ready). */
export async function startJupyterServer(opts: JupyterServerOptions = {}): Promise<JupyterServer> {
  const token = opts.token ?? randomUUID().replace(/-/g, '');
  const port = opts.port ?? (await freeTcpPort());
  const home = mkdtempSync(join(tmpdir(), 'gd-jsrv-'));
  const root = opts.rootDir ?? join(home, 'root');
  mkdirSync(root, { recursive: true });
  const tls = Boolean(opts.certfile && opts.keyfile);
  const args = [
    '-m',
    'jupyter_server',
    '--allow-root',
    '--no-browser',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${root}`,
    ...(opts.rateLimitsOff === false
      ? []
      : ['--ServerApp.iopub_data_rate_limit=0', '--ServerApp.iopub_msg_rate_limit=0']),
    ...(tls ? [`--ServerApp.certfile=${opts.certfile}`, `--ServerApp.keyfile=${opts.keyfile}`] : []),
    ...(opts.gatewayUrl
      ? [
          `--gateway-url=${opts.gatewayUrl.replace(/\/+$/, '')}`,
          ...(opts.gatewayToken ? [`--GatewayClient.auth_token=${opts.gatewayToken}`] : []),
        ]
      : []),
    ...(opts.extraArgs ?? []),
  ];
  let out = '';
  const proc = spawn(SYSTEM_PYTHON, args, {
    env: {
      ...process.env,
      PYDEVD_DISABLE_FILE_VALIDATION: '1',
      HOME: home,
      JUPYTER_CONFIG_DIR: join(home, 'config'),
      JUPYTER_DATA_DIR: join(home, 'data'),
      JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
      JUPYTER_PLATFORM_DIRS: '1',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = proc.pid;
  if (pgid) startedGroups.add(pgid);
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  proc.on('exit', () => {
    exited = true;
  });

  const stop = async (): Promise<void> => {
    if (pgid) {
      if (!exited) killGroup(pgid, 'SIGTERM');
      const t = Date.now();
      while (!exited && Date.now() - t < 8000) await sleep(50);
      // SIGKILL the group even after a clean exit: kernels it started must not outlive it.
      killGroup(pgid, 'SIGKILL');
      while (!exited && Date.now() - t < 10_000) await sleep(50);
      startedGroups.delete(pgid);
    }
    rmSync(home, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`jupyter_server exited before it listened on port ${port}:\n${out}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter_server did not listen on port ${port} in time:\n${out}`);
    }
    await sleep(150);
  }
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    token,
    proc,
    runtimeDir: join(home, 'runtime'),
    log: () => out,
    stop,
  };
}
