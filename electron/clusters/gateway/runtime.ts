// ClusterRuntime 'gateway': kernels run on a remote Enterprise/Kernel Gateway (or any server with the same
// REST + WebSocket API) and are relayed by GatewayKernel. The runtime lists and serves the upstream's
// kernelspecs, starts kernels with the cluster's launch parameters, polls /api/kernels lightly (status of
// our kernels, kernels started by other clients) and adopts foreign kernels on request.
import { posix } from 'node:path';
import type { KernelBackend, KernelSpecFile } from '../../../provisioners/types';
import type {
  ClusterKernelSpec,
  ClusterKernelSpecs,
  ClusterRuntime,
  ForeignKernel,
  StartKernelRequest,
} from '../types';
import { DEFAULT_POLL_INTERVAL_MS, type GatewayClusterConfig } from '../config';
import { kernelUser } from './username';
import type { SecretLookup } from '../../secrets/secret-store';
import { GatewayClient, type UpstreamKernelModel } from './client';
import { GatewayError } from './errors';
import { GatewayError as HttpStatusError } from '../../kernels/errors';
import { GatewayKernel, type RelayOptions } from './kernel';
import type { KeptKernelDetails } from '../../kernels/left-running';

/** What a gateway kernel left running saves: its id upstream, to re-adopt it. */
export interface GatewayKept extends KeptKernelDetails {
  kind: 'gateway';
  /** The kernel's id on the upstream gateway (may differ from the proxy's id). */
  upstreamId: string;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.js': 'application/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
};

interface UpstreamSpecModel {
  name?: unknown;
  spec?: Partial<KernelSpecFile> & Record<string, unknown>;
  resources?: Record<string, unknown>;
}

export interface GatewayRuntimeOptions extends RelayOptions {
  /** How long a kernelspec listing is reused (ms; the directory asks on every start). Default 3000. */
  specsCacheMs?: number;
  /** Never offer v1 upstream (tests the legacy leg against servers that would select v1). */
  forceLegacy?: boolean;
}

export class GatewayClusterRuntime implements ClusterRuntime {
  readonly kind = 'gateway';
  readonly client: GatewayClient;
  private kernels = new Map<string, GatewayKernel>(); // by upstream id
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private listForbidden = false;
  private disposed = false;
  private readonly protocolHint: { v1: boolean | null };
  private foreign: ForeignKernel[] = [];

  constructor(
    readonly config: GatewayClusterConfig,
    secrets: SecretLookup,
    private readonly options: GatewayRuntimeOptions = {},
  ) {
    this.client = new GatewayClient(config, secrets);
    this.protocolHint = { v1: options.forceLegacy ? false : null };
  }

  get id(): string {
    return this.config.id;
  }

  get name(): string {
    return this.config.name;
  }

  /** Kernels this runtime relays (started or adopted), by proxy id. */
  relayedKernels(): GatewayKernel[] {
    return [...this.kernels.values()];
  }

  /** Kernelspec listings by the user they were asked for. */
  private specsCache = new Map<string, { at: number; value: Promise<ClusterKernelSpecs> }>();

  /**
   * The upstream's kernelspecs as `user` (the client's `?user=` / KERNEL_USERNAME) will see them, by the
   * username rule of username.ts. One request serves concurrent callers; reused for a few seconds.
   */
  listKernelSpecs(opts: { user?: string } = {}): Promise<ClusterKernelSpecs> {
    const ttl = this.options.specsCacheMs ?? 3000;
    const user = this.kernelUsername(opts.user);
    const c = this.specsCache.get(user);
    if (c && Date.now() - c.at < ttl) return c.value;
    const value = this.fetchKernelSpecs(user);
    const entry = { at: Date.now(), value };
    if (this.specsCache.size > 32) this.specsCache.clear();
    this.specsCache.set(user, entry);
    value.catch(() => {
      if (this.specsCache.get(user) === entry) this.specsCache.delete(user); // never cache a failure
    });
    return value;
  }

