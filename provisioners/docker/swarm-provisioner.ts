// Gateway Provisioners' docker-swarm-provisioner, done our way: one Swarm service per kernel (one replica, no
// restart) whose task runs our launcher (`gd_launcher.py run`) as the container's main process. Nothing goes
// through the environment that should not: the kernel's key and env travel in a per-launch Swarm secret, which
// the Swarm hands only to the task (a tmpfs file), never in the service spec anyone with engine access can read.
// The launcher prints its signed report on stdout; the Swarm's log stream brings it back from whichever node
// runs the task. The kernel is reached on that node; signals go to the launcher's comm port; shutdown and
// cleanup remove the service, the secret and the config, so nothing of a kernel stays on the Swarm.
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { abortError } from '../abort';
import { commRequest, tcpConnector } from '../remote/comm-port';
import { launcherSource, parseReport, stdinLine, type LauncherReport } from '../remote/launcher-protocol';
import { LINUX_SIGNALS } from '../signals';
import type {
  ConnectionInfo,
  JsonValue,
  KernelProvisioner,
  LaunchBounds,
  LaunchRequest,
  ProvisionerState,
  SignalNumbers,
} from '../types';
import { kernelLabels } from './labels';
import { containerLauncherArgv } from './launcher-archive';
import { resourcesFromLaunchEnv, type KernelResources } from './resources';
import { ServiceLogFollower, serviceLogTail } from './service-logs';
import { REQUEST_FILE, SwarmResourceError, swarmServiceSpec } from './swarm-spec';
import { removeSwarmObjects, type SwarmObjects } from './swarm-objects';
import { awaitReport, bindAddress, idOf, kernelAddress, reportOf } from './swarm-launch';
import { serviceTasks, taskEnded } from './swarm-tasks';

export const SWARM_PROVISIONER_NAME = 'docker-swarm-provisioner';

/** What a Swarm cluster gives its kernels' provisioners. */
export interface SwarmAccess {
  docker: Docker;
  /** The cluster's name, for messages. */
  where: string;
  /** This app install's id (labels: an install only ever lists and removes its own kernels). */
  installId: string;
  /** The Python inside the image that runs the launcher. */
  python: string;
  /** The kernel environment's image, resources, mounts and variables; KERNEL_* launch variables override. */
  defaults: KernelResources;
  /** 'host' (the node's network) or an overlay network's name. */
  network: string;
  /** Generic resource kind GPUs are reserved as (e.g. NVIDIA-GPU). */
  gpuResource: string;
  /** The engine is this computer's (a unix socket): a kernel on this node binds and is dialled on 127.0.0.1. */
  localEngine: boolean;
  /** Where this computer dials every kernel, instead of the task's node address (e.g. a name behind NAT). */
  kernelAddress?: string;
  portRange?: { lo: number; hi: number };
  /** Seconds without a comm-port request after which the launcher stops the kernel (0 never). */
  leaseSeconds: number;
  log(message: string): void;
}

const POLL_INTERVAL_MS = 2000;
const COMM_TIMEOUT_MS = 5000;

export class SwarmProvisioner implements KernelProvisioner {
  readonly name = SWARM_PROVISIONER_NAME;
  /** Each poll is an API call to the manager: every 2 s. */
  readonly pollIntervalMs = POLL_INTERVAL_MS;
  readonly signals: SignalNumbers = LINUX_SIGNALS;

  private req: LaunchRequest | undefined;
  private resources: (KernelResources & { image: string }) | undefined;
  private key = '';
  private launches = 0;
  private objects: SwarmObjects = {};
  private follower: ServiceLogFollower | undefined;
  private report: LauncherReport | undefined;
  /** Where this computer dials the kernel (the task's node) and the node's id. */
  private dial: { ip: string; nodeId: string } | undefined;
  private exitCode: number | null = null;

  constructor(
    readonly kernelId: string,
    private readonly access: SwarmAccess,
    private readonly outlivesApp = false,
  ) {}

  get hasProcess(): boolean {
    return this.objects.serviceId !== undefined && this.exitCode === null;
  }

  /** The service that runs the kernel (after launch or re-attach). */
  get serviceId(): string | undefined {
    return this.objects.serviceId;
  }

  async preLaunch(req: LaunchRequest): Promise<void> {
    // A bad KERNEL_* value or a missing image fails here, before anything exists on the Swarm.
    const r = resourcesFromLaunchEnv(req.env, this.access.defaults);
    if (!r.image)
      throw new Error(
        `no image for this kernel on ${this.access.where}: set the cluster's image or KERNEL_IMAGE`,
      );
    if (r.gpus === 'all')
      throw new SwarmResourceError('KERNEL_GPUS=all: a Swarm reserves a number of GPUs; give one, e.g. 1');
    this.resources = { ...r, image: r.image };
    this.req = req;
    this.key = randomUUID();
    this.exitCode = null;
    this.report = undefined;
  }

