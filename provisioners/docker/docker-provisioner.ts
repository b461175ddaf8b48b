// A kernel in its own Docker container (one per kernel, from the kernel environment's image): our launcher
// (gd_launcher.py `run`, copied in before start) is the container's main process. The HMAC key travels on the
// attached stdin, never in the container's env or `inspect`; the launcher's signed report comes back on the
// attached stdout. Signals and shutdown go to the launcher's comm port; the container is removed (force) on
// cleanup, whatever happened: shutdown, failed launch or cancel. Leave running keeps the container.
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { abortError } from '../abort';
import { parseReport, stdinLine, type LauncherReport } from '../remote/launcher-protocol';
import { LINUX_SIGNALS } from '../signals';
import type {
  ConnectionInfo,
  JsonValue,
  KernelProvisioner,
  LaunchBounds,
  LaunchRequest,
  LinkState,
  ProvisionerState,
  SignalNumbers,
} from '../types';
import {
  AttachedOutput,
  containerLogTail,
  ensureImage,
  engineWords,
  readContainerFile,
  statusOf,
} from './container-io';
import { containerName, kernelContainerOptions } from './container-spec';
import { kernelBindIp, readDockerConfig, type DockerKernelHost } from './docker-host';
import { KernelReach, reportedConnection } from './kernel-reach';
import { isOurKernel } from './labels';
import { CONTAINER_LAUNCHER_DIR, CONTAINER_LOG_FILE, launcherArchive } from './launcher-archive';
import { resourcesFromLaunchEnv, type KernelResources } from './resources';

export type { DockerKernelHost } from './docker-host';

/** Gateway Provisioners' name: their `jupyter docker-spec` kernelspecs name it, ours too. */
export const DOCKER_PROVISIONER_NAME = 'docker-provisioner';

export class DockerProvisioner implements KernelProvisioner {
  readonly name = DOCKER_PROVISIONER_NAME;
  readonly pollIntervalMs = 2000;
  readonly signals: SignalNumbers = LINUX_SIGNALS;

  protected req: LaunchRequest | undefined;
  private resources: (KernelResources & { image: string }) | undefined;
  private key = '';
  private containerId: string | undefined;
  private report: LauncherReport | undefined;
  /** Where this computer dials the kernel's ports and comm port: directly, or through an SSH tunnel. */
  private readonly reach: KernelReach;
  private attached: AttachedOutput | undefined;
  private exitCode: number | null = null;
  /** start() was called: a container still 'created' afterwards never ran. */
  private startTried = false;
  /** A create was sent: cleanup must remove the container (by name, even if create's answer never came). */
  private attempted = false;
  private readonly defaults: KernelResources;

  constructor(
    readonly kernelId: string,
    config: Record<string, unknown>,
    protected readonly host: DockerKernelHost,
  ) {
    const c = readDockerConfig(config, host);
    this.defaults = c.resources;
    this.python = c.python;
    this.reach = new KernelReach(kernelId, host);
  }

  private readonly python: string;

  get hasProcess(): boolean {
    return this.report !== undefined && this.exitCode === null;
  }

  /** The kernel's container id (after launch or re-attach). */
  get container(): string | undefined {
    return this.containerId;
  }

  async preLaunch(req: LaunchRequest): Promise<void> {
    this.req = req;
    this.key = randomUUID();
    this.exitCode = null;
    this.startTried = false;
    // KERNEL_* launch variables over the environment's settings; a bad value fails here, before the engine.
    const r = resourcesFromLaunchEnv(req.env, this.defaults);
    if (!r.image)
      throw new Error(
        `No image for kernel "${req.spec.name}" on ${this.host.where}: set the cluster's or the environment's image, or KERNEL_IMAGE`,
      );
    this.resources = { ...r, image: r.image };
  }

