// Kernelspec discovery in the Jupyter data paths, like jupyter_client's KernelSpecManager:
// <data dir>/kernels/<name>/kernel.json, earlier directories win on name clashes, names are lower-cased.
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import type { KernelSpec, KernelSpecFile, KernelSpecProblem } from '../types';

export const KERNEL_NAME_RE = /^[A-Za-z0-9._-]+$/;

/** The kernelspec directories (each `<jupyter data dir>/kernels`) in Jupyter's search order. */
export function jupyterDataPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  const platform = process.platform;
  const jp = env.JUPYTER_PATH;
  if (jp) for (const p of jp.split(path.delimiter)) if (p.trim()) dirs.push(p.trim());

  if (env.JUPYTER_DATA_DIR) {
    dirs.push(env.JUPYTER_DATA_DIR);
  } else {
    const home = env.HOME || env.USERPROFILE || homedir();
    if (platform === 'darwin') dirs.push(path.join(home, 'Library', 'Jupyter'));
    else if (platform === 'win32') {
      dirs.push(path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'jupyter'));
    } else {
      const xdg = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
      dirs.push(path.join(xdg, 'jupyter'));
    }
  }

  if (platform === 'win32') {
    const programData = env.PROGRAMDATA || 'C:\\ProgramData';
    dirs.push(path.join(programData, 'jupyter'));
  } else {
    dirs.push('/usr/local/share/jupyter', '/usr/share/jupyter');
  }

  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of dirs) {
    const k = path.join(path.resolve(d), 'kernels');
    if (!seen.has(k)) {
      seen.add(k);
      out.push(k);
    }
  }
  return out;
}