  async launch(bounds: LaunchBounds): Promise<ConnectionInfo> {
    const { req, resources } = this;
    if (!req || !resources) throw new Error('launch() before preLaunch()');
    const { docker, where } = this.access;
    const labels = kernelLabels(this.kernelId, this.access.installId);
    const n = ++this.launches;
    bounds.progress('preparing', `Creating the kernel's service on ${where}`);
    const ip = await bindAddress(this.access);
    const env = {
      ...(req.spec.spec.env ?? {}),
      ...(resources.env ?? {}),
      ...req.env,
      KERNEL_ID: this.kernelId,
    };
    // The launcher as a Swarm config rather than a bind mount: the Swarm copies it to whichever node runs the
    // task, so it works on a remote engine and a many-node Swarm alike, where this computer's file is not there.
    const config = await docker.createConfig({
      Name: `gd-launcher-${this.kernelId}-${n}`,
      Labels: labels,
      Data: launcherSource().toString('base64'),
    });
    this.objects.configId = idOf(config);
    const secret = await docker.createSecret({
      Name: `gd-request-${this.kernelId}-${n}`,
      Labels: labels,
      Data: Buffer.from(stdinLine(this.key, env)).toString('base64'),
    });
    this.objects.secretId = idOf(secret);
    if (bounds.signal.aborted) throw abortError();
    const argv = containerLauncherArgv({
      python: this.access.python,
      kernelId: this.kernelId,
      ip,
      requestFile: REQUEST_FILE,
      argv: req.spec.spec.argv,
      ...(this.access.portRange ? { portRange: this.access.portRange } : {}),
    });
    const lease = this.outlivesApp ? 0 : this.access.leaseSeconds;
    argv.splice(argv.indexOf('--'), 0, '--lease-seconds', String(lease));
    const spec = swarmServiceSpec({
      name: `gd-kernel-${this.kernelId}`,
      labels,
      resources,
      command: argv,
      // What the spec shows: the kernel's id and the environment's own settings, not the client's variables.
      env: { ...(resources.env ?? {}), KERNEL_ID: this.kernelId },
      secret: { id: this.objects.secretId, name: `gd-request-${this.kernelId}-${n}` },
      config: { id: this.objects.configId, name: `gd-launcher-${this.kernelId}-${n}` },
      network: this.access.network,
      gpuResource: this.access.gpuResource,
    });
    // Not cut short by the signal: a service the engine made but never named to us would be left behind.
    const service = await docker.createService(spec);
    this.objects.serviceId = service.id;
    this.follower = new ServiceLogFollower(docker, service.id);
    const line = await awaitReport(this.access, service.id, this.follower, bounds);
    const report = parseReport(line, this.key, this.kernelId);
    this.report = report;
    this.dial = await kernelAddress(this.access, service.id);
    bounds.progress(
      'connecting',
      `The kernel runs on ${this.dial.ip} (node ${this.dial.nodeId.slice(0, 12)})`,
    );
    return this.connection();
  }

  async poll(): Promise<number | null> {
    if (this.exitCode !== null) return this.exitCode;
    const id = this.objects.serviceId;
    if (!id) return this.launches > 0 ? -1 : null;
    let task;
    try {
      task = (await serviceTasks(this.access.docker, id))[0];
    } catch (err) {
      // The service is gone (someone removed it): so is the kernel. Otherwise the engine did not answer:
      // unknown, not dead.
      return (err as { statusCode?: number }).statusCode === 404 ? (this.exitCode = -1) : null;
    }
    if (!task) return this.report ? (this.exitCode = -1) : null;
    if (!taskEnded(task)) return null;
    this.exitCode = task.Status?.ContainerStatus?.ExitCode ?? -1;
    return this.exitCode;
  }

  async sendSignal(signal: NodeJS.Signals): Promise<void> {
    const signum = this.signals[signal];
    if (signum === undefined) throw new Error(`${signal} has no number on Linux`);
    const reply = await this.comm({ signum });
    if (reply === 'refused') throw new Error(`the launcher of kernel ${this.kernelId} is gone`);
    if (reply.ok === false && reply.alive !== false)
      throw new Error(`the launcher refused ${signal}: ${String(reply.error ?? 'no reason given')}`);
  }

  async terminate(): Promise<void> {
    await this.sendSignal('SIGTERM').catch(() => undefined);
  }

