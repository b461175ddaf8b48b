// Options of KernelManager.start / reattach.
import type { MonitorOptions } from '../zmq/heartbeat';
import type { KernelProvisioner, KernelSpec, LaunchProgress } from '../types';

export interface AutoRestartOptions {
  enabled: boolean;
  maxRestarts: number;
}

export interface KernelManagerOptions {
  /** Automatic restart when the kernel dies on its own. Off by default. */
  autoRestart?: AutoRestartOptions;
  /** Heartbeat / poll tuning (an explicit pollIntervalMs here wins over the provisioner's). */
  monitor?: Partial<MonitorOptions>;
  /** How long shutdown waits for the kernel to exit after shutdown_request before SIGTERM (ms). Default 3000. */
  shutdownWaitMs?: number;
  /** How long restart waits after shutdown_request{restart:true} before killing (ms). Default 2000. */
  restartWaitMs?: number;
  /** Launch timeout for restarts (ms). Defaults to the start's launchTimeoutMs. */
  launchTimeoutMs?: number;
  /** Diagnostics sink. Default console.warn with a prefix. */
  log?: (message: string) => void;
}

export interface StartKernelOptions extends KernelManagerOptions {
  kernelId: string;
  spec: KernelSpec;
  env?: Record<string, string>;
  cwd?: string;
  /** Time to get from spawn to kernel_info_reply (ms). Default 60000. */
  launchTimeoutMs?: number;
  /**
   * Who runs the kernel. `KernelManager.start` needs one (from a ProvisionerRegistry); `startKernel`
   * (start.ts) picks it from the kernelspec through the default registry when absent.
   */
  provisioner?: KernelProvisioner;
  onProgress?: (p: LaunchProgress) => void;
  signal?: AbortSignal;
}

export interface ReattachOptions extends KernelManagerOptions {
  /** The provisioner to take the kernel over with (its loadProvisionerInfo gets the saved state). */
  provisioner: KernelProvisioner;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_LAUNCH_TIMEOUT_MS = 60_000;
