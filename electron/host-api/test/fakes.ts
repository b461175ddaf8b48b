// In-memory stand-ins for the service's backend and for a kernel (unit tests only; the e2e suite and the
// integration test use the real app-core and real ipykernels).
import type {
  KernelBackend,
  KernelEvent,
  KernelPort,
  LaunchProgress,
  WireMessage,
} from '../../../provisioners/types';
import type { ClusterKernelSpecs, ClusterRuntime } from '../../clusters/types';
import type {
  BackendCluster,
  BackendKernel,
  BackendKernelEvent,
  BackendLaunch,
  HostBackend,
} from '../backend';
import { HostError } from '../contract';
import type { ClusterInput, ConnectionDiagnosis, GatewaySettingsInput } from '../models';

export class FakeKernel implements KernelBackend {
  readonly specName = 'python3';
  executionState: KernelBackend['executionState'] = 'idle';
  lastActivity = new Date();
  sent: WireMessage[] = [];
  private readonly listeners = new Set<(m: WireMessage) => void>();
  constructor(readonly id: string) {}
  openPort(_session: string, onMessage: (msg: WireMessage) => void): KernelPort {
    this.listeners.add(onMessage);
    return {
      send: (m) => this.sent.push(m),
      close: () => this.listeners.delete(onMessage),
    };
  }
  /** Deliver a message to every open port. */
  deliver(channel: WireMessage['channel'], msgType: string, parentId: string, content: unknown): void {
    const m: WireMessage = {
      channel,
      header: Buffer.from(JSON.stringify({ msg_type: msgType, msg_id: `${msgType}-${Math.random()}` })),
      parentHeader: Buffer.from(JSON.stringify({ msg_id: parentId })),
      metadata: Buffer.from('{}'),
      content: Buffer.from(JSON.stringify(content)),
      buffers: [],
    };
    for (const l of [...this.listeners]) l(m);
  }
  get portCount(): number {
    return this.listeners.size;
  }
  async interrupt(): Promise<void> {}
  async restart(): Promise<void> {}
  async shutdown(): Promise<void> {}
  onEvent(_l: (e: KernelEvent) => void): () => void {
    return () => undefined;
  }
}

export function fakeRuntime(id: string, specs: ClusterKernelSpecs): ClusterRuntime {
  return {
    id,
    name: id,
    kind: id === 'local' ? 'local' : 'gateway',
    listKernelSpecs: async () => specs,
    getResource: async (_s, file) =>
      file === 'logo-64x64.png' ? { body: Buffer.from('png-bytes'), contentType: 'image/png' } : null,
    startKernel: async () => {
      throw new Error('not used');
    },
    dispose: async () => undefined,
  };
}

