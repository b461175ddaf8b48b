// `npm run serve` as a child process for tests that need the proxy in its own process: to kill it, to watch
// its memory and descriptors, or to see that it survives what a client sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServeProcess {
  url: string;
  token: string;
  dataDir: string;
  child: ChildProcess;
  pid: number;
  /** Everything serve printed on stderr so far. */
  err: () => string;
  /** Resolves with the exit code (or signal name) once serve exits. */
  exit: Promise<number | string>;
  /** fetch with the token. */
  api: (pathname: string, init?: RequestInit) => Promise<Response>;
  /** The WebSocket URL of a kernel's channels. */
  channelsUrl: (kernelId: string, sessionId: string) => string;
  /** Resident memory (MB) and open descriptors of the serve process. */
  rssMb: () => number;
  openFds: () => number;
  /** SIGTERM (waits for the exit), then remove the data dir unless it was given. */
  stop: () => Promise<void>;
}

export interface ServeOptions {
  args?: string[];
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  token?: string;
  readyTimeoutMs?: number;
}

export async function startServe(opts: ServeOptions = {}): Promise<ServeProcess> {
  const token = opts.token ?? `serve-test-${Math.random().toString(36).slice(2)}`;
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gd-serve-'));
  const argv = ['--import', 'tsx', 'electron/serve.ts', '--data-dir', dataDir, '--token', token];
  const child = spawn(process.execPath, [...argv, ...(opts.args ?? [])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1', ...opts.env },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let url: string | undefined;
  while (!(url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0])) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not become ready:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const readyUrl = url;
  const pid = child.pid as number;
  return {
    url: readyUrl,
    token,
    dataDir,
    child,
    pid,
    err: () => err,
    exit,
    api: (pathname, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('Authorization', `token ${token}`);
      return fetch(new URL(pathname, readyUrl), { ...init, headers });
    },
    channelsUrl: (kernelId, sessionId) =>
      `${readyUrl.replace(/^http/, 'ws')}api/kernels/${kernelId}/channels?session_id=${encodeURIComponent(sessionId)}`,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    openFds: () => readdirSync(`/proc/${pid}/fd`).length,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
        await exit;
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
