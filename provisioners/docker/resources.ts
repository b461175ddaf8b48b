// What a kernel's container gets: image, CPUs, memory, GPUs, volumes, user, working dir, env. Defaults come from
// the kernel environment; Gateway Provisioners' KERNEL_* launch variables (reference §1.2, §1.5) override them
// per kernel. A bad value fails the launch before anything is created, saying what a valid one looks like.

export interface VolumeMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface KernelResources {
  image?: string;
  cpus?: number;
  memoryBytes?: number;
  gpus?: number | 'all';
  volumes?: VolumeMount[];
  uid?: number;
  gid?: number;
  workingDir?: string;
  env?: Record<string, string>;
}

/** A KERNEL_* variable (or an environment setting) with a value the engine cannot use. */
export class KernelResourceError extends Error {
  override name = 'KernelResourceError';
  constructor(
    readonly variable: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${variable}="${value}" is not valid: ${expected}`);
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** "512m", "2g", "2Gi", "1.5G", "1073741824" → bytes (binary units, as `docker run --memory`). */
export function parseMemory(value: string, variable = 'KERNEL_MEMORY'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  // The engine refuses a limit under 6 MiB.
  if (!Number.isFinite(bytes) || bytes < 6 * 1024 ** 2)
    throw new KernelResourceError(
      variable,
      value,
      'a size of at least 6m, e.g. 512m, 2g, 2Gi or 1073741824 (bytes)',
    );
  return bytes;
}

export function parseCpus(value: string, variable = 'KERNEL_CPUS'): number {
  const n = Number(value.trim());
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(n > 0) || n > 1024)
    throw new KernelResourceError(variable, value, 'a number of CPUs above 0, e.g. 1, 2 or 0.5');
  return n;
}

export function parseGpus(value: string, variable = 'KERNEL_GPUS'): number | 'all' {
  const v = value.trim().toLowerCase();
  if (v === 'all' || v === '-1') return 'all';
  if (!/^\d+$/.test(v))
    throw new KernelResourceError(variable, value, 'a whole number of GPUs (0, 1, 2, …) or "all"');
  return Number(v);
}

function parseId(value: string, variable: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) > 2 ** 31 - 1)
    throw new KernelResourceError(
      variable,
      value,
      'a numeric id such as 1000 (names are not resolved in the image)',
    );
  return Number(value);
}

/** "src:dst[:ro|:rw]" items, comma separated; both paths absolute (a source may also be a named volume). */
export function parseVolumes(value: string, variable = 'KERNEL_VOLUMES'): VolumeMount[] {
  const out: VolumeMount[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    if (!item) continue;
    const parts = item.split(':');
    const mode = parts.length === 3 ? parts[2] : parts.length === 2 ? 'rw' : undefined;
    const [source, target] = parts;
    const named = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source ?? '');
    if (
      !source ||
      !target ||
      !target.startsWith('/') ||
      (!source.startsWith('/') && !named) ||
      (mode !== 'ro' && mode !== 'rw')
    )
      throw new KernelResourceError(
        variable,
        value,
        `comma-separated SOURCE:TARGET[:ro] items with absolute paths (or a volume name as SOURCE), e.g. ` +
          `/data:/home/jovyan/data:ro,/scratch:/scratch ("${item}" is not one)`,
      );
    out.push({ source, target, readOnly: mode === 'ro' });
  }
  return out;
}

/** The KERNEL_* launch variables this module reads (the rest of the env goes to the kernel as it is). */
export const RESOURCE_VARIABLES = [
  'KERNEL_IMAGE',
  'KERNEL_CPUS',
  'KERNEL_MEMORY',
  'KERNEL_GPUS',
  'KERNEL_VOLUMES',
  'KERNEL_UID',
  'KERNEL_GID',
  'KERNEL_WORKING_DIR',
] as const;

/**
 * The kernel environment's defaults with the launch env's KERNEL_* overrides applied. Empty values are ignored
 * (a client that sends KERNEL_CPUS="" asks for nothing). `env` of the result is the defaults' env.
 */
export function resourcesFromLaunchEnv(
  env: Record<string, string>,
  defaults: KernelResources = {},
): KernelResources {
  const r: KernelResources = { ...defaults };
  const get = (k: string): string | undefined => {
    const v = env[k];
    return v !== undefined && v.trim() !== '' ? v : undefined;
  };
  const image = get('KERNEL_IMAGE');
  if (image !== undefined) {
    if (/\s/.test(image.trim()))
      throw new KernelResourceError(
        'KERNEL_IMAGE',
        image,
        'an image reference such as python:3.12 or registry/org/img:tag',
      );
    r.image = image.trim();
  }
  const cpus = get('KERNEL_CPUS');
  if (cpus !== undefined) r.cpus = parseCpus(cpus);
  const mem = get('KERNEL_MEMORY');
  if (mem !== undefined) r.memoryBytes = parseMemory(mem);
  const gpus = get('KERNEL_GPUS');
  if (gpus !== undefined) r.gpus = parseGpus(gpus);
  const vols = get('KERNEL_VOLUMES');
  if (vols !== undefined) r.volumes = [...(defaults.volumes ?? []), ...parseVolumes(vols)];
  const uid = get('KERNEL_UID');
  if (uid !== undefined) r.uid = parseId(uid, 'KERNEL_UID');
  const gid = get('KERNEL_GID');
  if (gid !== undefined) r.gid = parseId(gid, 'KERNEL_GID');
  const wd = get('KERNEL_WORKING_DIR');
  if (wd !== undefined) {
    if (!wd.startsWith('/'))
      throw new KernelResourceError(
        'KERNEL_WORKING_DIR',
        wd,
        'an absolute path inside the container, e.g. /home/jovyan/work',
      );
    r.workingDir = wd;
  }
  return r;
}

/**
 * `docker run --user` from uid/gid ("1000:100", "1000"), or undefined: the image's own user. A gid without a uid
 * cannot be a --user (it would need a uid): the provisioner adds it as a supplementary group instead.
 */
export function userOf(r: KernelResources): string | undefined {
  if (r.uid === undefined) return undefined;
  return r.gid === undefined ? String(r.uid) : `${r.uid}:${r.gid}`;
}