export class FakeBackend implements HostBackend {
  proxyUrl = 'http://127.0.0.1:5555/';
  token = 'secret-token';
  dataDir: string;
  clusters: BackendCluster[] = [
    { id: 'local', name: 'This computer', kind: 'local', builtIn: true, url: null, active: true },
  ];
  kernels = new Map<string, BackendKernel>();
  kernelBackends = new Map<string, FakeKernel>();
  runtimes = new Map<string, ClusterRuntime>();
  startPlan: 'ok' | 'fail' = 'ok';
  added: ClusterInput[] = [];
  private clusterListeners = new Set<() => void>();
  private kernelListeners = new Set<(e: BackendKernelEvent) => void>();
  private launchListeners = new Set<(e: BackendLaunch) => void>();
  lab = null;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.runtimes.set(
      'local',
      fakeRuntime('local', {
        default: 'python3',
        specs: [
          {
            name: 'python3',
            spec: {
              argv: ['/usr/bin/python3', '-m', 'ipykernel_launcher'],
              display_name: 'Python 3',
              language: 'python',
            },
            resources: { 'logo-64x64': 'logo-64x64.png' },
          },
        ],
        problems: [{ name: 'broken', path: '/x/broken/kernel.json', message: 'not JSON' }],
      }),
    );
  }

  async listClusters() {
    return this.clusters.map((c) => ({ ...c }));
  }
  async getGatewaySettings() {
    return null;
  }
  async addCluster(input: ClusterInput) {
    if (input.gateway?.url.includes('reject'))
      throw new HostError({ code: 'invalid-input', message: 'rejected by the store' });
    this.added.push(input);
    const id = input.name.toLowerCase().replace(/\W+/g, '-');
    this.clusters.push({
      id,
      name: input.name,
      kind: 'gateway',
      builtIn: false,
      url: input.gateway?.url ?? null,
      active: false,
    });
    this.emitClusters();
    return id;
  }
  async editCluster() {}
  async removeCluster(id: string) {
    this.clusters = this.clusters.filter((c) => c.id !== id);
  }
  async setActiveCluster(id: string) {
    for (const c of this.clusters) c.active = c.id === id;
    this.emitClusters();
  }
  async testCluster(): Promise<ConnectionDiagnosis> {
    return {
      ok: false,
      kind: 'refused',
      title: 'refused',
      detail: 'nothing listens',
      hint: null,
      version: null,
      kernelspecCount: null,
      durationMs: 1,
    };
  }
  secretStorage() {
    return 'a file';
  }
  onClustersChanged(l: () => void) {
    this.clusterListeners.add(l);
    return () => this.clusterListeners.delete(l);
  }
  emitClusters() {
    for (const l of this.clusterListeners) l();
  }
  runtime(id: string) {
    return this.runtimes.get(id);
  }
  async launchSettings() {
    return {};
  }
  listKernels() {
    return [...this.kernels.values()];
  }
  async startKernel(req: {
    clusterId: string;
    specName: string;
    onProgress: (p: LaunchProgress) => void;
    onKernelId: (id: string) => void;
  }) {
    const id = `k${this.kernels.size + 1}`;
    req.onKernelId(id);
    req.onProgress({ phase: 'spawning', message: 'spawning', elapsedMs: 5 });
    await new Promise((r) => setTimeout(r, 5));
    if (this.startPlan === 'fail') throw new Error('program "nope" not found');
    const k: BackendKernel = {
      id,
      clusterId: req.clusterId,
      specName: req.specName,
      state: 'idle',
      startedAt: new Date(),
      lastActivity: new Date(),
      connections: 0,
      reason: null,
    };
    this.kernels.set(id, k);
    this.kernelBackends.set(id, new FakeKernel(id));
    this.emitKernel({ type: 'added', kernel: k });
    return k;
  }
  async interruptKernel() {}
  async restartKernel() {}
  async shutdownKernel(id: string) {
    this.kernels.delete(id);
    this.emitKernel({ type: 'removed', id });
  }
  kernelBackend(id: string) {
    return this.kernelBackends.get(id) ?? null;
  }
  onKernelEvent(l: (e: BackendKernelEvent) => void) {
    this.kernelListeners.add(l);
    return () => this.kernelListeners.delete(l);
  }
  onLaunchProgress(l: (e: BackendLaunch) => void) {
    this.launchListeners.add(l);
    return () => this.launchListeners.delete(l);
  }
  emitLaunch(e: BackendLaunch) {
    for (const l of this.launchListeners) l(e);
  }
  emitKernel(e: BackendKernelEvent) {
    for (const l of this.kernelListeners) l(e);
  }
}

/** A gateway cluster's form input with the gateway kind's defaults (tests build inputs from it). */
export function defaultGatewaySettings(username = ''): GatewaySettingsInput {
  return {
    url: '',
    authToken: '',
    authHeaderName: 'Authorization',
    authScheme: 'token',
    httpUser: '',
    httpPassword: '',
    extraHeaders: {},
    validateCert: true,
    caFile: '',
    clientCertFile: '',
    clientKeyFile: '',
    kernelUsername: username,
    // The same defaults as the gateway kind's fields (electron/clusters/kinds/gateway/fields.ts).
    connectTimeoutSec: 20,
    requestTimeoutSec: 42,
    launchTimeoutSec: 40,
    launchParams: {},
    envAllowlist: [],
  };
}
