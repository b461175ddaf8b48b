// The host API's models of kernel containers (or services) from an earlier session (orphans.ts lists and
// removes them). Kept apart from models.ts, which is at its size limit; contract.ts re-exports them.

/** One leftover kernel container or service, as the UI offers it. */
export interface OrphanKernelSummary {
  clusterId: string;
  clusterName: string;
  /** The engine's id (what removal takes). */
  id: string;
  name: string;
  kernelId: string;
  image: string;
  state: string;
  createdAt: string;
  /** What it is: "container", "service". */
  noun: string;
}

export interface RemoveOrphansRequest {
  items: { clusterId: string; id: string }[];
}

export interface RemoveOrphansResult {
  removed: number;
  /** One line per item that could not be removed (it stays listed). */
  errors: string[];
}

/** Orphans on every cluster that can tell, and the clusters that could not be asked (one line each). */
export interface OrphanList {
  orphans: OrphanKernelSummary[];
  errors: string[];
}
