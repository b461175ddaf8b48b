// Which provisioner runs a kernelspec: the one named by `metadata.kernel_provisioner.provisioner_name`
// (jupyter_client's rule), looked up among registered factories. No name means the default (local). A name
// without a factory here — Gateway Provisioners' backends not built yet, or any unknown name — is refused
// before anything runs, with an error that names the provisioner and says what to set up.
import path from 'node:path';
import { createProvisionerContext, type ProvisionerContext } from './context';
import type { KernelProvisioner, KernelSpec, ProvisionerState } from './types';

/** jupyter_client's default provisioner name, and this app's local provisioner. */
export const DEFAULT_PROVISIONER_NAME = 'local-provisioner';

export interface ProvisionerCreateOptions {
  kernelId: string;
  spec: KernelSpec;
  /** `metadata.kernel_provisioner.config` of the spec ({} when absent). */
  config: Record<string, unknown>;
  /** The kernel must survive an app restart ("Leave running"): not tied to this process. */
  outlivesApp?: boolean;
}

/** Makes one provisioner per kernel for the names it serves. */
export interface ProvisionerFactory {
  /** The `provisioner_name` it serves. */
  readonly name: string;
  /** Other names it answers to. */
  readonly aliases?: readonly string[];
  create(opts: ProvisionerCreateOptions, ctx: ProvisionerContext): KernelProvisioner;
}

/** A provisioner name the app knows but cannot run (yet): what it would need. */
export interface UnavailableProvisioner {
  readonly name: string;
  /** Who defines the name, e.g. "Gateway Provisioners". */
  readonly origin: string;
  /** What it needs, e.g. "a Kubernetes cluster". */
  readonly needs: string;
  /** What the user can set up instead, e.g. "Add a Kubernetes cluster when that backend exists". */
  readonly setUp: string;
}

/** A kernelspec whose provisioner this app does not have (or that needs a cluster not set up). */
export class ProvisionerUnavailableError extends Error {
  readonly code = 'PROVISIONER_UNAVAILABLE';
  constructor(
    readonly provisionerName: string,
    readonly specName: string,
    /** Known to the app (e.g. Gateway Provisioners') but its backend is not here; false: unknown name. */
    readonly known: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'ProvisionerUnavailableError';
  }
}

/** The provisioner a kernelspec names (`metadata.kernel_provisioner.provisioner_name`), or the default. */
export function provisionerNameOf(spec: KernelSpec): string {
  const kp = spec.spec.metadata?.kernel_provisioner;
  const name = kp && typeof kp === 'object' ? kp.provisioner_name : undefined;
  return typeof name === 'string' && name.trim() ? name.trim() : DEFAULT_PROVISIONER_NAME;
}

function provisionerConfigOf(spec: KernelSpec): Record<string, unknown> {
  const config = spec.spec.metadata?.kernel_provisioner?.config;
  return config && typeof config === 'object' && !Array.isArray(config) ? { ...config } : {};
}

export class ProvisionerRegistry {
  private readonly factories = new Map<string, ProvisionerFactory>();
  private readonly unavailable = new Map<string, UnavailableProvisioner>();
  readonly context: ProvisionerContext;

  constructor(
    context: ProvisionerContext = createProvisionerContext(),
    /** Where kernels of this registry run, for error messages ("This computer"). */
    readonly where = 'This computer',
  ) {
    this.context = context;
  }

  /** Register a factory for its name and aliases (it replaces a known-but-unavailable entry of that name). */
  register(factory: ProvisionerFactory): this {
    for (const n of [factory.name, ...(factory.aliases ?? [])]) {
      this.factories.set(n, factory);
      this.unavailable.delete(n);
    }
    return this;
  }

  /** Record names the app knows but has no backend for here, so their refusal can say what they need. */
  markUnavailable(...entries: UnavailableProvisioner[]): this {
    for (const e of entries) if (!this.factories.has(e.name)) this.unavailable.set(e.name, e);
    return this;
  }

  /** Names with a factory. */
  names(): string[] {
    return [...this.factories.keys()];
  }

  /** The factory for `spec`; throws ProvisionerUnavailableError (before anything runs) when there is none. */
  resolve(spec: KernelSpec): ProvisionerFactory {
    const name = provisionerNameOf(spec);
    const factory = this.factories.get(name);
    if (factory) return factory;
    throw this.refusal(spec, name);
  }

  /** null when `spec` can run here, else the reason it is refused. */
  check(spec: KernelSpec): string | null {
    try {
      this.resolve(spec);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** A new provisioner for one kernel of `spec`. */
  create(opts: Omit<ProvisionerCreateOptions, 'config'>): KernelProvisioner {
    const factory = this.resolve(opts.spec);
    return factory.create({ ...opts, config: provisionerConfigOf(opts.spec) }, this.context);
  }

  /**
   * A provisioner to take over a kernel saved as `state` (re-attach): the factory of the provisioner that saved
   * it, whatever the spec names now. It outlived an app already, so it is not tied to this one.
   */
  createForState(state: ProvisionerState, spec: KernelSpec): KernelProvisioner {
    const factory = this.factories.get(state.provisioner);
    if (!factory) throw this.refusal(spec, state.provisioner);
    return factory.create(
      { kernelId: state.kernelId, spec, config: provisionerConfigOf(spec), outlivesApp: true },
      this.context,
    );
  }

  private refusal(spec: KernelSpec, name: string): ProvisionerUnavailableError {
    const file = path.join(spec.resourceDir, 'kernel.json');
    const known = this.unavailable.get(name);
    if (known) {
      return new ProvisionerUnavailableError(
        name,
        spec.name,
        true,
        `Kernel "${spec.name}" cannot start: its kernelspec uses ${known.origin}' ${name}, which needs ` +
          `${known.needs}; Gateway Desktop cannot run it on ${this.where} (its argv was not run). ` +
          `${known.setUp}, or use the kernelspec on a gateway cluster that has ${known.origin}.`,
      );
    }
    const have = this.names().join(', ') || 'none';
    return new ProvisionerUnavailableError(
      name,
      spec.name,
      false,
      `Kernel "${spec.name}" cannot start: its kernelspec names provisioner "${name}" ` +
        `(metadata.kernel_provisioner.provisioner_name in ${file}), which Gateway Desktop does not have ` +
        `on ${this.where} (it has: ${have}); its argv was not run. Remove metadata.kernel_provisioner to run ` +
        `it as a local process, or use the kernelspec on a gateway cluster that has that provisioner.`,
    );
  }
}
