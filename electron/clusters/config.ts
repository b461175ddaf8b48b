// Cluster configuration, by concern: what every stored cluster has and the ids (config-base.ts), each kind's
// own settings in its folder (kinds/<kind>/), the clusters.json file check (clusters-file.ts). This module
// re-exports them under the names the rest of the app has always used.
import type { GatewayClusterConfig } from './kinds/gateway/config';
import type { LocalClusterConfig } from './kinds/local/config';

export {
  ConfigError,
  LOCAL_CLUSTER_ID,
  LOCAL_CLUSTER_NAME,
  defaultClustersFile,
  slugify,
  uniqueClusterId,
  type ClustersFile,
  type StoredCluster,
} from './config-base';
export * from './kinds/gateway/config';
export * from './kinds/gateway/launch-params';
export type { LocalClusterConfig } from './kinds/local/config';

/** The configs of the built-in kinds (typed code that knows which kind it holds, e.g. in tests). */
export type ClusterConfig = LocalClusterConfig | GatewayClusterConfig;