  /** SIGKILL to the kernel's group through the launcher; without a launcher to ask, the service goes. */
  async kill(): Promise<void> {
    const ok = await this.sendSignal('SIGKILL').then(
      () => true,
      () => false,
    );
    if (ok) return;
    const problems = await removeSwarmObjects(this.access.docker, { serviceId: this.objects.serviceId });
    // Its task may still be listed for a while (shutting down): with the service gone, the kernel is gone.
    if (!problems.length && this.objects.serviceId) this.exitCode = -1;
  }

  async wait(timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = await this.poll();
      if (code !== null || Date.now() >= deadline) return code;
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Removes the service (its task's container goes with it), the request secret and the launcher config. */
  async cleanup(): Promise<void> {
    this.follower?.close();
    this.follower = undefined;
    const objects = this.objects;
    this.objects = {};
    this.report = undefined;
    this.dial = undefined;
    const problems = await removeSwarmObjects(this.access.docker, objects);
    if (problems.length) throw new Error(`kernel ${this.kernelId}: ${problems.join('; ')}`);
  }

  /** "Leave running": the launcher must not stop the kernel when this app stops asking about it. */
  keepRunning(): Promise<void> {
    return this.setLease(0);
  }

  /** Watched again after a re-attach: the lease applies again (none if it outlives the app). */
  watchAgain(): Promise<void> {
    return this.setLease(this.outlivesApp ? 0 : this.access.leaseSeconds);
  }

  /** Stop managing the kernel without stopping it: only the log stream was ours. */
  async detach(): Promise<void> {
    this.follower?.close();
    this.follower = undefined;
  }

  getProvisionerInfo(): ProvisionerState {
    const { report: r, dial } = this;
    const { serviceId, secretId, configId } = this.objects;
    if (!r || !dial || !serviceId) throw new Error(`kernel ${this.kernelId} has not been launched`);
    const details: { [k: string]: JsonValue } = {
      serviceId,
      secretId: secretId ?? null,
      configId: configId ?? null,
      nodeId: dial.nodeId,
      commPort: r.commPort,
      pid: r.pid,
    };
    return {
      provisioner: SWARM_PROVISIONER_NAME,
      kernelId: this.kernelId,
      connection: this.connection(),
      details,
    };
  }

  async loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo> {
    const d = state.details;
    const c = state.connection;
    if (typeof d.serviceId !== 'string' || typeof d.commPort !== 'number')
      throw new Error(`saved state of kernel ${state.kernelId} names no service or comm port`);
    this.objects = {
      serviceId: d.serviceId,
      ...(typeof d.secretId === 'string' ? { secretId: d.secretId } : {}),
      ...(typeof d.configId === 'string' ? { configId: d.configId } : {}),
    };
    this.key = c.key;
    this.launches = Math.max(this.launches, 1);
    this.exitCode = null;
    this.report = reportOf(state, d.commPort);
    this.dial = { ip: c.ip, nodeId: typeof d.nodeId === 'string' ? d.nodeId : '' };
    const code = await this.poll();
    if (code !== null) {
      this.objects = {};
      throw new Error(
        `kernel ${state.kernelId} is gone: its service on ${this.access.where} no longer runs it`,
      );
    }
    return this.connection();
  }

  async outputTail(maxChars = 2000): Promise<string> {
    const id = this.objects.serviceId;
    const text = (id ? await serviceLogTail(this.access.docker, id) : '') || this.follower?.output || '';
    return text.trim().slice(-maxChars);
  }

  private connection(): ConnectionInfo {
    const { report: r, dial } = this;
    if (!r || !dial) throw new Error(`kernel ${this.kernelId} has not been launched`);
    return {
      transport: 'tcp',
      ip: dial.ip,
      shell_port: r.shellPort,
      iopub_port: r.iopubPort,
      stdin_port: r.stdinPort,
      control_port: r.controlPort,
      hb_port: r.hbPort,
      key: this.key,
      signature_scheme: 'hmac-sha256',
      ...(this.req ? { kernel_name: this.req.spec.name } : {}),
    };
  }

  private async setLease(seconds: number): Promise<void> {
    const reply = await this.comm({ lease: seconds });
    if (reply === 'refused' || reply.ok !== true)
      throw new Error(`the launcher of kernel ${this.kernelId} did not take a lease of ${seconds} s`);
  }

  /** One comm-port request: the reply object, or 'refused' when no launcher listens. */
  private async comm(body: { [k: string]: JsonValue }): Promise<'refused' | Record<string, unknown>> {
    const { report: r, dial } = this;
    if (!r || !dial) return 'refused';
    const res = await commRequest(tcpConnector(dial.ip, r.commPort), body, {
      timeoutMs: COMM_TIMEOUT_MS,
      readReply: true,
    });
    if (!res.delivered || res.reply === null) return 'refused';
    if (typeof res.reply !== 'object' || Array.isArray(res.reply))
      throw new Error('the launcher sent no object');
    return res.reply;
  }
}
