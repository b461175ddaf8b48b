// Shared vocabulary of the provisioner library. No Electron, no HTTP: a provisioner knows how to start a
// kernel process somewhere and how to reach it over ZMQ; nothing else.

/** The contents of a Jupyter connection file. `key` is the HMAC key: it never leaves the main process. */
export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string; // 'hmac-sha256' in practice
  kernel_name?: string;
}

/** kernel.json as found on disk (after validation). */
export interface KernelSpecFile {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode?: 'signal' | 'message';
  env?: Record<string, string>;
  metadata?: Record<string, unknown> & {
    kernel_provisioner?: { provisioner_name: string; config?: Record<string, unknown> };
  };
}

/** A discovered kernelspec: where it lives, what it says, which resource files (logos, kernel.js) it has. */
export interface KernelSpec {
  name: string;
  /** Directory holding kernel.json and resources. */
  resourceDir: string;
  spec: KernelSpecFile;
  /** Resource key (e.g. "logo-64x64", "logo-svg", "kernel.js") -> file name inside resourceDir. */
  resources: Record<string, string>;
}

/** A kernelspec directory that could not be used, with the reason in words a user can act on. */
export interface KernelSpecProblem {
  name: string;
  path: string;
  message: string;
}

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';

/**
 * One Jupyter message as the raw JSON parts that travel on ZMQ. Kept as bytes so frames pass through the
 * proxy without a parse/re-encode (v1 WebSocket protocol carries exactly these parts).
 */
export interface WireMessage {
  channel: Channel;
  header: Buffer;
  parentHeader: Buffer;
  metadata: Buffer;
  content: Buffer;
  buffers: Buffer[];
}

export type ExecutionState = 'starting' | 'idle' | 'busy' | 'restarting' | 'dead';

/** Launch phases reported while a kernel starts (shown in the UI's launch-progress view). */
export interface LaunchProgress {
  phase: string; // e.g. 'resolving', 'spawning', 'waiting-for-ports', 'connecting', 'kernel-info'
  message: string;
  elapsedMs: number;
  /**
   * The cluster's own words for where the launch stands, verbatim (a pod's `ContainerCreating: pulling image`,
   * a YARN application's diagnostics). Absent when the provisioner has nothing beyond `message`.
   */
  detail?: string;
}

/** What bounds `launch()`: the launch deadline (epoch ms) and the cancel signal. Both always set. */
export interface LaunchBounds {
  /** Epoch ms by which the kernel must be reachable; past it the manager gives up and cleans up. */
  deadline: number;
  /** Aborted on cancel or when the deadline passes: stop waiting, leave nothing behind. */
  signal: AbortSignal;
  /** Report a step of the launch (the manager adds elapsedMs); `detail` carries the cluster's reason. */
  progress(phase: string, message: string, detail?: string): void;
}

/** A JSON value: what saved provisioner state may contain (it is written to disk as JSON and read back). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Signal name -> number on the OS of the host that runs the kernel (a Linux pod's SIGUSR2 is 12 even when the
 * app runs on macOS, where it is 31). See signals.ts.
 */
export type SignalNumbers = Readonly<Partial<Record<NodeJS.Signals, number>>>;

/** The state of the way to a kernel (tunnel, port-forward, comm socket): up, or down with the reason. */
export type LinkState = { up: true } | { up: false; reason: string };

export interface LaunchRequest {
  kernelId: string;
  spec: KernelSpec;
  /** Extra environment for the kernel (KERNEL_* and allow-listed names from the client). */
  env: Record<string, string>;
  cwd?: string;
  launchTimeoutMs: number;
  onProgress?: (p: LaunchProgress) => void;
  signal?: AbortSignal;
}

/** What a provisioner persists so a restarted app can re-attach to a kernel that still runs. */
export interface ProvisionerState {
  provisioner: string; // provisioner name, e.g. 'local-provisioner'
  kernelId: string;
  connection: ConnectionInfo;
  /** Backend specific fields (pid/pgid for local, container id, pod name, ...). Plain JSON only. */
  details: { [key: string]: JsonValue };
}

/**
 * The jupyter_client provisioner lifecycle, one instance per kernel:
 * preLaunch -> launch -> (poll | sendSignal | interrupt)* -> shutdownRequested -> terminate/kill -> cleanup.
 * A provisioner is created by its factory (registry.ts) from the kernelspec's
 * `metadata.kernel_provisioner.provisioner_name`; `KernelManager` knows no backend, only this contract.
 */
