// A kernel as the host API shows it (split from models.ts, which the renderer imports it through).
import type { KernelState } from './models';

export interface KernelSummary {
  id: string;
  clusterId: string;
  clusterName: string;
  specName: string;
  displayName: string;
  state: KernelState;
  startedAt: string;
  lastActivity: string;
  connections: number;
  /** Why a kernel is dead or disconnected. */
  reason: string | null;
  /** ISO 8601: when idle culling shuts it down if it stays inactive; null/absent when it is not culled now. */
  cullAfter?: string | null;
  /** The KERNEL_* parameters it was started with (a saved size's included; never secrets). */
  params?: Record<string, string>;
}
