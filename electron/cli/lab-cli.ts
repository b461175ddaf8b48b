// `npm run lab -- [--cluster NAME] [--dir DIR] [--command "…"]`: open JupyterLab against the Gateway Desktop
// proxy. Uses the app (or `npm run serve`) already running for the data dir when there is one; otherwise
// starts the proxy in this process (with the clusters from clusters.json) and stops it again on exit.
// Prints the Lab URL; on SIGINT/SIGTERM stops JupyterLab and everything this command started.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { homedir } from 'node:os';
import { ClusterStore, StoreError } from '../clusters/store';
import { findLabInstalls, INSTALL_HINT, splitCommand } from '../lab/discover';
import { launchLab, LabLaunchError, tailOf, type LabServer } from '../lab/launcher';
import { findRunningProxy } from '../lab/running-app';
import { defaultDataDir } from './data-dir';
import { createAppCore, type AppCore } from '../app-core';

export const LAB_USAGE = `Usage: npm run lab -- [--cluster NAME] [--dir DIR] [--command "…"] [options]

Opens JupyterLab with its kernels going through Gateway Desktop: JupyterLab is started with
--gateway-url at the Gateway Desktop proxy, so you can switch clusters (npm run cluster -- use NAME)
without restarting it. Prints the address to open; Ctrl-C stops JupyterLab (and the proxy, if this
command started it).

  --cluster NAME   make NAME the active cluster first (new kernels start there)
  --dir DIR        the notebook folder JupyterLab shows (default: your home folder)
  --command "…"    the command to run instead of the JupyterLab found on this computer, e.g.
                   "jupyter notebook", "jupyter nbclassic", "/usr/bin/python3 -m jupyter_server"
  --list           list the JupyterLab installations found, and exit
  --port P         port for JupyterLab (default: a free port)
  --proxy-port P   port for the proxy when this command starts it (default: a free port)
  --timeout S      seconds to wait for JupyterLab to answer (default 90)
  --data-dir D     data directory (default: ${defaultDataDir()})
  -h, --help       show this help

If Gateway Desktop (or "npm run serve") runs for the same data directory, its proxy is used; otherwise
this command starts the proxy itself, with the clusters from <data-dir>/clusters.json.
JupyterLab's log is kept in <data-dir>/logs/lab-<time>.log.
`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface LabCliSession {
  lab: LabServer;
  core: AppCore | null;
  proxyUrl: string;
  /** Stop JupyterLab, then the in-process proxy (if any). Idempotent. */
  stop(): Promise<void>;
}

