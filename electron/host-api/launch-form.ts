// The launch form's host methods: the parameters a cluster's kind declares for an environment (getLaunchForm),
// the check of chosen values (syntax by the declared validators and the generic KERNEL_* rules, then the
// cluster's own checks once the syntax is right), and the start that refuses invalid values before anything
// is sent. The service delegates here; nothing in this file knows a cluster kind.
import { checkLaunchValues, type LaunchParameter } from '../clusters/kinds/launch-parameters';
import type { ClusterLaunchParameters, HostBackend } from './backend';
import { HostError } from './contract';
import { requireString } from './errors-util';
import type { KernelLaunches } from './launches';
import type { LaunchForm, LaunchParameterInfo, LaunchRequest, SizeRequest } from './launch-models';

const NOTE =
  'Each value is sent as its KERNEL_* variable with this start only; what the cluster does with it depends on its kernelspecs. Leave a field empty to keep the default.';

function info(p: LaunchParameter): LaunchParameterInfo {
  const out: LaunchParameterInfo = {
    name: p.name,
    label: p.label,
    help: p.help,
    kind: p.kind,
    default: p.default,
    example: p.example,
  };
  if (p.choices) out.choices = [...p.choices];
  if (p.more) out.more = true;
  return out;
}

export class LaunchFormMethods {
  constructor(
    private readonly backend: HostBackend,
    private readonly launches: KernelLaunches,
  ) {}

  async getLaunchForm(req: { clusterId: string; specName: string }): Promise<LaunchForm> {
    const { clusterId, specName } = this.target(req);
    const declared = await this.declared(clusterId, specName);
    return { clusterId, specName, parameters: declared.parameters.map(info), note: NOTE };
  }

  async checkLaunch(req: LaunchRequest): Promise<Record<string, string>> {
    const { clusterId, specName } = this.target(req);
    const env = this.envOf(req);
    const declared = await this.declared(clusterId, specName);
    const errors = checkLaunchValues(declared.parameters, env);
    if (Object.keys(errors).length) return errors;
    const sent = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
    let problems;
    try {
      problems = await declared.check(sent);
    } catch {
      // A cluster that cannot answer its own check does not block a start the syntax allows.
      return {};
    }
    for (const p of problems) errors[p.field] ??= p.message;
    return errors;
  }

  async startKernel(req: LaunchRequest): Promise<{ launchId: string }> {
    const { clusterId, specName } = this.target(req);
    if (!this.backend.runtime(clusterId))
      throw new HostError({ code: 'not-found', message: `There is no enabled cluster "${clusterId}".` });
    const env = Object.fromEntries(Object.entries(this.envOf(req)).filter(([, v]) => v !== ''));
    const fieldErrors = Object.keys(env).length ? await this.checkLaunch({ clusterId, specName, env }) : {};
    if (Object.keys(fieldErrors).length)
      throw new HostError({
        code: 'invalid-input',
        message: `Nothing was started: ${Object.values(fieldErrors).join('; ')}`,
        fieldErrors,
      });
    return this.launches.start(clusterId, specName, env);
  }

  /** "Save as size…": the values checked as checkLaunch checks them (same fieldErrors), then stored. */
  async saveSize(req: SizeRequest): Promise<void> {
    const { clusterId, environment, name } = this.sizeTarget(req);
    const env = this.envOf({ clusterId, specName: environment, env: req.values });
    const values = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
    if (!Object.keys(values).length)
      throw new HostError({ code: 'invalid-input', message: 'Set at least one value to save as a size.' });
    const fieldErrors = checkLaunchValues((await this.declared(clusterId, environment)).parameters, values);
    if (Object.keys(fieldErrors).length)
      throw new HostError({
        code: 'invalid-input',
        message: `Nothing was saved: ${Object.values(fieldErrors).join('; ')}`,
        fieldErrors,
      });
    await this.saver()(clusterId, (sizes) => {
      if (sizes.some((s) => s.environment === environment && s.name.toLowerCase() === name.toLowerCase()))
        throw new HostError({
          code: 'conflict',
          message: `There is a size "${name}" of this environment already.`,
        });
      return [...sizes, { environment, name, values }];
    });
  }

  async removeSize(req: SizeRequest): Promise<void> {
    const { clusterId, environment, name } = this.sizeTarget(req);
    await this.saver()(clusterId, (sizes) =>
      sizes.filter((s) => !(s.environment === environment && s.name.toLowerCase() === name.toLowerCase())),
    );
  }

  private sizeTarget(req: SizeRequest): { clusterId: string; environment: string; name: string } {
    const r: Partial<SizeRequest> = typeof req === 'object' && req !== null ? req : {};
    return {
      clusterId: requireString(r.clusterId, 'Cluster id'),
      environment: requireString(r.environment, 'Kernel environment'),
      name: requireString(r.name, 'Size name').trim(),
    };
  }

  private saver(): NonNullable<HostBackend['saveSizes']> {
    const save = this.backend.saveSizes?.bind(this.backend);
    if (!save) throw new HostError({ code: 'unavailable', message: 'Sizes cannot be saved here.' });
    return save;
  }

  private target(req: unknown): { clusterId: string; specName: string } {
    if (typeof req !== 'object' || req === null)
      throw new HostError({ code: 'invalid-input', message: 'Say which environment to start.' });
    const r = req as Record<string, unknown>;
    return {
      clusterId: requireString(r.clusterId, 'Cluster id'),
      specName: requireString(r.specName, 'Kernel environment'),
    };
  }

  private envOf(req: LaunchRequest): Record<string, string> {
    const env = req.env ?? {};
    if (typeof env !== 'object' || env === null || Array.isArray(env))
      throw new HostError({ code: 'invalid-input', message: 'Launch values must be VARIABLE: value pairs.' });
    if (Object.keys(env).length > 100)
      throw new HostError({ code: 'invalid-input', message: 'Too many launch values (at most 100).' });
    return env;
  }

  private async declared(clusterId: string, specName: string): Promise<ClusterLaunchParameters> {
    if (!this.backend.runtime(clusterId))
      throw new HostError({ code: 'not-found', message: `There is no enabled cluster "${clusterId}".` });
    return (
      (await this.backend.launchParameters?.(clusterId, specName)) ?? {
        parameters: [],
        check: async () => [],
      }
    );
  }
}
