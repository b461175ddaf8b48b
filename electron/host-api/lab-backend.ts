// "Open JupyterLab" for the host service, on top of the lab launcher (electron/lab): find an installation
// (or use the command from the settings), start it against the proxy with a fresh token, report status
// changes, keep its log tail for the UI, and stop it when asked or when the app closes.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findLabInstalls } from '../lab/discover';
import { launchLab, LabLaunchError, tailOf, type LabServer } from '../lab/launcher';
import type { BackendLab } from './backend';
import { LAB_NOT_INSTALLED_MESSAGE, labInstallGuide } from './lab-install-guide';
import type { LabStatus, OpenLabOptions } from './models';

export interface LabBackendOptions {
  proxyUrl: string;
  token: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Launcher (tests pass a stand-in). */
  launch?: typeof launchLab;
  find?: typeof findLabInstalls;
  /** Whose install steps to show (tests pass one). */
  platform?: NodeJS.Platform;
}

export function createLabBackend(opts: LabBackendOptions): BackendLab & { dispose(): Promise<void> } {
  const launch = opts.launch ?? launchLab;
  const find = opts.find ?? findLabInstalls;
  const listeners = new Set<(s: LabStatus) => void>();
  let server: LabServer | null = null;
  let starting: Promise<LabStatus> | null = null;
  let status: LabStatus = {
    state: 'stopped',
    url: null,
    message: 'JupyterLab is not running.',
    installHint: null,
    log: [],
  };

  const set = (s: LabStatus): LabStatus => {
    status = s;
    for (const l of [...listeners]) l(s);
    return s;
  };

  const logLines = (file: string): string[] => tailOf(file, 40).split('\n');

  return {
    async open(o: OpenLabOptions): Promise<LabStatus> {
      if (server?.running) return status;
      if (starting) return starting;
      const installs = find({ env: opts.env, userCommand: o.command || undefined });
      const chosen = installs[0];
      if (!chosen)
        return set({
          state: 'not-installed',
          url: null,
          message: LAB_NOT_INSTALLED_MESSAGE,
          installHint: labInstallGuide(opts.platform),
          log: [],
        });
      const logFile = join(opts.dataDir, 'logs', `lab-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
      set({ state: 'starting', url: null, message: `Starting ${chosen.label}…`, installHint: null, log: [] });
      starting = (async () => {
        try {
          const s = await launch({
            command: chosen.command,
            gatewayUrl: opts.proxyUrl,
            gatewayToken: opts.token,
            notebookDir: o.notebookDir || opts.env?.HOME || homedir(),
            logFile,
            env: opts.env,
          });
          server = s;
          void s.exited.then((code) => {
            if (server !== s) return;
            server = null;
            set({
              state: code === 0 || code === null ? 'stopped' : 'failed',
              url: null,
              message:
                code === 0 || code === null ? 'JupyterLab stopped.' : `JupyterLab exited with code ${code}.`,
              installHint: null,
              log: logLines(s.logFile),
            });
          });
          return set({
            state: 'running',
            url: s.url,
            message: `JupyterLab (${chosen.label}) runs at ${s.baseUrl}; its kernels go through the gateway.`,
            installHint: null,
            log: [],
          });
        } catch (err) {
          const tail = err instanceof LabLaunchError ? err.logTail.split('\n') : logLines(logFile);
          const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
          return set({
            state: 'failed',
            url: null,
            message: `JupyterLab did not start: ${msg}`,
            installHint: null,
            log: tail,
          });
        } finally {
          starting = null;
        }
      })();
      return starting;
    },
    status: () => status,
    async stop(): Promise<LabStatus> {
      const s = server;
      server = null;
      if (s) await s.stop();
      return set({ state: 'stopped', url: null, message: 'JupyterLab stopped.', installHint: null, log: [] });
    },
    onStatus(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async dispose() {
      const s = server;
      server = null;
      if (s) await s.stop().catch(() => undefined);
      listeners.clear();
    },
  };
}