/** Parse, prepare and launch. Returns the running session, or an exit code when there is nothing to run. */
export async function startLabFromCli(argv: string[], io: Io): Promise<LabCliSession | number> {
  let o;
  try {
    o = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        cluster: { type: 'string' },
        dir: { type: 'string' },
        command: { type: 'string' },
        list: { type: 'boolean' },
        port: { type: 'string' },
        'proxy-port': { type: 'string' },
        timeout: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    io.err(`lab: ${(e as Error).message}\nRun "npm run lab -- --help" for the options.\n`);
    return 2;
  }
  if (o.help) {
    io.out(LAB_USAGE);
    return 0;
  }
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`${flag} must be a number, not "${v}"`);
    return Number(v);
  };
  let port: number | undefined;
  let proxyPort: number | undefined;
  let timeoutS: number | undefined;
  try {
    port = num('--port', o.port);
    proxyPort = num('--proxy-port', o['proxy-port']);
    timeoutS = num('--timeout', o.timeout);
    if (o.command !== undefined && splitCommand(o.command).length === 0)
      throw new Error('--command is empty');
  } catch (e) {
    io.err(`lab: ${(e as Error).message}\n`);
    return 2;
  }
  const dataDir = path.resolve(o['data-dir'] ?? defaultDataDir(io.env));

  const installs = findLabInstalls({ env: io.env, userCommand: o.command });
  if (o.list) {
    if (!installs.length) io.out(`${INSTALL_HINT}\n`);
    for (const i of installs) io.out(`${i.label}\n    ${i.command.join(' ')}\n`);
    return 0;
  }
  const chosen = installs[0];
  if (!chosen) {
    io.err(`lab: ${INSTALL_HINT}\n`);
    return 1;
  }

  // Active cluster first (a running app follows the change through its file watch).
  const store = ClusterStore.open(dataDir);
  try {
    if (store.problem) io.err(`lab: warning: ${store.problem.message}\n`);
    if (o.cluster) {
      const c = store.setActive(o.cluster);
      io.out(`Active cluster: ${c.name}\n`);
    } else {
      io.out(`Active cluster: ${store.active().name}\n`);
    }
  } catch (e) {
    io.err(`lab: ${e instanceof StoreError ? e.message : String(e)}\n`);
    return 1;
  } finally {
    store.close();
  }

  let core: AppCore | null = null;
  let proxyUrl: string;
  let proxyToken: string;
  const running = await findRunningProxy(dataDir);
  if (running) {
    proxyUrl = running.url;
    proxyToken = running.token;
    io.out(`Using the Gateway Desktop proxy already running at ${proxyUrl} (pid ${running.pid})\n`);
  } else {
    core = await createAppCore({ dataDir, port: proxyPort ?? 0, clusterStore: true });
    proxyUrl = core.proxyUrl;
    proxyToken = core.token;
    io.out(`Started the Gateway Desktop proxy at ${proxyUrl} (stops when this command ends)\n`);
  }

  const logFile = path.join(dataDir, 'logs', `lab-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  let lab: LabServer;
  try {
    io.out(`Starting ${chosen.label} …\n`);
    lab = await launchLab({
      command: chosen.command,
      gatewayUrl: proxyUrl,
      gatewayToken: proxyToken,
      notebookDir: path.resolve(o.dir ?? io.env.HOME ?? homedir()),
      logFile,
      port,
      startTimeoutMs: timeoutS !== undefined ? timeoutS * 1000 : undefined,
    });
  } catch (e) {
    await core?.close();
    io.err(`lab: JupyterLab did not start: ${e instanceof LabLaunchError ? e.message : String(e)}\n`);
    return 1;
  }
  io.out(`JupyterLab is ready: ${lab.url}\n`);
  io.out(
    `  notebooks: ${path.resolve(o.dir ?? io.env.HOME ?? homedir())}\n  log: ${lab.logFile}\n  Press Ctrl-C to stop.\n`,
  );
  let stopping: Promise<void> | null = null;
  return {
    lab,
    core,
    proxyUrl,
    stop: () => {
      if (!stopping) {
        stopping = (async () => {
          await lab.stop();
          await core?.close();
        })();
      }
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  const io: Io = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
  };
  let session: LabCliSession | number;
  try {
    session = await startLabFromCli(process.argv.slice(2), io);
  } catch (e) {
    io.err(`lab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  if (typeof session === 'number') {
    process.exitCode = session;
    return;
  }
  const s = session;
  let done = false;
  const finish = (code: number, why: string): void => {
    if (done) return;
    done = true;
    io.err(`lab: ${why}; stopping JupyterLab${s.core ? ' and the proxy' : ''}\n`);
    const force = setTimeout(() => process.exit(code || 1), 60_000);
    force.unref();
    s.stop().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => finish(0, 'SIGINT'));
  process.on('SIGTERM', () => finish(0, 'SIGTERM'));
  process.on('SIGHUP', () => finish(0, 'SIGHUP'));
  void s.lab.exited.then((code) => {
    if (done) return;
    io.err(`lab: JupyterLab exited on its own (code ${String(code)}). Last lines of ${s.lab.logFile}:\n`);
    io.err(tailOf(s.lab.logFile) + '\n');
    finish(code === 0 ? 0 : 1, 'JupyterLab ended');
  });
}

const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (/lab-cli\.ts$/.test(entry)) void main();