  private async fetchKernelSpecs(user: string): Promise<ClusterKernelSpecs> {
    let path = this.client.config.endpoints?.kernelspecs ?? '/api/kernelspecs';
    if (user) path += `?user=${encodeURIComponent(user)}`;
    const body = await this.client.json<{
      default?: unknown;
      kernelspecs?: Record<string, UpstreamSpecModel>;
    }>('GET', path, [200]);
    const specs: ClusterKernelSpec[] = [];
    const problems: ClusterKernelSpecs['problems'] = [];
    for (const [key, model] of Object.entries(body.kernelspecs ?? {})) {
      const name = typeof model.name === 'string' ? model.name : key;
      const s = model.spec;
      if (!s || typeof s.display_name !== 'string' || typeof s.language !== 'string') {
        problems.push({
          name,
          path: this.client.url(path).href,
          message: 'the gateway sent an incomplete kernelspec',
        });
        continue;
      }
      const spec: KernelSpecFile = {
        argv: Array.isArray(s.argv) ? s.argv.filter((a): a is string => typeof a === 'string') : [],
        display_name: s.display_name,
        language: s.language,
      };
      if (s.interrupt_mode === 'signal' || s.interrupt_mode === 'message')
        spec.interrupt_mode = s.interrupt_mode;
      if (s.env && typeof s.env === 'object') spec.env = s.env;
      if (s.metadata && typeof s.metadata === 'object') spec.metadata = s.metadata;
      const resources: Record<string, string> = {};
      for (const [rk, rv] of Object.entries(model.resources ?? {})) {
        if (typeof rv !== 'string') continue;
        // Upstream gives URLs like /base/kernelspecs/python3/logo-64x64.png; keep the file part.
        const marker = `/kernelspecs/${name}/`;
        const i = rv.lastIndexOf(marker);
        const file = i >= 0 ? rv.slice(i + marker.length) : posix.basename(rv);
        if (file && !file.includes('..')) resources[rk] = decodeURIComponent(file);
      }
      specs.push({ name, spec, resources });
    }
    const def =
      typeof body.default === 'string' && specs.some((x) => x.name === body.default) ? body.default : null;
    return { default: def ?? specs[0]?.name ?? null, specs, problems };
  }

  async getResource(specName: string, file: string): Promise<{ body: Buffer; contentType: string } | null> {
    if (file.includes('..')) return null;
    const base = this.client.config.endpoints?.kernelspecResources ?? '/kernelspecs';
    const path = `${base}/${encodeURIComponent(specName)}/${file.split('/').map(encodeURIComponent).join('/')}`;
    const res = await this.client.request('GET', path);
    if (res.status !== 200) return null;
    const ext = posix.extname(file).toLowerCase();
    const ct = res.headers['content-type'] ?? CONTENT_TYPES[ext] ?? 'application/octet-stream';
    return { body: res.body, contentType: ct };
  }