const schema = {
  type: 'object',
  required: ['argv', 'display_name', 'language'],
  properties: {
    argv: { type: 'array', minItems: 1, items: { type: 'string' } },
    display_name: { type: 'string' },
    language: { type: 'string' },
    interrupt_mode: { type: 'string', enum: ['signal', 'message'] },
    env: { type: 'object', additionalProperties: { type: 'string' } },
    metadata: {
      type: 'object',
      properties: {
        kernel_provisioner: {
          type: 'object',
          required: ['provisioner_name'],
          properties: {
            provisioner_name: { type: 'string', minLength: 1 },
            config: { type: 'object' },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSpec = ajv.compile<KernelSpecFile>(schema);

/** Turn one ajv error into words a user can act on. */
function describeError(e: ErrorObject): string {
  const p = e.instancePath.split('/').filter(Boolean);
  const top =
    e.keyword === 'required' ? String((e.params as { missingProperty?: string }).missingProperty) : p[0];
  switch (top) {
    case 'argv':
      return e.keyword === 'required'
        ? "'argv' is missing: it must be a non-empty list of strings (the command that starts the kernel)"
        : "'argv' must be a non-empty list of strings";
    case 'display_name':
      return e.keyword === 'required' ? "'display_name' is missing" : "'display_name' must be a string";
    case 'language':
      return e.keyword === 'required' ? "'language' is missing" : "'language' must be a string";
    case 'interrupt_mode':
      return '\'interrupt_mode\' must be "signal" or "message"';
    case 'env':
      return p.length > 1
        ? `'env' values must be strings ('${p.slice(1).join('/')}' is not)`
        : "'env' must be an object mapping names to strings";
    case 'metadata':
      if (p[1] === 'kernel_provisioner') {
        if (e.keyword === 'required' || p[2] === 'provisioner_name') {
          return "'metadata.kernel_provisioner.provisioner_name' must be a non-empty string";
        }
        if (p[2] === 'config') return "'metadata.kernel_provisioner.config' must be an object";
        return "'metadata.kernel_provisioner' must be an object";
      }
      return "'metadata' must be an object";
    default:
      if (e.instancePath === '' && e.keyword === 'type') return 'the file must contain a JSON object';
      return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`;
  }
}

/** Validate a parsed kernel.json; returns the list of problems (empty when valid). */
export function validateKernelSpecFile(value: unknown): string[] {
  if (validateSpec(value)) return [];
  const msgs = (validateSpec.errors ?? []).map(describeError);
  return [...new Set(msgs)];
}

/** Replace ${VAR} in kernelspec env values from `env`, leaving unknown variables as written (like jupyter_client). */
export function substituteEnv(
  values: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => env[name] ?? whole);
  }
  return out;
}

const KNOWN_RESOURCES: Record<string, string> = {
  'logo-32x32.png': 'logo-32x32',
  'logo-64x64.png': 'logo-64x64',
  'logo-svg.svg': 'logo-svg',
  'kernel.js': 'kernel.js',
  'kernel.css': 'kernel.css',
};

async function findResources(dir: string): Promise<Record<string, string>> {
  const resources: Record<string, string> = {};
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return resources;
  }
  for (const f of names.sort()) {
    let key = KNOWN_RESOURCES[f];
    if (!key && f.startsWith('logo-')) key = f.replace(/\.[^.]+$/, '');
    if (!key || resources[key]) continue;
    try {
      if ((await stat(path.join(dir, f))).isFile()) resources[key] = f;
    } catch {
      // vanished or unreadable: not a resource
    }
  }
  return resources;
}

export interface DiscoverOptions {
  /** Kernelspec directories to search (each holding <name>/kernel.json); default jupyterDataPaths(env). */
  dirs?: string[];
  /** Environment for the search path and for ${VAR} substitution; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface DiscoveryResult {
  specs: KernelSpec[];
  problems: KernelSpecProblem[];
}

/** Load and validate one kernelspec directory. */
export async function loadKernelSpec(
  resourceDir: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KernelSpec | KernelSpecProblem> {
  const file = path.join(resourceDir, 'kernel.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { name, path: file, message: `kernel.json: cannot be read (${code ?? String(err)})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { name, path: file, message: `kernel.json: not valid JSON (${(err as Error).message})` };
  }
  const errors = validateKernelSpecFile(parsed);
  if (errors.length) return { name, path: file, message: `kernel.json: ${errors.join('; ')}` };
  const spec = parsed as KernelSpecFile;
  if (spec.env) spec.env = substituteEnv(spec.env, env);
  return { name, resourceDir, spec, resources: await findResources(resourceDir) };
}

function isProblem(x: KernelSpec | KernelSpecProblem): x is KernelSpecProblem {
  return 'message' in x;
}

/**
 * Every kernelspec in `dirs` (default: the Jupyter data paths). Invalid specs are reported in `problems`
 * with their path and a readable reason; they never hide valid ones.
 */
export async function discoverKernelSpecs(opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const env = opts.env ?? process.env;
  const dirs = opts.dirs ?? jupyterDataPaths(env);
  const specs: KernelSpec[] = [];
  const problems: KernelSpecProblem[] = [];
  const taken = new Set<string>();

  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch {
      continue; // a search directory that does not exist is normal
    }
    for (const entry of entries) {
      const full = path.join(dir, entry);
      try {
        if (!(await stat(full)).isDirectory()) continue;
      } catch {
        continue;
      }
      if (!KERNEL_NAME_RE.test(entry)) {
        problems.push({
          name: entry,
          path: full,
          message: `invalid kernel name "${entry}": names may only contain ASCII letters, digits, '.', '_' and '-'`,
        });
        continue;
      }
      const name = entry.toLowerCase();
      if (taken.has(name)) continue; // an earlier directory wins
      const res = await loadKernelSpec(full, name, env);
      if (isProblem(res)) {
        problems.push(res);
        continue;
      }
      taken.add(name);
      specs.push(res);
    }
  }
  specs.sort((a, b) => a.name.localeCompare(b.name));
  return { specs, problems };
}

/** Find one spec by name (case-insensitive) in the search path. */
export async function findKernelSpec(
  name: string,
  opts: DiscoverOptions = {},
): Promise<KernelSpec | undefined> {
  const { specs } = await discoverKernelSpecs(opts);
  const n = name.toLowerCase();
  return specs.find((s) => s.name === n);
}
