// A Docker cluster: one container per kernel on a Docker Engine (local socket, DOCKER_HOST, tcp:// with TLS, or
// ssh://), started by the docker-provisioner (provisioners/docker). Its kernelspecs come from the settings (the
// cluster's image, then its environments). Containers carry our labels with this install's id, so the cluster
// can list the ones whose kernel the app no longer knows and remove them — and never touches anyone else's.
import type Docker from 'dockerode';
import { createProvisionerContext } from '../../../provisioners/context';
import { statusOf, engineWords } from '../../../provisioners/docker/container-io';
import {
  DOCKER_PROVISIONER_NAME,
  DockerProvisioner,
  type DockerKernelHost,
} from '../../../provisioners/docker/docker-provisioner';
import {
  describeEngine,
  engineClient,
  effectiveHost,
  parseEngineHost,
} from '../../../provisioners/docker/engine';
import { engineSshAccess } from '../../../provisioners/docker/engine-link';
import { GpImageProvisioner, isGpImageConfig } from '../../../provisioners/docker/gp-image-provisioner';
import { isOurKernel, ourLabelFilters } from '../../../provisioners/docker/labels';
import { V1ResponseListener } from '../../../provisioners/remote/response-listener';
import {
  parseCpus,
  parseGpus,
  parseMemory,
  parseVolumes,
  type KernelResources,
} from '../../../provisioners/docker/resources';
import { GATEWAY_PROVISIONERS } from '../../../provisioners/gateway-provisioners';
import { ProvisionerRegistry } from '../../../provisioners/registry';
import { ProvisionedKernels } from '../provisioned-kernels';
import type { KernelBackend } from '../../../provisioners/types';
import { KernelSpecNotFoundError } from '../../kernels/errors';
import type { KeptKernelDetails } from '../../kernels/left-running';
import {
  DEFAULT_DOCKER_NETWORK,
  engineSettingsOf,
  type DockerClusterConfig,
  type DockerEngineConfig,
} from '../kinds/docker/config';
import { parsePortRange } from '../kinds/ssh/config';
import type { ClusterKernelSpecs, ClusterRuntime, StartKernelRequest } from '../types';
import { DEFAULT_DOCKER_ENVIRONMENT, dockerKernelSpecs, dockerLaunchTimeoutMs } from './docker-environments';
import { dockerKeptOf, dockerStateOf, parseDockerKept, type DockerKept } from './docker-kept';

export interface DockerClusterOptions {
  /** This app install's id (install-id.ts): the label that makes a container ours. */
  installId: string;
  log?: (message: string) => void;
}

/** A container labelled as a kernel of this install whose kernel the app does not know. */
export interface OrphanContainer {
  id: string;
  name: string;
  kernelId: string;
  image: string;
  /** The engine's state: running, exited, created, … */
  state: string;
  /** The engine's words, e.g. "Up 3 hours". */
  status: string;
  createdAt: string;
}

/** The cluster-wide defaults in KernelResources terms (checked by the kind before a runtime is made). */
export function clusterResources(c: DockerEngineConfig): KernelResources {
  return {
    ...(c.cpus !== undefined ? { cpus: parseCpus(String(c.cpus), 'cpus') } : {}),
    ...(c.memory ? { memoryBytes: parseMemory(c.memory, 'memory') } : {}),
    ...(c.gpus ? { gpus: parseGpus(c.gpus, 'gpus') } : {}),
    ...(c.volumes?.length ? { volumes: parseVolumes(c.volumes.join(','), 'volumes') } : {}),
  };
}

/** What each kernel's provisioner gets from a cluster's settings (the swarm runtime builds the same). */
export function dockerKernelHost(
  cfg: DockerEngineConfig & { name: string },
  installId: string,
  log: (m: string) => void,
): DockerKernelHost {
  const settings = engineSettingsOf(cfg);
  const range = cfg.portRange ? parsePortRange(cfg.portRange) : null;
  return {
    where: cfg.name,
    docker: engineClient(settings),
    engine: describeEngine(settings),
    address: parseEngineHost(effectiveHost(settings), Boolean(settings.tls)),
    installId,
    networkMode: cfg.network ?? DEFAULT_DOCKER_NETWORK,
    ...(cfg.kernelAddress ? { kernelAddress: cfg.kernelAddress } : {}),
    python: cfg.python,
    resources: clusterResources(cfg),
    ...(range ? { portRange: range } : {}),
    pull: cfg.pull ?? 'missing',
    log,
  };
}

export class DockerCluster implements ClusterRuntime {
  readonly id: string;
  readonly name: string;
  readonly kind = 'docker';
  private readonly host: DockerKernelHost;
  private readonly registry: ProvisionerRegistry;
  private readonly log: (message: string) => void;
  /** Starts kernels; keeps the provisioner of each one this cluster started or re-attached (saved state). */
  private readonly kernels: ProvisionedKernels<DockerProvisioner>;
  /** Gateway Provisioners images report to it; started with the first such kernel, closed by dispose(). */
  private responses: Promise<V1ResponseListener> | undefined;

