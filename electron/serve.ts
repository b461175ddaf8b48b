// `npm run serve -- --port P --token T --data-dir D [--host 127.0.0.1]`
// Headless Gateway Desktop: the gateway proxy with the default cluster "This computer". Prints one line with
// `http://127.0.0.1:P/` once requests are accepted; on SIGINT/SIGTERM shuts every kernel down and exits 0
// (with --leave-kernels-running: leaves them running for the next start to re-attach, and exits 0).
// Bad flags: a message on stderr and exit code 2.
import { homedir } from 'node:os';
import path from 'node:path';
import { createAppCore, type AppCore, type AppCoreExtension } from './app-core';
// Host API (issue 4): the UI at `/` and its WebSocket at /host-api, on the proxy's server.
import { hostApiExtension } from './host-api/mount';
import { installLastResortHandlers } from './process/last-resort';

const USAGE = `Usage: npm run serve -- [--port P] [--token T] [--data-dir D] [--host H]

Starts the Gateway Desktop gateway proxy (Jupyter Kernel Gateway API) without a window.

  --port P       TCP port (default: a free port)
  --token T      token every request must carry (default: a random token, printed once)
  --data-dir D   per-user data directory (default: ${defaultDataDir()})
  --host H       interface to bind (default: 127.0.0.1)
  --leave-kernels-running
                 on SIGINT/SIGTERM leave kernels running (the next start re-attaches them)
                 instead of shutting them down
  --max-message-mb N
                 largest WebSocket message a client may send to a kernel (default 256)
  --max-inflight-mb N
                 memory all clients' incoming messages may hold at once; bigger ones wait
                 (default 256)
  -h, --help     show this help
`;

/** The per-user data directory: XDG_DATA_HOME/~/.local/share, ~/Library/Application Support, %APPDATA%. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Gateway Desktop');
  if (platform === 'win32') {
    return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Gateway Desktop');
  }
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'gateway-desktop');
}

export interface ServeArgs {
  port: number;
  token?: string;
  dataDir: string;
  host: string;
  help: boolean;
  /** Kernels may outlive serve and are left running on SIGINT/SIGTERM (default: shut down). */
  leaveKernelsRunning: boolean;
  /** Client message limits in bytes (proxy defaults when absent). */
  maxMessageBytes?: number;
  maxInflightBytes?: number;
}

/** Thrown for bad command-line flags (exit code 2). */
export class UsageError extends Error {}

/** Parse serve flags (`--flag value` or `--flag=value`). */
export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  const out: ServeArgs = {
    port: 0,
    dataDir: defaultDataDir(env),
    host: '127.0.0.1',
    help: false,
    leaveKernelsRunning: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (arg === '--leave-kernels-running') {
      out.leaveKernelsRunning = true;
      continue;
    }
    const m = /^(--[a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument: ${arg}`);
    const flag = m[1];
    if (
      !['--port', '--token', '--data-dir', '--host', '--max-message-mb', '--max-inflight-mb'].includes(flag)
    )
      throw new UsageError(`unknown flag: ${flag}`);
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      value = next;
      i++;
    }
    switch (flag) {
      case '--port': {
        if (!/^\d+$/.test(value) || Number(value) > 65535) {
          throw new UsageError(`--port must be a number from 0 to 65535, not "${value}"`);
        }
        out.port = Number(value);
        break;
      }
      case '--token':
        if (!value.trim()) throw new UsageError('--token must not be empty');
        out.token = value;
        break;
      case '--data-dir':
        if (!value) throw new UsageError('--data-dir must not be empty');
        out.dataDir = path.resolve(value);
        break;
      case '--host':
        if (!value) throw new UsageError('--host must not be empty');
        out.host = value;
        break;
      case '--max-message-mb':
      case '--max-inflight-mb': {
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 4096) {
          throw new UsageError(`${flag} must be a whole number of megabytes from 1 to 4096, not "${value}"`);
        }
        const bytes = Number(value) * 1024 * 1024;
        if (flag === '--max-message-mb') out.maxMessageBytes = bytes;
        else out.maxInflightBytes = bytes;
        break;
      }
    }
  }
  return out;
}

/** Extensions serve mode adds on top of the core (host API, static UI); registered by other modules. */
export const serveExtensions: AppCoreExtension[] = [];

async function main(): Promise<void> {
  let args: ServeArgs;
  try {
    args = parseServeArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`serve: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  installLastResortHandlers((line) => process.stderr.write(`serve: ${line}\n`));
  let core: AppCore;
  try {
    core = await createAppCore({
      dataDir: args.dataDir,
      host: args.host,
      port: args.port,
      token: args.token,
      proxyOptions: {
        maxPayload: args.maxMessageBytes,
        maxInflightBytes: args.maxInflightBytes,
        maxPayloadHint: 'serve --max-message-mb',
      },
      clusterStore: true, // issue 5: clusters from <data-dir>/clusters.json (npm run cluster), live
      // Only with the flag: otherwise kernels keep JPY_PARENT_PID and die with serve, even when it is killed.
      kernelsOutliveApp: args.leaveKernelsRunning,
      extensions: [...serveExtensions, hostApiExtension({ shell: 'browser', serveUi: true })],
    });
  } catch (err) {
    process.stderr.write(`serve: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const leave = args.leaveKernelsRunning;
    process.stderr.write(
      `serve: ${signal}: ${leave ? 'leaving kernels running' : 'shutting down kernels'}\n`,
    );
    const force = setTimeout(() => {
      process.stderr.write('serve: shutdown took too long; exiting\n');
      process.exit(1);
    }, 45_000);
    force.unref();
    core.close({ leaveRunning: leave }).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`serve: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  const tokenNote = core.tokenGenerated ? ` (token: ${core.token})` : '';
  process.stdout.write(`Gateway Desktop proxy ready at ${core.proxyUrl}${tokenNote}\n`);
  process.stderr.write(
    `serve: open the app in a browser: ${core.proxyUrl}?token=${encodeURIComponent(core.token)}\n`,
  );
}

const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (entry === path.resolve(new URL(import.meta.url).pathname) || /serve\.ts$/.test(entry)) {
  void main();
}
