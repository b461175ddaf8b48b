// Launch parameters a cluster kind declares for its launch form: the KERNEL_* variables a person may set when
// starting one kernel (image, CPUs, memory, GPUs, ...), each with its label, help, the kind of value, the
// default from the environment or the cluster, and a validator. The syntax rules are the gateway kind's
// (gateway/launch-params.ts, the one source); a kind may narrow them (a host among the cluster's) or replace
// one with its backend's own parser. Pure (no Node imports), so the renderer may import the types.
import { KNOWN_LAUNCH_PARAMS, validateLaunchParam, type KnownLaunchParam } from './gateway/launch-params';

import type { LaunchValueKind } from '../../host-api/launch-models';

export type { LaunchValueKind } from '../../host-api/launch-models';

/** One declared parameter, as the launch form shows it and the host checks it. */
export interface LaunchParameter {
  /** The variable (KERNEL_*). */
  name: string;
  label: string;
  help: string;
  kind: LaunchValueKind;
  /** Pre-filled value ('' for none): the environment's own, else the cluster's. */
  default: string;
  /** A value that would be accepted, for the hint. */
  example: string;
  /** When only some values make sense (the cluster's hosts). */
  choices?: string[];
  /** Shown folded under "More parameters" (rarely changed). */
  more?: boolean;
  /** An error message, or null when the value is acceptable. Only called for a non-empty value. */
  validate(value: string): string | null;
}

/** The kernel environment a form is for: its name on the cluster and the env its kernelspec sets. */
export interface LaunchEnvironment {
  name: string;
  /** The kernelspec's env (KERNEL_* defaults an administrator put there), {} when unknown. */
  env: Record<string, string>;
}

const KIND_OF: Record<string, LaunchValueKind> = {
  KERNEL_IMAGE: 'image',
  KERNEL_EXECUTOR_IMAGE: 'image',
  KERNEL_CPUS: 'cpus',
  KERNEL_CPUS_LIMIT: 'cpus',
  KERNEL_MEMORY: 'memory',
  KERNEL_MEMORY_LIMIT: 'memory',
  KERNEL_GPUS: 'gpus',
  KERNEL_GPUS_LIMIT: 'gpus',
  KERNEL_VOLUMES: 'list',
  KERNEL_VOLUME_MOUNTS: 'list',
  KERNEL_WORKING_DIR: 'path',
  KERNEL_LAUNCH_TIMEOUT: 'seconds',
};

const LABELS: Record<string, string> = {
  KERNEL_IMAGE: 'Image',
  KERNEL_EXECUTOR_IMAGE: 'Executor image',
  KERNEL_CPUS: 'CPUs',
  KERNEL_MEMORY: 'Memory',
  KERNEL_GPUS: 'GPUs',
  KERNEL_CPUS_LIMIT: 'CPU limit',
  KERNEL_MEMORY_LIMIT: 'Memory limit',
  KERNEL_GPUS_LIMIT: 'GPU limit',
  KERNEL_NAMESPACE: 'Namespace',
  KERNEL_SERVICE_ACCOUNT_NAME: 'Service account',
  KERNEL_LAUNCH_TIMEOUT: 'Launch timeout (s)',
  KERNEL_VOLUMES: 'Volumes',
  KERNEL_VOLUME_MOUNTS: 'Volume mounts',
  KERNEL_UID: 'User id',
  KERNEL_GID: 'Group id',
  KERNEL_WORKING_DIR: 'Working directory',
  KERNEL_REMOTE_HOST: 'Host',
  KERNEL_EXTRA_SPARK_OPTS: 'Extra Spark options',
};

export interface ParameterOverrides {
  label?: string;
  help?: string;
  kind?: LaunchValueKind;
  example?: string;
  choices?: string[];
  more?: boolean;
  /** Replaces the known rule (a backend's own parser); the generic name/character rules still apply. */
  validate?: (value: string) => string | null;
}

/**
 * A declared parameter from the known KERNEL_* list (labels and syntax included). `defaults` are where the
 * default comes from, first non-empty wins (the environment's env, then the cluster's own settings).
 */
export function launchParameter(
  name: string,
  defaults: (Record<string, string> | undefined)[],
  over: ParameterOverrides = {},
): LaunchParameter {
  const known: KnownLaunchParam | undefined = KNOWN_LAUNCH_PARAMS.find((k) => k.name === name);
  const own = over.validate;
  const example = over.example ?? known?.example ?? '';
  return {
    name,
    label: over.label ?? LABELS[name] ?? name,
    help: over.help ?? known?.description ?? '',
    kind: over.kind ?? KIND_OF[name] ?? 'text',
    default: defaults.map((d) => d?.[name] ?? '').find((v) => v !== '') ?? '',
    example,
    ...(over.choices ? { choices: over.choices } : {}),
    ...(over.more ? { more: true } : {}),
    validate: (value) => {
      if (!own) return validateLaunchParam({ name, value });
      const err = own(value);
      if (err) return `${name} ${err}${example ? ` (e.g. ${example})` : ''}`;
      return genericOnly(name, value);
    },
  };
}

/** The rules every KERNEL_* value follows whatever its kind (name shape, length, forbidden characters). */
function genericOnly(name: string, value: string): string | null {
  return validateLaunchParam({ name: 'KERNEL_X_OTHER', value })?.replace('KERNEL_X_OTHER', name) ?? null;
}

/**
 * Check the values of a start (variable -> value; empty values are not sent and not checked): declared
 * parameters by their validator, any other variable by the generic rules. Variable -> message.
 */
export function checkLaunchValues(
  params: readonly LaunchParameter[],
  values: Record<string, string>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string') {
      errors[name] = `${name}: the value must be text`;
      continue;
    }
    if (value === '') continue;
    const p = params.find((x) => x.name === name);
    const err = p ? p.validate(value) : validateLaunchParam({ name, value });
    if (err) errors[name] = err;
  }
  return errors;
}
