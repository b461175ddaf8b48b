// An SSH cluster: kernels on hosts this computer can ssh to, started by our launcher (provisioners/ssh). Its
// kernelspecs come from the cluster's settings (a default Python environment and any others), each naming the
// ssh provisioner; one reconnecting SSH connection per host is shared by all kernels there.
import { createProvisionerContext, type ProvisionerContext } from '../../../provisioners/context';
import { GATEWAY_PROVISIONERS } from '../../../provisioners/gateway-provisioners';
import { ProvisionerRegistry } from '../../../provisioners/registry';
import { HostBalancer } from '../../../provisioners/ssh/host-balancer';
import { SshLink } from '../../../provisioners/ssh/ssh-link';
import {
  DISTRIBUTED_PROVISIONER_NAME,
  DistributedProvisioner,
} from '../../../provisioners/ssh/distributed-provisioner';
import { ReverseResponses } from '../../../provisioners/ssh/reverse-responses';
import {
  SSH_PROVISIONER_NAME,
  SshProvisioner,
  type SshHostAccess,
} from '../../../provisioners/ssh/ssh-provisioner';
import type { KernelBackend } from '../../../provisioners/types';
import type { KeptKernelDetails } from '../../kernels/left-running';
import type { SecretLookup } from '../../secrets/secret-store';
import { KernelLaunchError, KernelSpecNotFoundError } from '../../kernels/errors';
import type { ClusterKernelSpecs, ClusterRuntime, StartKernelRequest } from '../types';
import { parsePortRange, type SshClusterConfig } from '../kinds/ssh/config';
import { ensureLauncher } from './remote-launcher';
import { startErrorText } from './host-keys';
import { ProvisionedKernels } from '../provisioned-kernels';
import { accessFor, launchTimeoutMs, sshKernelSpecs } from './ssh-environments';
import { DEFAULT_SSH_ENVIRONMENT } from '../kinds/ssh/environments';
import { parseSshKept, sshKeptOf, sshStateOf, stopHint, type SshKept } from './ssh-kept';
import { sshPoolKey, sshTargetFor, type SshTargetOptions } from './ssh-target';

export interface SshClusterOptions {
  secrets: SecretLookup;
  log?: (message: string) => void;
  /** Seconds without a status request after which a host stops a kernel (default 600; 0 never). */
  leaseSeconds?: number;
  target?: SshTargetOptions;
}

// The environments' kernelspecs and per-environment start settings: ssh-environments.ts.
export { DEFAULT_SSH_ENVIRONMENT, sshKernelSpecs };

export class SshCluster implements ClusterRuntime {
  readonly id: string;
  readonly name: string;
  readonly kind = 'ssh';
  private readonly context: ProvisionerContext;
  private readonly registry: ProvisionerRegistry;
  private readonly balancer: HostBalancer;
  private readonly log: (message: string) => void;
  /** Where Gateway Provisioners' launchers report (distributed-provisioner kernelspecs), over reverse forwards. */
  private readonly responses = new ReverseResponses((m) => this.log(m));
  private readonly access: SshHostAccess;
  /** Starts kernels; keeps the provisioner of each one this cluster started or re-attached (lease, state). */
  private readonly kernels: ProvisionedKernels<SshProvisioner>;

  constructor(
    readonly cfg: SshClusterConfig,
    private readonly opts: SshClusterOptions,
  ) {
    this.id = cfg.id;
    this.name = cfg.name;
    this.log = opts.log ?? ((m) => console.warn(`[ssh ${cfg.name}] ${m}`));
    this.context = createProvisionerContext({ log: this.log });
    this.balancer = new HostBalancer(cfg.hosts, cfg.balancing);
    const access = this.hostAccess();
    this.access = access;
    this.registry = new ProvisionerRegistry(this.context, cfg.name)
      .register({
        name: SSH_PROVISIONER_NAME,
        create: (o) =>
          new SshProvisioner(o.kernelId, o.config, accessFor(access, o.config), o.outlivesApp === true),
      })
      .register({
        name: DISTRIBUTED_PROVISIONER_NAME,
        create: (o) => new DistributedProvisioner(o.kernelId, o.config, access, this.responses),
      })
      .markUnavailable(...GATEWAY_PROVISIONERS);
    this.kernels = new ProvisionedKernels({
      registry: this.registry,
      clusterName: cfg.name,
      log: this.log,
      // Gateway Provisioners' launchers have no lease to lift: their kernels are not left running.
      keepable: (p): p is SshProvisioner => p instanceof SshProvisioner,
      startError: (err) => startErrorText(err, cfg.name),
    });
  }