  constructor(
    readonly cfg: DockerClusterConfig,
    opts: DockerClusterOptions,
  ) {
    this.id = cfg.id;
    this.name = cfg.name;
    this.log = opts.log ?? ((m) => console.warn(`[docker ${cfg.name}] ${m}`));
    const context = createProvisionerContext({ log: this.log });
    const host = dockerKernelHost(cfg, opts.installId, this.log);
    // ssh:// engine, host network: kernels' ports are carried over one SSH link per host (context.pool).
    const ssh = engineSshAccess(host, engineSettingsOf(cfg), context);
    this.host = {
      ...host,
      ...(ssh ? { ssh } : {}),
      // Loopback only: a host-network container on this computer's engine shares it (gp-image-provisioner.ts).
      responses: () => (this.responses ??= this.startResponses()),
    };
    this.registry = new ProvisionerRegistry(context, cfg.name)
      .register({
        name: DOCKER_PROVISIONER_NAME,
        // One provisioner name, two ways to run the kernel: our launcher, or the image's own GP bootstrap.
        create: (o) =>
          isGpImageConfig(o.config)
            ? new GpImageProvisioner(o.kernelId, o.config, this.host)
            : new DockerProvisioner(o.kernelId, o.config, this.host),
      })
      .markUnavailable(...GATEWAY_PROVISIONERS);
    this.kernels = new ProvisionedKernels({
      registry: this.registry,
      clusterName: cfg.name,
      log: this.log,
      keepable: (p): p is DockerProvisioner => p instanceof DockerProvisioner,
    });
  }

  private startResponses(): Promise<V1ResponseListener> {
    const p = V1ResponseListener.start({ host: '127.0.0.1', log: this.log });
    p.catch(() => (this.responses = undefined)); // the next start tries again
    return p;
  }

  /** The engine client (tests and the orphan view). */
  get docker(): Docker {
    return this.host.docker;
  }

  async listKernelSpecs(): Promise<ClusterKernelSpecs> {
    return {
      default: DEFAULT_DOCKER_ENVIRONMENT,
      specs: dockerKernelSpecs(this.cfg).map((s) => ({ name: s.name, spec: s.spec, resources: s.resources })),
      problems: [],
    };
  }

  async getResource(): Promise<null> {
    return null;
  }

  async startKernel(req: StartKernelRequest): Promise<KernelBackend> {
    const spec = dockerKernelSpecs(this.cfg).find((s) => s.name === req.specName);
    if (!spec) throw new KernelSpecNotFoundError(req.specName);
    return this.kernels.start(req, spec, dockerLaunchTimeoutMs(this.cfg, spec, req.env));
  }

  // Every live kernel: its container runs on after a crash of the app, so the journal lets the next start re-attach.
  keepInfo(backend: KernelBackend): DockerKept | null {
    return this.kernels.keepInfo(backend, dockerKeptOf);
  }

  /** "Leave running": close our sockets; the container keeps running (nothing else holds it). */
  releaseKernel(backend: KernelBackend): Promise<void> {
    return this.kernels.release(backend);
  }

  async reattachKernel(
    kernelId: string,
    clusterSpecName: string,
    details: KeptKernelDetails,
  ): Promise<KernelBackend> {
    const kept = parseDockerKept(details);
    if (!kept) throw new Error(`kernel ${kernelId} was not a Docker kernel`);
    const spec = dockerKernelSpecs(this.cfg).find((s) => s.name === clusterSpecName);
    const hint = `its container ${kept.containerId.slice(0, 12)} may still run: docker rm -f ${kept.containerId.slice(0, 12)}`;
    if (!spec) throw new Error(`the environment "${clusterSpecName}" is gone from ${this.name}; ${hint}`);
    const prov = new DockerProvisioner(
      kernelId,
      spec.spec.metadata?.kernel_provisioner?.config ?? {},
      this.host,
    );
    return this.kernels.reattach(dockerStateOf(kernelId, kept), spec, prov, hint);
  }

  /**
   * Containers labelled as kernels of this install whose kernel id is not in `knownKernelIds` (left by a crash,
   * or by a kernel the app forgot). Containers without all our labels are never listed.
   */
  async listOrphans(knownKernelIds: Iterable<string>): Promise<OrphanContainer[]> {
    const known = new Set(knownKernelIds);
    const list = await this.host.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ourLabelFilters(this.host.installId) }),
    });
    return list
      .filter((c) => isOurKernel(c.Labels, this.host.installId) && !known.has(c.Labels.kernel_id!))
      .map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        kernelId: c.Labels.kernel_id!,
        image: c.Image,
        state: c.State,
        status: c.Status,
        createdAt: new Date(c.Created * 1000).toISOString(),
      }));
  }

  /** Remove one orphan (force). Refuses a container that does not carry this install's kernel labels. */
  async removeOrphan(id: string): Promise<void> {
    const c = this.host.docker.getContainer(id);
    let labels: Record<string, string>;
    try {
      labels = (await c.inspect()).Config.Labels ?? {};
    } catch (err) {
      if (statusOf(err) === 404) return; // already gone
      throw new Error(`Cannot inspect container ${id} on ${this.host.engine}: ${engineWords(err)}`);
    }
    if (!isOurKernel(labels, this.host.installId))
      throw new Error(`Container ${id} is not a kernel container of this app: it was left alone`);
    await c.remove({ force: true, v: true }).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw new Error(`Cannot remove container ${id}: ${engineWords(err)}`);
    });
  }

  async dispose(): Promise<void> {
    // Every engine call is its own request; only the response listener and an SSH link are held.
    const responses = this.responses;
    this.responses = undefined;
    await responses?.then((l) => l.close()).catch(() => undefined);
    await this.registry.context.pool.closeAll();
  }
}