  /**
   * The env sent with POST /api/kernels: client KERNEL_* + allow-listed names, launch params (defaults), the username
   * (username.ts) and KERNEL_ID = the proxy's id (the id clients see; Enterprise Gateway also uses it as
   * its own, Kernel Gateway passes it to the kernel as is).
   */
  launchEnv(req: Pick<StartKernelRequest, 'env' | 'kernelId'>): Record<string, string> {
    const allowed = new Set(this.config.forwardEnv);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.env)) {
      if (typeof v === 'string' && (k.startsWith('KERNEL_') || allowed.has(k))) env[k] = v;
    }
    // The cluster's own launch timeout wins over a client's (it is kept consistent with the request timeout);
    // an explicit KERNEL_LAUNCH_TIMEOUT launch parameter wins over both.
    env.KERNEL_LAUNCH_TIMEOUT = String(Math.ceil(this.config.timeouts.launchMs / 1000));
    // Other launch parameters are the cluster's defaults: a value chosen for this start (the launch form) wins.
    for (const p of this.config.launchParams)
      if (p.name === 'KERNEL_LAUNCH_TIMEOUT' || !req.env[p.name]) env[p.name] = p.value;
    env.KERNEL_USERNAME = this.kernelUsername(req.env.KERNEL_USERNAME);
    // Enterprise Gateway creates the kernel with this id when it is a UUID v4 (others ignore it).
    if (UUID_V4.test(req.kernelId)) env.KERNEL_ID = req.kernelId;
    else delete env.KERNEL_ID;
    return env;
  }

  /** Time allowed for POST /api/kernels: request timeout, at least launch + pad. */
  private startTimeoutMs(env: Record<string, string>): number {
    const launch = Number(env.KERNEL_LAUNCH_TIMEOUT) * 1000 || this.config.timeouts.launchMs;
    return Math.max(this.config.timeouts.requestMs, launch + this.config.timeouts.launchPadMs);
  }

  async startKernel(req: StartKernelRequest): Promise<KernelBackend> {
    this.assertLive();
    const started = Date.now();
    req.onProgress?.({
      phase: 'requesting',
      message: `asking ${this.config.name} to start ${req.specName}`,
      elapsedMs: 0,
    });
    const env = this.launchEnv(req);
    let model: UpstreamKernelModel;
    try {
      model = await this.client.json<UpstreamKernelModel>('POST', this.client.kernelPath(), [200, 201], {
        body: { name: req.specName, env },
        timeoutMs: this.startTimeoutMs(env),
        signal: req.signal,
      });
    } catch (e) {
      // Keep the gateway's status for clients (403 resource limit, 400 bad env ...); network trouble is 503.
      if (e instanceof GatewayError) {
        const status =
          e.status && e.status >= 400 && e.status < 500 ? e.status : e.kind === 'http' ? 500 : 503;
        throw new HttpStatusError(status, 'Gateway error', `${this.config.name}: ${e.message}`);
      }
      throw e;
    }
    if (typeof model.id !== 'string')
      throw new GatewayError('the gateway answered without a kernel id', 'protocol');
    req.onProgress?.({
      phase: 'started',
      message: `kernel ${model.id} started on ${this.config.name}`,
      elapsedMs: Date.now() - started,
    });
    const k = this.track(req.kernelId, model.id, model.name || req.specName);
    k.applyModel(model);
    return k;
  }

  async listForeignKernels(): Promise<ForeignKernel[]> {
    await this.pollOnce();
    return this.foreign.map((f) => ({ ...f }));
  }

  /** Relay an upstream kernel this runtime did not start; `proxyId` defaults to the upstream id. */
  async adoptKernel(id: string, proxyId?: string): Promise<KernelBackend> {
    this.assertLive();
    const existing = this.kernels.get(id);
    if (existing) return existing;
    const model = await this.client.json<UpstreamKernelModel>('GET', this.client.kernelPath(id), [200]);
    const k = this.track(proxyId ?? model.id, model.id, model.name);
    k.applyModel(model);
    return k;
  }

  /** "Leave running": upstream kernels outlive the app anyway; remember the upstream id to re-adopt it. */
  keepInfo(backend: KernelBackend): GatewayKept | null {
    const k = [...this.kernels.values()].find((x) => x === backend);
    if (!k || backend.executionState === 'dead') return null;
    return { kind: 'gateway', upstreamId: k.upstreamId };
  }

  /** Close the relay's sockets without DELETE upstream. */
  async releaseKernel(backend: KernelBackend): Promise<void> {
    const k = [...this.kernels.values()].find((x) => x === backend);
    if (!k) return;
    k.detach();
    this.kernels.delete(k.upstreamId);
    if (this.kernels.size === 0) this.stopPoll();
  }

  /** Re-adopt a kernel left running upstream under its old proxy id (404 when it is gone). */
  async reattachKernel(
    kernelId: string,
    _clusterSpecName: string,
    details: KeptKernelDetails,
  ): Promise<KernelBackend> {
    if (details.kind !== 'gateway' || typeof details.upstreamId !== 'string')
      throw new Error(`kernel ${kernelId} was not a gateway kernel`);
    return this.adoptKernel(details.upstreamId, kernelId);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    for (const k of this.kernels.values()) k.detach();
    this.kernels.clear();
    this.client.dispose();
  }

  /** One poll of the upstream /api/kernels (also used by tests to avoid waiting). */
  async pollOnce(): Promise<void> {
    if (this.polling || this.disposed) return;
    this.polling = true;
    try {
      if (!this.listForbidden) {
        let res;
        try {
          res = await this.client.call('GET', this.client.kernelPath(), [200], {
            timeoutMs: Math.min(this.config.timeouts.requestMs, 15_000),
          });
        } catch (e) {
          if (e instanceof GatewayError && e.status === 403) {
            this.listForbidden = true; // EG/KG without *_LIST_KERNELS: check our kernels one by one
          } else {
            this.reachability(false, e);
            return;
          }
        }
        if (res) {
          const list = JSON.parse(res.body.toString('utf8')) as UpstreamKernelModel[];
          const seen = new Set<string>();
          const foreign: ForeignKernel[] = [];
          for (const m of Array.isArray(list) ? list : []) {
            if (typeof m?.id !== 'string') continue;
            seen.add(m.id);
            const k = this.kernels.get(m.id);
            if (k) k.applyModel(m);
            else {
              foreign.push({
                id: m.id,
                name: m.name,
                executionState: m.execution_state ?? 'unknown',
                lastActivity: m.last_activity ?? '',
                connections: typeof m.connections === 'number' ? m.connections : 0,
              });
            }
          }
          this.foreign = foreign;
          for (const k of [...this.kernels.values()]) {
            if (!seen.has(k.upstreamId)) await this.checkOne(k);
          }
          return;
        }
      }
      for (const k of [...this.kernels.values()]) await this.checkOne(k);
    } finally {
      this.polling = false;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The cluster's username, else the client's, else the basic-auth user, else the OS user. */
  private kernelUsername(clientUser?: string): string {
    return kernelUser(this.config, clientUser).user;
  }

  private assertLive(): void {
    if (this.disposed)
      throw new GatewayError(`cluster "${this.config.name}" was removed or reconfigured`, 'unknown');
  }

  private track(proxyId: string, upstreamId: string, specName: string): GatewayKernel {
    const k = new GatewayKernel(
      proxyId,
      upstreamId,
      specName,
      this.client,
      {
        restartTimeoutMs: this.config.timeouts.launchMs + this.config.timeouts.launchPadMs,
        ...this.options,
        protocolHint: this.protocolHint,
      },
      (gone) => {
        this.kernels.delete(gone.upstreamId);
        if (this.kernels.size === 0) this.stopPoll();
      },
    );
    this.kernels.set(upstreamId, k);
    this.startPoll();
    return k;
  }

  private async checkOne(k: GatewayKernel): Promise<void> {
    try {
      const res = await this.client.request('GET', this.client.kernelPath(k.upstreamId), {
        timeoutMs: Math.min(this.config.timeouts.requestMs, 15_000),
      });
      if (res.status === 404) k.markGone('the kernel is gone from the gateway (shut down or culled there)');
      else if (res.status === 200) k.applyModel(JSON.parse(res.body.toString('utf8')) as UpstreamKernelModel);
    } catch (e) {
      this.reachability(false, e);
    }
  }

  private reachability(ok: boolean, e?: unknown): void {
    const reason = e instanceof Error ? e.message : 'the gateway cannot be reached';
    for (const k of this.kernels.values()) k.setPollReachable(ok, reason);
  }

  private startPoll(): void {
    const every = this.config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (this.pollTimer || every <= 0 || this.disposed) return;
    this.pollTimer = setInterval(() => void this.pollOnce().catch(() => undefined), every);
    this.pollTimer.unref();
  }

  private stopPoll(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
