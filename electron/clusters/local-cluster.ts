// The "This computer" cluster: kernelspecs from the Jupyter data paths (or given directories), kernels
// started as KernelManagers by the provisioner each kernelspec names (provisioners/registry.ts): the local
// one by default; a spec naming one this computer cannot run (Gateway Provisioners' kubernetes-provisioner,
// an unknown name) is refused before anything runs.
import { readFileSync } from 'node:fs';
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Request } from 'zeromq';
import { discoverKernelSpecs } from '../../provisioners/kernelspec/discovery';
import { createLocalProvisionerRegistry } from '../../provisioners/default-registry';
import { KernelManager, type AutoRestartOptions } from '../../provisioners/kernel-manager';
import { LocalProvisioner, LOCAL_PROVISIONER_NAME } from '../../provisioners/local/local-provisioner';
import { ProvisionerUnavailableError, type ProvisionerRegistry } from '../../provisioners/registry';
import { zmqUrl } from '../../provisioners/zmq/kernel-connection';
import type {
  ConnectionInfo,
  KernelBackend,
  KernelProvisioner,
  KernelSpec,
  ProvisionerState,
} from '../../provisioners/types';
import type { ClusterKernelSpecs, ClusterRuntime, StartKernelRequest } from './types';
import { KernelLaunchError, KernelSpecNotFoundError } from '../kernels/errors';
import type { KeptKernelDetails } from '../kernels/left-running';
import { kernelEnvFromClient } from './client-env';

export interface LocalClusterOptions {
  /** Diagnostics (default console.warn). */
  log?: (message: string) => void;
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
  /**
   * Launch kernels so they can outlive the app ("Leave running" at quit): without JPY_PARENT_PID, which makes
   * ipykernel exit once its parent is gone, and with output to a log file instead of a pipe to the app.
   * The desktop app sets it; `npm run serve` only with --leave-kernels-running (by default its kernels must
   * never outlive it, even on SIGKILL).
   */
  survivesApp?: boolean;
  /** Which provisioner runs which kernelspec; default: the local one, Gateway Provisioners' names refused. */
  provisioners?: ProvisionerRegistry;
}

/** What a local kernel left running saves: enough to find its process and dial it again. */
export interface LocalKept extends KeptKernelDetails {
  kind: 'local';
  /** Process id of the kernel, which leads its own process group. */
  pid: number;
  pgid: number;
  /** Includes the HMAC key: main process only. */
  connection: ConnectionInfo;
  connectionFile: string | null;
  logFile: string | null;
}

/** True when a REQ/echo on the kernel's heartbeat port is answered within `timeoutMs`. */
export async function heartbeatAnswers(info: ConnectionInfo, timeoutMs = 2000): Promise<boolean> {
  const sock = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
  try {
    sock.connect(zmqUrl(info, info.hb_port));
    await sock.send(Buffer.from('ping'));
    await sock.receive();
    return true;
  } catch {
    return false;
  } finally {
    sock.close();
  }
}

function toProvisionerState(kernelId: string, d: LocalKept): ProvisionerState {
  return {
    provisioner: LOCAL_PROVISIONER_NAME,
    kernelId,
    connection: { ...d.connection },
    details: { pid: d.pid, pgid: d.pgid, connectionFile: d.connectionFile, logFile: d.logFile },
  };
}

/**
 * Linux: true when process `pid` runs with `connectionFile` on its command line, i.e. it is still our kernel
 * and not an unrelated process that got the pid later. Elsewhere (no /proc) it cannot tell: false.
 */
export function isKernelProcess(pid: number, connectionFile: string | null): boolean {
  if (!connectionFile) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(connectionFile);
  } catch {
    return false;
  }
}

/**
 * Stop a left-running local kernel that cannot be re-attached (spec gone, not answering): SIGTERM then SIGKILL
 * to its process group and its files removed, but only when its command line proves it is ours.
 */
