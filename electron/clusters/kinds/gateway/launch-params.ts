// The KERNEL_* launch parameters a gateway cluster sends with every start: the known ones (offered by the form and
// the CLI help, checked everywhere) and the one rule for a parameter's name and value. Pure (no Node imports):
// the renderer may import the list.

export interface LaunchParam {
  name: string;
  value: string;
}

export interface KnownLaunchParam {
  name: string;
  description: string;
  /** Returns an error message, or null when the value is acceptable. */
  validate: (value: string) => string | null;
  example: string;
}

const positiveNumber = (v: string): string | null =>
  /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 ? null : 'must be a positive number';
const nonNegativeInt = (v: string): string | null => (/^\d+$/.test(v) ? null : 'must be a whole number');
const memory = (v: string): string | null =>
  /^\d+(\.\d+)?([KMGTP]i?)?$/i.test(v) ? null : 'must be an amount like 4Gi, 512Mi or 2G';
const dnsLabel = (v: string): string | null =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)
    ? null
    : 'must be a lowercase name of letters, digits and "-" (a Kubernetes namespace)';
const nonEmpty = (v: string): string | null => (v.trim() ? null : 'must not be empty');
const jsonArray = (v: string): string | null => {
  try {
    return Array.isArray(JSON.parse(v)) ? null : 'must be a JSON list, e.g. [{"name": ...}]';
  } catch {
    return 'must be a JSON list, e.g. [{"name": ...}]';
  }
};
const absPath = (v: string): string | null => (v.startsWith('/') ? null : 'must be an absolute path');

export const KNOWN_LAUNCH_PARAMS: readonly KnownLaunchParam[] = [
  {
    name: 'KERNEL_IMAGE',
    description: 'Container image of the kernel',
    validate: nonEmpty,
    example: 'elyra/kernel-py:3.2.3',
  },
  {
    name: 'KERNEL_EXECUTOR_IMAGE',
    description: 'Container image of Spark executors',
    validate: nonEmpty,
    example: 'elyra/kernel-spark-py:3.2.3',
  },
  {
    name: 'KERNEL_CPUS',
    description: 'CPUs requested for the kernel',
    validate: positiveNumber,
    example: '2',
  },
  { name: 'KERNEL_MEMORY', description: 'Memory requested for the kernel', validate: memory, example: '4G' },
  {
    name: 'KERNEL_GPUS',
    description: 'GPUs requested for the kernel',
    validate: nonNegativeInt,
    example: '1',
  },
  {
    name: 'KERNEL_CPUS_LIMIT',
    description: 'CPU limit of the kernel',
    validate: positiveNumber,
    example: '4',
  },
  { name: 'KERNEL_MEMORY_LIMIT', description: 'Memory limit of the kernel', validate: memory, example: '8G' },
  {
    name: 'KERNEL_GPUS_LIMIT',
    description: 'GPU limit of the kernel',
    validate: nonNegativeInt,
    example: '1',
  },
  {
    name: 'KERNEL_NAMESPACE',
    description: 'Kubernetes namespace of the kernel pod',
    validate: dnsLabel,
    example: 'alice-kernels',
  },
  {
    name: 'KERNEL_SERVICE_ACCOUNT_NAME',
    description: 'Kubernetes service account of the kernel pod',
    validate: dnsLabel,
    example: 'default',
  },
  {
    name: 'KERNEL_LAUNCH_TIMEOUT',
    description:
      'Seconds the gateway waits for the kernel to start (kept consistent with the request timeout)',
    validate: positiveNumber,
    example: '40',
  },
  {
    name: 'KERNEL_VOLUMES',
    description: 'Volumes for the kernel pod (JSON list)',
    validate: jsonArray,
    example: '[{"name": "data", "hostPath": {"path": "/data"}}]',
  },
  {
    name: 'KERNEL_VOLUME_MOUNTS',
    description: 'Volume mounts for the kernel container (JSON list)',
    validate: jsonArray,
    example: '[{"name": "data", "mountPath": "/data"}]',
  },
  {
    name: 'KERNEL_UID',
    description: 'User id the kernel runs as',
    validate: nonNegativeInt,
    example: '1000',
  },
  {
    name: 'KERNEL_GID',
    description: 'Group id the kernel runs as',
    validate: nonNegativeInt,
    example: '100',
  },
  {
    name: 'KERNEL_WORKING_DIR',
    description: 'Working directory of the kernel on the gateway side',
    validate: absPath,
    example: '/home/alice/work',
  },
  {
    name: 'KERNEL_REMOTE_HOST',
    description: 'Host the kernel should run on (overrides load balancing)',
    validate: nonEmpty,
    example: 'node7',
  },
  {
    name: 'KERNEL_EXTRA_SPARK_OPTS',
    description: 'Extra spark-submit options',
    validate: nonEmpty,
    example: '--conf spark.executor.instances=2',
  },
];

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Enterprise Gateway rejects values with these characters (and values longer than 4096). */
const FORBIDDEN_VALUE = /[$`\r\n\0]/;

export function validateLaunchParam(p: LaunchParam): string | null {
  if (!/^KERNEL_[A-Z0-9_]+$/.test(p.name)) {
    return `${p.name}: launch parameters are KERNEL_* variables (upper case); use "forward env" for other names`;
  }
  if (p.name === 'KERNEL_USERNAME') {
    return "KERNEL_USERNAME: set it as the cluster's username instead (the KERNEL_USERNAME field of the cluster settings; CLI: --username U, or npm run cluster -- set NAME --username U)";
  }
  if (p.name === 'KERNEL_ID') return "KERNEL_ID: set by the app (it is the kernel's id, one per kernel)";
  if (p.value.length > 4096) return `${p.name}: value is longer than 4096 characters`;
  const known = KNOWN_LAUNCH_PARAMS.find((k) => k.name === p.name);
  const err = known?.validate(p.value);
  if (known && err) return `${p.name} ${err} (e.g. ${known.example})`;
  if (FORBIDDEN_VALUE.test(p.value))
    return `${p.name}: value must not contain $, a backtick, a line break or NUL`;
  return null;
}
