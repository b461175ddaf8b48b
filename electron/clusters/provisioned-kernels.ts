// What the runtimes of clusters whose kernels the app provisions (ssh, docker, swarm) share: start a kernel with
// the provisioner its kernelspec names (refused before anything runs when the cluster has none), and remember
// which provisioner runs which kernel, so "Leave running" can save its state, let it outlive the app and let go.
import { KernelManager } from '../../provisioners/kernel-manager';
import type { ProvisionerRegistry } from '../../provisioners/registry';
import type {
  KernelBackend,
  KernelProvisioner,
  KernelSpec,
  ProvisionerState,
} from '../../provisioners/types';
import { KernelLaunchError } from '../kernels/errors';
import { kernelEnvFromClient } from './client-env';
import type { StartKernelRequest } from './types';

/** A provisioner whose kernels can be left running; keepRunning lifts what would stop them once the app is gone. */
export interface KeepableProvisioner extends KernelProvisioner {
  keepRunning?(): Promise<void>;
}

export interface ProvisionedKernelsOptions<P extends KeepableProvisioner> {
  registry: ProvisionerRegistry;
  /** The cluster's name, for messages ("on Lab server"). */
  clusterName: string;
  log: (message: string) => void;
  /** Which of the registry's provisioners can be left running (others are shut down with the app). */
  keepable(p: KernelProvisioner): p is P;
  /** The words of a failed start (default: the error's message). */
  startError?(err: Error): string;
}

export class ProvisionedKernels<P extends KeepableProvisioner> {
  private readonly byBackend = new WeakMap<KernelBackend, P>();

  constructor(private readonly o: ProvisionedKernelsOptions<P>) {}

  /** Start a kernel of `spec`; resolves once it answered kernel_info. Failures are KernelLaunchErrors. */
  async start(req: StartKernelRequest, spec: KernelSpec, launchTimeoutMs: number): Promise<KernelManager> {
    let provisioner: KernelProvisioner;
    try {
      provisioner = this.o.registry.create({ kernelId: req.kernelId, spec });
    } catch (err) {
      // A bad environment setting or KERNEL_* value, or a provisioner this cluster has not: before anything runs.
      throw new KernelLaunchError(err instanceof Error ? err.message : String(err));
    }
    try {
      const km = await KernelManager.start({
        provisioner,
        kernelId: req.kernelId,
        spec,
        env: kernelEnvFromClient(req.env, this.o.log, `on ${this.o.clusterName}`),
        launchTimeoutMs,
        onProgress: req.onProgress,
        signal: req.signal,
      });
      if (this.o.keepable(provisioner)) this.byBackend.set(km, provisioner);
      return km;
    } catch (err) {
      if (err instanceof Error && err.name !== 'AbortError' && !(err instanceof KernelLaunchError))
        throw new KernelLaunchError(this.o.startError?.(err) ?? err.message);
      throw err;
    }
  }

  /**
   * Re-attach to a kernel left running (`state`) with `provisioner`, which reopens the way to it before anything
   * dials it; from then on it is managed like one started here. A kernel that may still run but cannot be taken
   * over (not known to be gone) is not stopped: the error ends with `hint`, how the user can stop it.
   */
  async reattach(
    state: ProvisionerState,
    spec: KernelSpec,
    provisioner: P,
    hint: string,
  ): Promise<KernelManager> {
    let km: KernelManager;
    try {
      km = await KernelManager.reattach(state, spec, { provisioner });
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new Error(provisioner.hasProcess ? `${why}; ${hint}` : why);
    }
    this.byBackend.set(km, provisioner);
    return km;
  }

  /**
   * What re-attaching to a live kernel needs (`keptOf` its provisioner's state), or null for a kernel that is
   * not one of these, is dead, or is between two processes (restarting).
   */
  keepInfo<K>(backend: KernelBackend, keptOf: (state: ProvisionerState) => K): K | null {
    const prov = this.byBackend.get(backend);
    if (!prov || backend.executionState === 'dead' || backend.executionState === 'restarting') return null;
    try {
      return keptOf(prov.getProvisionerInfo());
    } catch {
      return null; // between two launches (restarting)
    }
  }

  /** "Leave running": lift what would stop the kernel first (nothing renews it once released), then let go. */
  async release(backend: KernelBackend): Promise<void> {
    const prov = this.byBackend.get(backend);
    if (!prov || !(backend instanceof KernelManager))
      throw new Error(`kernel ${backend.id} is not a kernel of ${this.o.clusterName}`);
    await prov.keepRunning?.();
    await backend.release(); // the provisioner's detach closes its tunnels and leases
    this.byBackend.delete(backend);
  }
}
