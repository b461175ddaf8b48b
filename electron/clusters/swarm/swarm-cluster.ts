// A Docker Swarm cluster: one Swarm service per kernel, created through a manager's engine API (local socket,
// DOCKER_HOST, tcp:// with TLS, or ssh://) and run by the docker-swarm-provisioner (provisioners/docker). The
// engine settings, environments and resources are the docker kind's (kinds/docker/config.ts); the kernelspecs
// name the swarm provisioner instead. Services, secrets and configs carry our labels with this install's id, so
// the cluster lists the services whose kernel the app no longer knows, and never touches anyone else's.
import { createProvisionerContext } from '../../../provisioners/context';
import { isGpImageConfig } from '../../../provisioners/docker/gp-image-provisioner';
import { isOurKernel } from '../../../provisioners/docker/labels';
import {
  kernelObjects,
  ourKernelServices,
  removeSwarmObjects,
} from '../../../provisioners/docker/swarm-objects';
import {
  SWARM_PROVISIONER_NAME,
  SwarmProvisioner,
  type SwarmAccess,
} from '../../../provisioners/docker/swarm-provisioner';
import { DEFAULT_GPU_RESOURCE } from '../../../provisioners/docker/swarm-spec';
import { serviceTasks, taskState } from '../../../provisioners/docker/swarm-tasks';
import { readDockerConfig, type DockerKernelHost } from '../../../provisioners/docker/docker-host';
import { GATEWAY_PROVISIONERS } from '../../../provisioners/gateway-provisioners';
import { ProvisionerRegistry } from '../../../provisioners/registry';
import { ProvisionedKernels } from '../provisioned-kernels';
import type { KernelBackend } from '../../../provisioners/types';
import { KernelSpecNotFoundError } from '../../kernels/errors';
import type { KeptKernelDetails } from '../../kernels/left-running';
import { dockerKernelHost } from '../docker/docker-cluster';
import {
  dockerKernelSpecs,
  dockerLaunchTimeoutMs,
  DEFAULT_DOCKER_ENVIRONMENT,
} from '../docker/docker-environments';
import { DEFAULT_DOCKER_NETWORK } from '../kinds/docker/config';
import type { SwarmClusterConfig } from '../kinds/swarm/config';
import type { ClusterKernelSpecs, ClusterRuntime, StartKernelRequest } from '../types';
import { parseSwarmKept, swarmKeptOf, swarmStateOf, type SwarmKept } from './swarm-kept';

export interface SwarmClusterOptions {
  /** This app install's id (install-id.ts): the label that makes a service ours. */
  installId: string;
  log?: (message: string) => void;
  /** Seconds without a status request after which the launcher stops its kernel (default 600; 0 never). */
  leaseSeconds?: number;
}

/** A service labelled as a kernel of this install whose kernel the app does not know. */
export interface OrphanService {
  id: string;
  name: string;
  kernelId: string;
  image: string;
  /** Its task's state (running, pending, complete, …), '' when it has none. */
  state: string;
  createdAt: string;
}

export class SwarmCluster implements ClusterRuntime {
  readonly id: string;
  readonly name: string;
  readonly kind = 'swarm';
  /** What the orphan list calls one of ours (electron/host-api/orphans.ts). */
  readonly orphanNoun = 'service';
  private readonly access: SwarmAccess;
  /** The docker kind's reading of the engine settings: one client, one notion of "local engine". */
  private readonly host: DockerKernelHost;
  private readonly registry: ProvisionerRegistry;
  private readonly log: (message: string) => void;
  /** Starts kernels; keeps the provisioner of each one this cluster started or re-attached (lease, state). */
  private readonly kernels: ProvisionedKernels<SwarmProvisioner>;

  constructor(
    readonly cfg: SwarmClusterConfig,
    opts: SwarmClusterOptions,
  ) {
    this.id = cfg.id;
    this.name = cfg.name;
    this.log = opts.log ?? ((m) => console.warn(`[swarm ${cfg.name}] ${m}`));
    const host = dockerKernelHost(cfg, opts.installId, this.log);
    this.host = host;
    this.access = {
      docker: host.docker,
      where: cfg.name,
      installId: opts.installId,
      python: host.python,
      defaults: host.resources,
      network: cfg.network ?? DEFAULT_DOCKER_NETWORK,
      gpuResource: cfg.gpuResource ?? DEFAULT_GPU_RESOURCE,
      localEngine: host.address.kind === 'unix',
      ...(cfg.kernelAddress ? { kernelAddress: cfg.kernelAddress } : {}),
      ...(host.portRange ? { portRange: host.portRange } : {}),
      leaseSeconds: opts.leaseSeconds ?? 600,
      log: this.log,
    };
    this.registry = new ProvisionerRegistry(createProvisionerContext({ log: this.log }), cfg.name)
      .register({
        name: SWARM_PROVISIONER_NAME,
        create: (o) => new SwarmProvisioner(o.kernelId, this.accessFor(o.config), o.outlivesApp === true),
      })
      .markUnavailable(...GATEWAY_PROVISIONERS);
    this.kernels = new ProvisionedKernels({
      registry: this.registry,
      clusterName: cfg.name,
      log: this.log,
      keepable: (p): p is SwarmProvisioner => p instanceof SwarmProvisioner,
    });
  }