  async launch(bounds: LaunchBounds): Promise<ConnectionInfo> {
    const { r, env } = await this.prepare(bounds);
    const container = await this.createKernelContainer(
      bounds,
      kernelContainerOptions({
        kernelId: this.kernelId,
        installId: this.host.installId,
        resources: r,
        command: {
          kind: 'launcher',
          python: this.python,
          argv: this.request().spec.spec.argv,
          bindIp: kernelBindIp(this.host),
          ...(this.host.portRange ? { portRange: this.host.portRange } : {}),
        },
        networkMode: this.host.networkMode,
        env,
      }),
    );
    await this.engineStep('copy the launcher into the container', () =>
      container.putArchive(launcherArchive({ uid: r.uid, gid: r.gid }), { path: CONTAINER_LAUNCHER_DIR }),
    );
    const stream = await this.engineStep('attach to the container', () =>
      container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }),
    );
    const out = new AttachedOutput(this.host.docker, stream);
    this.attached = out;
    await this.startContainer(bounds, container);
    stream.write(stdinLine(this.key, env));
    const got = await out.reportLine(bounds.signal);
    if (bounds.signal.aborted) throw abortError();
    if (!got) throw await this.exitedEarly(container);
    const report = parseReport(got.line, this.key, this.kernelId);
    out.close(); // the engine closes the container's stdin; the launcher no longer reads it
    this.attached = undefined;
    return this.reported(bounds, container, report, this.key);
  }

  /** The launch request, after preLaunch(). */
  protected request(): LaunchRequest {
    if (!this.req) throw new Error('launch() before preLaunch()');
    return this.req;
  }

  /** The image on the engine, then the kernel's env: the spec's, the environment's, the client's, our ids. */
  protected async prepare(
    bounds: LaunchBounds,
  ): Promise<{ r: KernelResources & { image: string }; env: Record<string, string> }> {
    const req = this.request();
    const r = this.resources;
    if (!r) throw new Error('launch() before preLaunch()');
    bounds.progress('image', `Checking image ${r.image} on ${this.host.engine}`);
    await ensureImage(this.host.docker, r.image, {
      pull: this.host.pull,
      engine: this.host.engine,
      signal: bounds.signal,
      progress: (m, d) => bounds.progress('pulling', m, d),
    });
    const env = {
      ...(req.spec.spec.env ?? {}),
      ...(r.env ?? {}),
      ...req.env,
      KERNEL_ID: this.kernelId,
      KERNEL_LANGUAGE: req.spec.spec.language,
    };
    return { r, env };
  }

  /** Create the kernel's container; from here on cleanup removes it (by name if create's answer is lost). */
  protected async createKernelContainer(
    bounds: LaunchBounds,
    options: Docker.ContainerCreateOptions,
  ): Promise<Docker.Container> {
    this.attempted = true;
    const container = await this.engineStep('create the container', () =>
      this.host.docker.createContainer({ ...options, abortSignal: bounds.signal }),
    );
    this.containerId = container.id;
    bounds.progress('created', `Container ${container.id.slice(0, 12)} created from ${options.Image}`);
    return container;
  }

  protected async startContainer(bounds: LaunchBounds, container: Docker.Container): Promise<void> {
    this.startTried = true;
    await this.engineStep('start the container', () => container.start());
    bounds.progress('started', `Container ${container.id.slice(0, 12)} started; waiting for the kernel`);
  }

  /** The kernel reported: dial it where this computer reaches the container. */
  protected async reported(
    bounds: LaunchBounds,
    container: Docker.Container,
    report: LauncherReport,
    key: string,
  ): Promise<ConnectionInfo> {
    this.report = report;
    this.key = key;
    await this.reach.open(report, { container }, bounds.signal);
    const at = this.reach.viaSsh ? `127.0.0.1 on ${this.host.engine}, through SSH` : this.reach.address;
    bounds.progress('connecting', `Kernel runs in container ${container.id.slice(0, 12)} at ${at}`);
    return this.connection();
  }

  async poll(): Promise<number | null> {
    if (this.exitCode !== null) return this.exitCode;
    if (!this.containerId) return -1; // nothing was created (or its creation was cut short): nothing runs
    try {
      const s = (await this.host.docker.getContainer(this.containerId).inspect()).State;
      // 'created' after start() returned or threw: it never ran (an exec error), so it is as good as exited.
      if (s.Running || (s.Status === 'created' && !this.startTried)) return null;
      this.exitCode = s.ExitCode || -1;
    } catch (err) {
      if (statusOf(err) !== 404) return null; // the engine did not answer: unknown, not dead
      this.exitCode = -1; // the container is gone
    }
    return this.exitCode;
  }

  async sendSignal(signal: NodeJS.Signals): Promise<void> {
    if (signal === 'SIGKILL') return this.kill();
    const signum = this.signals[signal];
    if (signum === undefined) throw new Error(`${signal} has no number on Linux`);
    const r = await this.comm({ signum });
    if (!r.delivered && this.containerId)
      await this.host.docker.getContainer(this.containerId).kill({ signal });
  }

  async shutdownRequested(): Promise<void> {
    await this.comm({ shutdown: 1 }).catch(() => undefined);
  }

  async terminate(): Promise<void> {
    await this.sendSignal('SIGTERM').catch(() => undefined);
  }

  async kill(): Promise<void> {
    if (!this.containerId) return;
    await this.host.docker
      .getContainer(this.containerId)
      .kill()
      .catch(() => undefined); // not running any more (409) or gone (404)
  }

  async wait(timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = await this.poll();
      if (code !== null || Date.now() >= deadline) return code;
      await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Remove the container (force): nothing is left after a shutdown, a failed launch or a cancel. */
  async cleanup(): Promise<void> {
    this.attached?.close();
    this.attached = undefined;
    await this.reach.close();
    if (this.attempted) {
      const ref = this.containerId ?? containerName(this.kernelId);
      await this.host.docker
        .getContainer(ref)
        .remove({ force: true, v: true })
        .catch((err: unknown) => {
          if (statusOf(err) !== 404)
            this.host.log(`kernel ${this.kernelId}: removing container ${ref} failed: ${engineWords(err)}`);
        });
    }
    this.attempted = false;
    this.containerId = undefined;
    this.report = undefined;
  }

  /** Leave running: the container keeps running; nothing holds it (a tunnel closes, the kernel stays). */
  async detach(): Promise<void> {
    this.attached?.close();
    this.attached = undefined;
    await this.reach.close();
  }

  onLinkChange(listener: (state: LinkState) => void): () => void {
    return this.reach.onLinkChange(listener);
  }

  getProvisionerInfo(): ProvisionerState {
    const r = this.report;
    const address = this.reach.address;
    if (!r || !this.containerId || !address) throw new Error(`kernel ${this.kernelId} has not been launched`);
    const details: { [k: string]: JsonValue } = {
      containerId: this.containerId,
      address,
      commPort: r.commPort,
    };
    // The kernel's own ports (on the engine's host when tunnelled): a re-attach opens a new tunnel to them.
    const connection = reportedConnection(r, address, this.key, this.req?.spec.name);
    return { provisioner: DOCKER_PROVISIONER_NAME, kernelId: this.kernelId, connection, details };
  }

  /** Re-attach: the container must still run, carry our labels for this kernel, and its launcher must answer. */
  async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    const d = state.details;
    if (typeof d.containerId !== 'string' || typeof d.commPort !== 'number' || typeof d.address !== 'string')
      throw new Error(`saved state of kernel ${state.kernelId} names no container or comm port`);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.host.docker.getContainer(d.containerId).inspect();
    } catch (err) {
      throw new Error(
        `the container of kernel ${state.kernelId} is gone from ${this.host.engine}: ${engineWords(err)}`,
      );
    }
    if (
      !isOurKernel(info.Config.Labels, this.host.installId) ||
      info.Config.Labels.kernel_id !== state.kernelId
    )
      throw new Error(
        `container ${d.containerId.slice(0, 12)} is not the container of kernel ${state.kernelId}`,
      );
    if (!info.State.Running) throw new Error(`the container of kernel ${state.kernelId} has exited`);
    const c = state.connection;
    this.containerId = d.containerId;
    this.key = c.key;
    this.attempted = true;
    this.report = {
      kernelId: state.kernelId,
      ip: c.ip,
      shellPort: c.shell_port,
      iopubPort: c.iopub_port,
      stdinPort: c.stdin_port,
      controlPort: c.control_port,
      hbPort: c.hb_port,
      commPort: d.commPort,
      pid: 0,
      pgid: 0,
      log: CONTAINER_LOG_FILE(state.kernelId),
      launcherVersion: '',
    };
    await this.reach.open(this.report, { address: d.address });
    const status = await this.comm({ status: 1 });
    if (!status.delivered) throw new Error(`the launcher of kernel ${state.kernelId} does not answer`);
    return this.connection();
  }

  /** The kernel's log file in the container (its stdout and stderr), else the container's own log. */
  async outputTail(maxChars = 2000): Promise<string> {
    const ref = this.containerId;
    if (!ref) return '';
    const c = this.host.docker.getContainer(ref);
    const log = await readContainerFile(c, CONTAINER_LOG_FILE(this.kernelId));
    return (log.trim() ? log : await containerLogTail(c, maxChars)).slice(-maxChars);
  }

  private connection(): ConnectionInfo {
    const r = this.report;
    if (!r) throw new Error(`kernel ${this.kernelId} has not been launched`);
    return this.reach.connection(r, this.key, this.req?.spec.name);
  }

  private comm(body: { [k: string]: JsonValue }): Promise<{ delivered: boolean; reply: JsonValue | null }> {
    const r = this.report;
    return r ? this.reach.comm(r, body) : Promise.resolve({ delivered: false, reply: null });
  }

  /** An engine call, its failure said in the engine's words with what we were doing. */
  protected async engineStep<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name === 'AbortError' || this.req?.signal?.aborted) throw abortError();
      throw new Error(`Could not ${what} on ${this.host.engine}: ${engineWords(err)}`, { cause: err });
    }
  }

  /** The container ended before the launcher reported: its exit code and last output. */
  protected async exitedEarly(container: Docker.Container): Promise<Error> {
    // Bounded: a stream can end while the container still runs (the engine dropped the attach).
    const state = await Promise.race([
      container
        .wait({ condition: 'not-running' })
        .then((w: { StatusCode?: number }) => w.StatusCode)
        .catch(() => undefined),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref()),
    ]);
    const tail = (await this.outputTail(2000)) || this.attached?.stderr || this.attached?.stdout || '';
    return new Error(
      `The container of kernel "${this.req?.spec.name}" exited${state !== undefined ? ` (exit code ${state})` : ''} ` +
        `before the kernel started.` +
        (tail.trim() ? `\nLast output:\n${tail.trim()}` : ' It printed nothing.'),
    );
  }
}
