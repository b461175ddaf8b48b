// The host API's JupyterLab methods: the proxy's address and the command line for any Jupyter client, and
// starting, watching and stopping the JupyterLab this app runs. The desktop shell opens a window on the
// lab's URL only for a lab the user asked for.
import type { HostBackend } from './backend';
import { asHostError } from './errors-util';
import type { AppLog } from './log';
import { labCommandLine, type LabStatus, type OpenLabOptions, type ProxyInfo } from './models';
import type { SettingsStore } from './settings';

export interface LabMethodsDeps {
  backend: HostBackend;
  log: AppLog;
  settings: SettingsStore;
  onLabUrl?: (url: string) => void;
}

export class LabMethods {
  private labRequested = false;

  constructor(private readonly d: LabMethodsDeps) {}

  /** The lab's status changed: a lab the user asked for that now runs gets its window. */
  statusChanged(s: LabStatus): void {
    if (s.state === 'running' && s.url && this.labRequested) {
      this.labRequested = false;
      this.d.onLabUrl?.(s.url);
    } else if (s.state !== 'starting') this.labRequested = false;
  }

  async getProxyInfo(): Promise<ProxyInfo> {
    const url = this.d.backend.proxyUrl.replace(/\/+$/, '');
    return { url, token: this.d.backend.token, labCommand: labCommandLine(url, this.d.backend.token) };
  }

  async openLab(opts: OpenLabOptions): Promise<LabStatus> {
    const lab = this.d.backend.lab;
    if (!lab) return this.noLab();
    const s = this.d.settings.get();
    const o: OpenLabOptions = {};
    const dir = opts?.notebookDir || s.notebookDir;
    const cmd = opts?.command || s.labCommand;
    if (dir) o.notebookDir = dir;
    if (cmd) o.command = cmd;
    try {
      this.labRequested = true;
      const st = await lab.open(o);
      this.d.log.write(
        st.state === 'running' || st.state === 'starting' ? 'info' : 'warn',
        'lab',
        st.message,
      );
      if (st.state === 'running' && st.url && this.labRequested) {
        this.labRequested = false;
        this.d.onLabUrl?.(st.url);
      }
      return st;
    } catch (err) {
      throw asHostError(err, 'unavailable');
    }
  }

  async getLabStatus(): Promise<LabStatus> {
    return this.d.backend.lab ? this.d.backend.lab.status() : this.noLab();
  }

  async stopLab(): Promise<LabStatus> {
    return this.d.backend.lab ? this.d.backend.lab.stop() : this.noLab();
  }

  private async noLab(): Promise<LabStatus> {
    const p = await this.getProxyInfo();
    return {
      state: 'unavailable',
      url: null,
      message: 'This build cannot start JupyterLab for you. Run the command below in a terminal instead.',
      installHint: `pip install jupyterlab, then: ${p.labCommand}`,
      log: [],
    };
  }
}
