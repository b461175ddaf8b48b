// The launch form's shapes in the host API contract (pure types; the renderer reads them through contract.ts).

/** What kind of value a launch parameter takes (the form picks its input and hint by it). */
export type LaunchValueKind = 'memory' | 'cpus' | 'gpus' | 'image' | 'text' | 'path' | 'list' | 'seconds';

/** One parameter a cluster kind declares for starting a kernel (a KERNEL_* variable). */
export interface LaunchParameterInfo {
  /** The variable, KERNEL_*. */
  name: string;
  label: string;
  help: string;
  kind: LaunchValueKind;
  /** Pre-filled value: the environment's own, else the cluster's ('' for none). */
  default: string;
  /** A value that would be accepted. */
  example: string;
  /** When only these values make sense (an SSH cluster's hosts). */
  choices?: string[];
  /** Rarely changed: the form folds it under "More parameters". */
  more?: boolean;
}

/** The launch form for one environment of a cluster. */
export interface LaunchForm {
  clusterId: string;
  specName: string;
  parameters: LaunchParameterInfo[];
  /** Where the values go, in a sentence for the form. */
  note: string;
}

/** A start (or a check of one): `env` holds the KERNEL_* values chosen; empty values are not sent. */
/** "Save as size…" (values: the form's KERNEL_* values; empty ones are dropped) and "Remove size". */
export interface SizeRequest {
  clusterId: string;
  /** The environment the size is for (its kernelspec name on the cluster). */
  environment: string;
  name: string;
  values?: Record<string, string>;
}

export interface LaunchRequest {
  clusterId: string;
  specName: string;
  env?: Record<string, string>;
}