  async listKernelSpecs(): Promise<ClusterKernelSpecs> {
    const specs = sshKernelSpecs(this.cfg);
    return {
      default: DEFAULT_SSH_ENVIRONMENT,
      specs: specs.map((s) => ({ name: s.name, spec: s.spec, resources: s.resources })),
      problems: [],
    };
  }

  async getResource(): Promise<null> {
    return null; // the environments are settings: they have no logo files
  }

  async startKernel(req: StartKernelRequest): Promise<KernelBackend> {
    const spec = sshKernelSpecs(this.cfg).find((s) => s.name === req.specName);
    if (!spec) throw new KernelSpecNotFoundError(req.specName);
    return this.kernels.start(req, spec, launchTimeoutMs(this.cfg, spec, req.env));
  }

  // Every live SSH kernel, not only ones meant to outlive the app: after a crash its launcher keeps it until the
  // lease runs out, so the journal lets the next start re-attach it meanwhile (and later finds it gone).
  keepInfo(backend: KernelBackend): SshKept | null {
    return this.kernels.keepInfo(backend, sshKeptOf);
  }

  /** "Leave running": the lease is lifted, then the sockets, tunnel and link lease are let go. */
  releaseKernel(backend: KernelBackend): Promise<void> {
    return this.kernels.release(backend);
  }

  /**
   * Re-attach to a kernel left running on a host: a new tunnel over the host's link, the launcher asked whether
   * the kernel lives, then kernel_info signed with the saved key (so it is that kernel). A kernel that may still
   * run but cannot be taken over (host unreachable, environment gone) is not stopped: the error says how to.
   */
  async reattachKernel(
    kernelId: string,
    clusterSpecName: string,
    details: KeptKernelDetails,
  ): Promise<KernelBackend> {
    const kept = parseSshKept(details);
    if (!kept) throw new Error(`kernel ${kernelId} was not an SSH kernel`);
    const spec = sshKernelSpecs(this.cfg).find((s) => s.name === clusterSpecName);
    const config = spec?.spec.metadata?.kernel_provisioner?.config ?? {};
    const hint = stopHint(
      kernelId,
      kept,
      typeof config.python === 'string' ? config.python : this.cfg.python,
    );
    if (!this.cfg.hosts.includes(kept.host))
      throw new Error(`kernel ${kernelId} ran on ${kept.host}, no longer a host of ${this.name}; ${hint}`);
    if (spec?.spec.metadata?.kernel_provisioner?.provisioner_name !== SSH_PROVISIONER_NAME)
      throw new Error(`the environment "${clusterSpecName}" is gone from ${this.name}; ${hint}`);
    const prov = new SshProvisioner(kernelId, config, accessFor(this.access, config));
    const km = await this.kernels.reattach(sshStateOf(kernelId, kept), spec, prov, hint);
    // Watched again: its lease applies again, so a later crash of the app does not leave it running for ever.
    await prov
      .watchAgain()
      .catch((err: Error) => this.log(`kernel ${kernelId}: lease not renewed: ${err.message}`));
    return km;
  }

  /** Kernels per host (for the UI and tests). */
  hostLoad(): Record<string, number> {
    return this.balancer.load();
  }

  /** SSH connections open now (pool keys). */
  openLinks(): string[] {
    return this.context.pool.keys();
  }

  async dispose(): Promise<void> {
    await this.context.pool.closeAll();
    await this.responses.close();
  }

  private hostAccess(): SshHostAccess {
    const range = this.cfg.portRange ? parsePortRange(this.cfg.portRange) : null;
    return {
      where: this.cfg.name,
      python: this.cfg.python,
      ...(range ? { portRange: range } : {}),
      leaseSeconds: this.opts.leaseSeconds ?? 600,
      log: this.log,
      chooseHost: (pinned, among) => {
        if (pinned && !this.cfg.hosts.includes(pinned))
          throw new KernelLaunchError(
            `KERNEL_REMOTE_HOST=${pinned} is not a host of ${this.cfg.name} (its hosts: ${this.cfg.hosts.join(', ')})`,
          );
        return this.balancer.acquire(pinned, among);
      },
      link: (host, signal) => {
        const target = sshTargetFor(this.cfg, host, this.opts.secrets, this.opts.target);
        return this.context.pool.acquire(
          sshPoolKey(target),
          () => SshLink.open(target, { log: this.log }, signal),
          (link) => link.close(),
        );
      },
      ensureLauncher: (conn, signal) => ensureLauncher(conn, signal),
    };
  }
}
