// The "This computer" cluster: kernelspecs from the Jupyter data paths (or given directories), kernels
// started by the local provisioner as KernelManagers.
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { discoverKernelSpecs } from '../../provisioners/kernelspec/discovery';
import { startKernel, type AutoRestartOptions } from '../../provisioners/kernel-manager';
import type { KernelBackend, KernelSpec } from '../../provisioners/types';
import type { ClusterKernelSpecs, ClusterRuntime, StartKernelRequest } from './types';
import { KernelSpecNotFoundError } from '../kernels/errors';

export interface LocalClusterOptions {
  /** Cluster id (slug-like; default 'local'). */
  id?: string;
  /** Display name (default "This computer"). */
  name?: string;
  /** Kernelspec directories to search (each holding `<name>/kernel.json`); default the Jupyter data paths. */
  kernelSpecDirs?: string[];
  /** Environment for the search path and `${VAR}` substitution; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default spec name when it exists (default 'python3', else the first spec). */
  defaultSpec?: string;
  /** Automatic restart of kernels that die on their own (off by default). */
  autoRestart?: AutoRestartOptions;
  /** Launch timeout when the request has no KERNEL_LAUNCH_TIMEOUT (ms). Default 60 s. */
  launchTimeoutMs?: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Content type for a resource file name (by extension; unknown → application/octet-stream). */
export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * True when `file` is a safe relative path inside a resource directory: no empty, `.` or `..` segments,
 * no backslashes or NUL, not absolute.
 */
export function isSafeRelativePath(file: string): boolean {
  if (
    !file ||
    file.includes('\0') ||
    file.includes('\\') ||
    path.isAbsolute(file) ||
    /^[A-Za-z]:/.test(file)
  ) {
    return false;
  }
  return file.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** A ClusterRuntime for kernels on this computer. */
export class LocalCluster implements ClusterRuntime {
  readonly id: string;
  readonly name: string;
  readonly kind = 'local';
  private readonly opts: LocalClusterOptions;

  constructor(opts: LocalClusterOptions = {}) {
    this.opts = opts;
    this.id = opts.id ?? 'local';
    this.name = opts.name ?? 'This computer';
  }

  /** Kernelspecs found now (discovery runs on every call; it is a few directory reads). */
  async listKernelSpecs(): Promise<ClusterKernelSpecs> {
    const { specs, problems } = await this.discover();
    const preferred = this.opts.defaultSpec ?? 'python3';
    const def = specs.find((s) => s.name === preferred)?.name ?? specs[0]?.name ?? null;
    return {
      default: def,
      specs: specs.map((s) => ({ name: s.name, spec: s.spec, resources: s.resources })),
      problems,
    };
  }

  /** A file from a spec's resource directory; null when the spec, the file or a safe path is missing. */
  async getResource(specName: string, file: string): Promise<{ body: Buffer; contentType: string } | null> {
    if (!isSafeRelativePath(file)) return null;
    const spec = await this.findSpec(specName);
    if (!spec) return null;
    try {
      const root = await realpath(spec.resourceDir);
      const full = await realpath(path.join(root, file));
      if (!full.startsWith(root + path.sep)) return null; // a symlink out of the directory
      if (!(await stat(full)).isFile()) return null;
      return { body: await readFile(full), contentType: contentTypeFor(full) };
    } catch {
      return null;
    }
  }

  /** Start a kernel with the local provisioner; resolves once it answered kernel_info. */
  async startKernel(req: StartKernelRequest): Promise<KernelBackend> {
    const spec = await this.findSpec(req.specName);
    if (!spec) throw new KernelSpecNotFoundError(req.specName);
    let cwd = req.cwd;
    if (cwd) {
      const ok = await stat(cwd).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!ok || !path.isAbsolute(cwd)) cwd = undefined; // a client's notebook dir that is not here
    }
    const fromEnv = Number(req.env.KERNEL_LAUNCH_TIMEOUT);
    const launchTimeoutMs =
      Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : (this.opts.launchTimeoutMs ?? 60_000);
    return startKernel({
      kernelId: req.kernelId,
      spec,
      env: req.env,
      cwd,
      launchTimeoutMs,
      onProgress: req.onProgress,
      signal: req.signal,
      autoRestart: this.opts.autoRestart,
    });
  }

  async dispose(): Promise<void> {
    // No background work: kernels are shut down by the registry.
  }

  private discover() {
    return discoverKernelSpecs({ dirs: this.opts.kernelSpecDirs, env: this.opts.env });
  }

  private async findSpec(name: string): Promise<KernelSpec | undefined> {
    const { specs } = await this.discover();
    return specs.find((s) => s.name === name) ?? specs.find((s) => s.name === name.toLowerCase());
  }
}