export async function stopKeptLocalKernel(kernelId: string, d: LocalKept): Promise<boolean> {
  if (!isKernelProcess(d.pid, d.connectionFile)) return false;
  const prov = new LocalProvisioner(kernelId, { tieToParent: false });
  await prov.loadProvisionerInfo(toProvisionerState(kernelId, d));
  await prov.terminate();
  if ((await prov.wait(3000)) === null) await prov.kill();
  await prov.wait(2000);
  await prov.cleanup();
  return true;
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
  /** Kernels launched or re-attached untied from this process: the ones "Leave running" may keep. */
  private readonly untied = new WeakSet<KernelManager>();
  private readonly provisioners: ProvisionerRegistry;

  constructor(opts: LocalClusterOptions = {}) {
    this.opts = opts;
    this.id = opts.id ?? 'local';
    this.name = opts.name ?? 'This computer';
    this.provisioners = opts.provisioners ?? createLocalProvisionerRegistry(undefined, this.name);
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

  /**
   * Start a kernel with the provisioner its spec names; resolves once it answered kernel_info. A spec whose
   * provisioner this computer does not have is refused here, before anything runs (500, like a failed launch).
   */
  async startKernel(req: StartKernelRequest): Promise<KernelBackend> {
    const spec = await this.findSpec(req.specName);
    if (!spec) throw new KernelSpecNotFoundError(req.specName);
    let provisioner: KernelProvisioner;
    try {
      provisioner = this.provisioners.create({
        kernelId: req.kernelId,
        spec,
        outlivesApp: this.opts.survivesApp === true,
      });
    } catch (err) {
      if (err instanceof ProvisionerUnavailableError) throw new KernelLaunchError(err.message);
      throw err;
    }
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
    const km = await KernelManager.start({
      provisioner,
      kernelId: req.kernelId,
      spec,
      env: kernelEnvFromClient(req.env, this.opts.log ?? console.warn, 'on this computer'),
      cwd,
      launchTimeoutMs,
      onProgress: req.onProgress,
      signal: req.signal,
      autoRestart: this.opts.autoRestart,
    });
    if (this.opts.survivesApp) this.untied.add(km);
    return km;
  }

  keepInfo(backend: KernelBackend): LocalKept | null {
    if (!(backend instanceof KernelManager) || !this.untied.has(backend)) return null;
    if (backend.executionState === 'dead' || backend.executionState === 'restarting') return null;
    let state: ProvisionerState;
    try {
      state = backend.getProvisionerInfo();
    } catch {
      return null; // between processes (restarting)
    }
    const { pid, pgid, connectionFile, logFile } = state.details;
    if (typeof pid !== 'number') return null;
    return {
      kind: 'local',
      pid,
      pgid: typeof pgid === 'number' ? pgid : pid,
      connection: { ...state.connection },
      connectionFile: typeof connectionFile === 'string' ? connectionFile : null,
      logFile: typeof logFile === 'string' ? logFile : null,
    };
  }

  async releaseKernel(backend: KernelBackend): Promise<void> {
    if (!(backend instanceof KernelManager)) throw new Error(`kernel ${backend.id} is not a local kernel`);
    await backend.release();
  }

  /**
   * Re-attach to a kernel left running: its process must be alive and its heartbeat must answer, then
   * KernelManager.reattach checks it answers kernel_info signed with the saved key (so it is that kernel).
   */
  async reattachKernel(
    kernelId: string,
    clusterSpecName: string,
    details: KeptKernelDetails,
  ): Promise<KernelBackend> {
    if (details.kind !== 'local') throw new Error(`kernel ${kernelId} was not a local kernel`);
    // Read by the local kind's kept.parse when the state file was loaded.
    const kept = details as LocalKept;
    try {
      process.kill(kept.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH')
        throw new Error(`kernel ${kernelId} (pid ${kept.pid}) is no longer running`);
    }
    const spec = await this.findSpec(clusterSpecName);
    if (!spec) throw new KernelSpecNotFoundError(clusterSpecName);
    if (!(await heartbeatAnswers(kept.connection))) {
      throw new Error(`kernel ${kernelId} (pid ${kept.pid}) does not answer its heartbeat`);
    }
    const km = await KernelManager.reattach(toProvisionerState(kernelId, kept), spec, {
      provisioner: new LocalProvisioner(kernelId, { tieToParent: false }),
      autoRestart: this.opts.autoRestart,
      timeoutMs: 10_000,
    });
    this.untied.add(km);
    return km;
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