export interface KernelProvisioner {
  readonly name: string;
  readonly kernelId: string;
  /** True while the provisioner believes it owns a live kernel process/resource. */
  readonly hasProcess: boolean;
  /**
   * How often the monitor calls `poll()` (ms). A local process is cheap to poll (1 s); one API call per kernel
   * per second is not (Kubernetes, YARN): such a provisioner chooses a longer interval. Default 1000.
   */
  readonly pollIntervalMs?: number;
  /** Signal numbers of the kernel host's OS (to name an exit by signal). Default: Linux's. */
  readonly signals?: SignalNumbers;
  /** Prepare argv/env/ports. Resolves argv[0] and throws a clear error when the program is missing. */
  preLaunch(req: LaunchRequest): Promise<void>;
  /**
   * Start the kernel; resolves with how to reach it. Must give up (and throw) once `bounds.signal` aborts,
   * which happens on cancel and at `bounds.deadline`; the manager also stops waiting then and cleans up.
   */
  launch(bounds: LaunchBounds): Promise<ConnectionInfo>;
  /** null while running, otherwise the exit code (or -1 when unknown). */
  poll(): Promise<number | null>;
  sendSignal(signal: NodeJS.Signals): Promise<void>;
  /**
   * Optional: called right after the manager sent `shutdown_request` and before it waits, terminates or kills
   * (jupyter_client's `shutdown_requested`): where a remote launcher's "shutdown" message belongs.
   */
  shutdownRequested?(restart: boolean): Promise<void>;
  /** SIGTERM-style request to stop. */
  terminate(restart?: boolean): Promise<void>;
  /** SIGKILL-style forced stop (of the whole process group). */
  kill(restart?: boolean): Promise<void>;
  /** Wait for the kernel to exit, up to timeoutMs; returns the exit code or null if still running. */
  wait(timeoutMs: number): Promise<number | null>;
  /** Release everything (connection file, ports, temp dirs). Idempotent. */
  cleanup(restart?: boolean): Promise<void>;
  /** What to save to re-attach later: plain JSON (it goes to disk), the HMAC key included. */
  getProvisionerInfo(): ProvisionerState;
  /**
   * Take a kernel over again from saved state and re-establish the way to it (a tunnel, a port-forward);
   * resolves with the connection to dial, which may differ from `state.connection` (new local tunnel ports).
   * The manager awaits it before anything dials the kernel.
   */
  loadProvisionerInfo(state: ProvisionerState): Promise<ConnectionInfo>;
  /**
   * Optional: the manager let go of a kernel that keeps running (KernelManager.release, or a re-attach that
   * failed): close what only reached it (a tunnel, a lease on a shared connection); stop nothing.
   */
  detach?(): Promise<void>;
  /** Optional: the kernel's last output (stderr first), for launch-failure messages. May fetch (pod logs). */
  outputTail?(maxChars?: number): Promise<string>;
  /** Optional: true while any process of the kernel (its whole group/container) still runs. */
  processesAlive?(): boolean;
  /**
   * Optional: link state. The listener hears when the way to the kernel goes down (the kernel is then
   * `disconnected`, not dead: heartbeat misses are not counted) and comes back (`reconnected`). Returns an
   * unsubscribe function.
   */
  onLinkChange?(listener: (state: LinkState) => void): () => void;
}

/** A client's private line to a kernel: shell/control/stdin use the session id as ZMQ identity. */
export interface KernelPort {
  /** Send a client message to the kernel (signed by the backend; clients never see the key). */
  send(msg: WireMessage): void;
  /** Close this port's sockets. iopub fan-out to it stops. */
  close(): void;
}

export type KernelEvent =
  | { type: 'state'; state: ExecutionState }
  | { type: 'activity'; at: Date }
  | { type: 'restarting' }
  | { type: 'restarted' }
  | { type: 'disconnected'; reason: string } // backend temporarily unreachable (relay); not dead
  | { type: 'reconnected' }
  // The kernel's process runs but it misses heartbeats (paused, swapping): kept, shown as not answering.
  | { type: 'unresponsive'; reason: string }
  | { type: 'responsive' }
  | { type: 'dead'; reason: string };

/**
 * A running kernel as the proxy sees it, whatever runs it (ZMQ via a provisioner, or a remote gateway relay).
 * The proxy frames WireMessages for WebSocket clients; the backend owns transport and signing.
 */
export interface KernelBackend {
  readonly id: string;
  readonly specName: string;
  readonly executionState: ExecutionState;
  readonly lastActivity: Date;
  /**
   * Open a port for one client session. `onMessage` receives every iopub message plus the
   * shell/control/stdin replies addressed to this session id.
   */
  openPort(
    sessionId: string,
    onMessage: (msg: WireMessage) => void,
    /** Called if the backend has to close the port on its own (it could not reopen it after a restart). */
    onClosed?: (reason: string) => void,
  ): KernelPort;
  interrupt(): Promise<void>;
  /** Restart in place (same id); resolves after the kernel answers kernel_info again. */
  restart(): Promise<void>;
  /** Graceful shutdown_request, then terminate, then kill. Leaves nothing behind. Idempotent. */
  shutdown(): Promise<void>;
  /** Subscribe to lifecycle events; returns an unsubscribe function. */
  onEvent(listener: (e: KernelEvent) => void): () => void;
}