  /** The engine client (tests and the orphan view). */
  get docker(): SwarmAccess['docker'] {
    return this.access.docker;
  }

  async listKernelSpecs(): Promise<ClusterKernelSpecs> {
    return {
      default: DEFAULT_DOCKER_ENVIRONMENT,
      specs: this.specs().map((s) => ({ name: s.name, spec: s.spec, resources: s.resources })),
      problems: [],
    };
  }

  async getResource(): Promise<null> {
    return null;
  }

  async startKernel(req: StartKernelRequest): Promise<KernelBackend> {
    const spec = this.specs().find((s) => s.name === req.specName);
    if (!spec) throw new KernelSpecNotFoundError(req.specName);
    return this.kernels.start(req, spec, dockerLaunchTimeoutMs(this.cfg, spec, req.env));
  }

  // Every live kernel: its service runs on after a crash of the app (until the launcher's lease ends), so the
  // journal lets the next start re-attach it meanwhile.
  keepInfo(backend: KernelBackend): SwarmKept | null {
    return this.kernels.keepInfo(backend, swarmKeptOf);
  }

  /** "Leave running": the launcher's lease is lifted, then the kernel is let go. */
  releaseKernel(backend: KernelBackend): Promise<void> {
    return this.kernels.release(backend);
  }

  /**
   * Re-attach to a kernel left running: its service must still run its task; kernel_info signed with the saved
   * key proves it is that kernel. One that may still run but cannot be taken over is not removed: the error
   * says how to.
   */
  async reattachKernel(
    kernelId: string,
    clusterSpecName: string,
    details: KeptKernelDetails,
  ): Promise<KernelBackend> {
    const kept = parseSwarmKept(details);
    if (!kept) throw new Error(`kernel ${kernelId} was not a Swarm kernel`);
    const spec = this.specs().find((s) => s.name === clusterSpecName);
    const hint = `its service ${kept.serviceId.slice(0, 12)} may still run: docker service rm ${kept.serviceId.slice(0, 12)}`;
    if (!spec) throw new Error(`the environment "${clusterSpecName}" is gone from ${this.name}; ${hint}`);
    const prov = new SwarmProvisioner(
      kernelId,
      this.accessFor(spec.spec.metadata?.kernel_provisioner?.config),
    );
    const km = await this.kernels.reattach(swarmStateOf(kernelId, kept), spec, prov, hint);
    await prov
      .watchAgain()
      .catch((err: Error) => this.log(`kernel ${kernelId}: lease not renewed: ${err.message}`));
    return km;
  }

  /**
   * Services labelled as kernels of this install whose kernel id is not in `knownKernelIds` (left by a crash,
   * or by a kernel the app forgot). Services without all our labels are never listed.
   */
  async listOrphans(knownKernelIds: Iterable<string>): Promise<OrphanService[]> {
    const known = new Set(knownKernelIds);
    const { docker, installId } = this.access;
    const services = (await ourKernelServices(docker, installId)).filter((s) => !known.has(s.kernelId));
    return Promise.all(
      services.map(async (s) => ({
        id: s.serviceId,
        name: s.name,
        kernelId: s.kernelId,
        image: s.image,
        state: taskState((await serviceTasks(docker, s.serviceId).catch(() => []))[0]),
        createdAt: s.createdAt,
      })),
    );
  }

  /** Remove one orphan service with its secrets and configs. Refuses a service without our kernel labels. */
  async removeOrphan(id: string): Promise<void> {
    const { docker, installId } = this.access;
    let labels: Record<string, string> | undefined;
    try {
      const info = (await docker.getService(id).inspect()) as { Spec?: { Labels?: Record<string, string> } };
      labels = info.Spec?.Labels;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return; // already gone
      throw new Error(`Cannot inspect service ${id} on ${this.name}: ${(err as Error).message}`);
    }
    if (!isOurKernel(labels, installId) || !labels?.kernel_id)
      throw new Error(`Service ${id} is not a kernel service of this app: it was left alone`);
    const problems = await removeSwarmObjects(docker, { serviceId: id });
    for (const o of await kernelObjects(docker, installId, labels.kernel_id))
      problems.push(...(await removeSwarmObjects(docker, o)));
    if (problems.length) throw new Error(`Service ${id}: ${problems.join('; ')}`);
  }

  async dispose(): Promise<void> {
    // Nothing held: every engine call is its own request.
  }

  private specs(): ReturnType<typeof dockerKernelSpecs> {
    return dockerKernelSpecs(this.cfg, SWARM_PROVISIONER_NAME);
  }

  /** The cluster's access with an environment's Python and resources (its kernelspec's provisioner config). */
  private accessFor(config: Record<string, unknown> | undefined): SwarmAccess {
    // A task on another node cannot reach this computer's response listener: only our launcher runs here.
    if (config && isGpImageConfig(config))
      throw new Error(
        `${this.name}: images with Gateway Provisioners' bootstrap (launcher "gateway-provisioners") run on Docker clusters only, not on a Swarm`,
      );
    const own = readDockerConfig(config ?? {}, this.host);
    return { ...this.access, python: own.python, defaults: own.resources };
  }
}
