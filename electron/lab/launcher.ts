// Launch a JupyterLab (or Notebook, or plain Jupyter Server) whose kernels go through the Gateway Desktop
// proxy: --gateway-url / --GatewayClient.auth_token at the proxy, --no-browser, a fresh server token, the
// notebook folder, a free port on 127.0.0.1. Waits until it answers, keeps its log in a file, and stops it
// (its whole process group) on request.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { splitCommand } from './discover';

export interface LabLaunchOptions {
  /** The command (argv prefix or a command line), e.g. ['jupyter-lab'] or "python3 -m jupyter_server". */
  command: string[] | string;
  /** The proxy: http://127.0.0.1:P/ and its token. */
  gatewayUrl: string;
  gatewayToken: string;
  /** Folder JupyterLab shows (created if missing). */
  notebookDir: string;
  /** Log file (appended; its folder is created). */
  logFile: string;
  /** Port for the server (default: a free one). */
  port?: number;
  /** Token for the server (default: fresh random). */
  token?: string;
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the server to answer (default 90 s). */
  startTimeoutMs?: number;
  /** More arguments appended after ours. */
  extraArgs?: string[];
}

export interface LabServer {
  /** Open this in a browser/app window: includes the token. */
  readonly url: string;
  /** http://127.0.0.1:P/ */
  readonly baseUrl: string;
  readonly token: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  readonly argv: string[];
  readonly running: boolean;
  /** Resolves with the exit code (or null after a signal) when the server ends. */
  readonly exited: Promise<number | null>;
  /** SIGTERM the process group, wait, then SIGKILL. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export class LabLaunchError extends Error {
  override name = 'LabLaunchError';
  constructor(
    message: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- last lines of ${logFile} ---\n${logTail}`);
  }
}

export async function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function tailOf(file: string, lines = 30): string {
  try {
    const st = statSync(file);
    const text = readFileSync(file, 'utf8').slice(Math.max(0, st.size - 64 * 1024));
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Which page to open for a command: /lab for JupyterLab, /tree for Notebook, / otherwise. */
export function landingPath(argv: string[]): string {
  const s = argv.join(' ');
  if (/jupyter-lab|jupyter lab|jupyterlab|\blab\b/.test(s)) return 'lab';
  if (/notebook|nbclassic/.test(s)) return 'tree';
  return '';
}

/** The arguments the launcher appends (exported for tests and for the UI's "show command"). */
export function labArgs(o: {
  port: number;
  token: string;
  notebookDir: string;
  gatewayUrl: string;
  gatewayToken: string;
  root?: boolean;
}): string[] {
  return [
    '--no-browser',
    '--ip=127.0.0.1',
    `--port=${o.port}`,
    '--port-retries=0',
    `--notebook-dir=${o.notebookDir}`,
    `--gateway-url=${o.gatewayUrl.replace(/\/+$/, '')}`,
    `--GatewayClient.auth_token=${o.gatewayToken}`,
    `--ServerApp.token=${o.token}`,
    ...(o.root ? ['--allow-root'] : []),
  ];
}

function probe(port: number, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/api/status',
        headers: { Authorization: `token ${token}` },
        timeout: 3000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export async function launchLab(o: LabLaunchOptions): Promise<LabServer> {
  const prefix = typeof o.command === 'string' ? splitCommand(o.command) : [...o.command];
  if (!prefix.length) throw new Error('the JupyterLab command is empty');
  const port = o.port ?? (await freeLocalPort());
  const token = o.token ?? randomBytes(24).toString('hex');
  const notebookDir = path.resolve(o.notebookDir);
  mkdirSync(notebookDir, { recursive: true });
  mkdirSync(path.dirname(o.logFile), { recursive: true });
  const args = [
    ...prefix.slice(1),
    ...labArgs({
      port,
      token,
      notebookDir,
      gatewayUrl: o.gatewayUrl,
      gatewayToken: o.gatewayToken,
      root: typeof process.getuid === 'function' && process.getuid() === 0,
    }),
    ...(o.extraArgs ?? []),
  ];
  const fd = openSync(o.logFile, 'a', 0o600);
  const redacted = [prefix[0], ...args].map((a) => a.replace(/(auth_token=|ServerApp\.token=).*/, '$1***'));
  let child: ChildProcess;
  try {
    child = spawn(prefix[0], args, {
      cwd: notebookDir,
      env: { ...process.env, ...o.env, JUPYTER_TOKEN: token, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      stdio: ['ignore', fd, fd],
      detached: true, // own process group: stop() ends it and everything it started
    });
  } finally {
    closeSync(fd);
  }
  let exitCode: number | null | undefined;
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running = false;
      exitCode = code;
      resolve(code);
    });
    child.once('error', () => {
      running = false;
      exitCode = -1;
      resolve(-1);
    });
  });
  const spawnError = new Promise<Error | null>((resolve) => {
    child.once('error', (e) => resolve(e));
    child.once('spawn', () => resolve(null));
  });
  const err = await spawnError;
  if (err) {
    throw new LabLaunchError(`cannot run "${prefix[0]}": ${err.message}`, o.logFile, tailOf(o.logFile));
  }

  const signalGroup = (sig: NodeJS.Signals): void => {
    if (!child.pid) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // gone
      }
    }
  };
  let stopping: Promise<void> | null = null;
  const stop = (timeoutMs = 15_000): Promise<void> => {
    if (!stopping) {
      stopping = (async () => {
        if (running) {
          signalGroup('SIGTERM');
          const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
          if ((await Promise.race([exited, t])) === 'timeout') {
            signalGroup('SIGKILL');
            await exited;
          }
        }
        // Whatever it started in its group (kernels it ran itself, helpers) goes too.
        signalGroup('SIGKILL');
      })();
    }
    return stopping;
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 90_000);
  for (;;) {
    if (!running) {
      throw new LabLaunchError(
        `the server exited (code ${String(exitCode)}) before answering: ${redacted.join(' ')}`,
        o.logFile,
        tailOf(o.logFile),
      );
    }
    const status = await probe(port, token);
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new LabLaunchError(
        `the server did not answer on port ${port} within ${Math.round((o.startTimeoutMs ?? 90_000) / 1000)} s`,
        o.logFile,
        tailOf(o.logFile),
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const baseUrl = `http://127.0.0.1:${port}/`;
  const landing = landingPath([prefix[0], ...prefix.slice(1)]);
  return {
    url: `${baseUrl}${landing}?token=${token}`,
    baseUrl,
    token,
    port,
    pid: child.pid ?? -1,
    logFile: o.logFile,
    argv: redacted,
    get running() {
      return running;
    },
    exited,
    stop,
  };
}
