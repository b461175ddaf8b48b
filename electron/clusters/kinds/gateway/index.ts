// The `gateway` cluster kind: kernels run on a remote Enterprise Gateway / Kernel Gateway / Jupyter Server,
// relayed by the proxy (electron/clusters/gateway/). Everything the rest of the app knows about the kind is
// said here.
import { GatewayClusterRuntime, type GatewayRuntimeOptions } from '../../gateway/runtime';
import { kernelUser } from '../../gateway/username';
import { diagnoseGateway } from '../../diagnose';
import type { StoredCluster } from '../../config-base';
import type { ClusterKindDescriptor, KeptDetails } from '../types';
import { checkGateway, gatewaySchema, makeGatewayConfig, type GatewayClusterConfig } from './config';
import { GATEWAY_FIELDS, gatewayInputOf, gatewayValuesOf } from './fields';
import { launchParameter } from '../launch-parameters';

// The KERNEL_* variables Enterprise Gateway's kernelspecs read (reference §3), first the ones people change.
const GATEWAY_LAUNCH = ['KERNEL_IMAGE', 'KERNEL_CPUS', 'KERNEL_MEMORY', 'KERNEL_GPUS', 'KERNEL_NAMESPACE'];
const GATEWAY_LAUNCH_MORE = [
  'KERNEL_VOLUMES',
  'KERNEL_VOLUME_MOUNTS',
  'KERNEL_WORKING_DIR',
  'KERNEL_CPUS_LIMIT',
  'KERNEL_MEMORY_LIMIT',
  'KERNEL_GPUS_LIMIT',
  'KERNEL_EXECUTOR_IMAGE',
  'KERNEL_SERVICE_ACCOUNT_NAME',
  'KERNEL_UID',
  'KERNEL_GID',
  'KERNEL_REMOTE_HOST',
  'KERNEL_EXTRA_SPARK_OPTS',
];

const PATH_FIELDS: Record<string, string> = {
  '/url': 'url',
  '/wsUrl': 'wsUrl',
  '/auth/headerName': 'authHeaderName',
  '/auth/scheme': 'authScheme',
  '/basicAuth/user': 'httpUser',
  '/headers': 'extraHeaders',
  '/tls/caFile': 'caFile',
  '/tls/clientCertFile': 'clientCertFile',
  '/tls/clientKeyFile': 'clientKeyFile',
  '/kernelUsername': 'kernelUsername',
  '/timeouts/connectMs': 'connectTimeoutSec',
  '/timeouts/requestMs': 'requestTimeoutSec',
  '/timeouts/launchMs': 'launchTimeoutSec',
  '/launchParams': 'launchParams',
  '/forwardEnv': 'envAllowlist',
};

export const gatewayKind: ClusterKindDescriptor<GatewayClusterConfig> = {
  kind: 'gateway',
  label: 'Remote gateway',
  summary: 'a remote Enterprise/Kernel Gateway',
  remote: true,
  addableFromForm: true,
  intro:
    'A remote gateway (Jupyter Enterprise Gateway, Kernel Gateway, or a Jupyter server) runs your kernels on its machines. Ask its administrator for the URL and a token.',
  // Token header, login, headers, TLS and timeouts: one custom Advanced section (ClusterFormAdvanced.tsx).
  customSections: { advanced: 'gateway-advanced' },
  schema: gatewaySchema,
  fields: GATEWAY_FIELDS,
  is: (cfg: StoredCluster): cfg is GatewayClusterConfig => cfg.kind === 'gateway',
  // Shape only: the registry runs the schema and checkGateway on the result (one validator for all callers).
  build: (values, ctx) => makeGatewayConfig(gatewayInputOf(values, ctx), [], { check: false }),
  values: gatewayValuesOf,
  secretsSet: (c, secrets) => ({
    authToken: Boolean(c.auth.tokenSecret && secrets.get(c.auth.tokenSecret)),
    httpPassword: Boolean(c.basicAuth?.passwordSecret && secrets.get(c.basicAuth.passwordSecret)),
    keyPassphrase: Boolean(c.tls.keyPassphraseSecret && secrets.get(c.tls.keyPassphraseSecret)),
  }),
  check: checkGateway,
  fieldOfPath: (path) => {
    for (const [p, f] of Object.entries(PATH_FIELDS)) if (path === p || path.startsWith(`${p}/`)) return f;
    return 'url';
  },
  secretKeys: (c) =>
    [c.auth.tokenSecret, c.basicAuth?.passwordSecret, c.tls.keyPassphraseSecret].filter(
      (k): k is string => typeof k === 'string',
    ),
  where: (c) => c.url,
  url: (c) => c.url,
  launchSettings: (c) => ({
    ...Object.fromEntries(c.launchParams.map((p) => [p.name, p.value])),
    KERNEL_USERNAME: kernelUser(c).user, // unless unset on the cluster and the client sends its own
  }),
  // Defaults: the kernelspec's env, then the cluster's launch parameters (a value chosen at start wins).
  launchParameters: (c, env) => {
    const cluster = Object.fromEntries(c.launchParams.map((p) => [p.name, p.value]));
    return [
      ...GATEWAY_LAUNCH.map((n) => launchParameter(n, [env.env, cluster])),
      ...GATEWAY_LAUNCH_MORE.map((n) => launchParameter(n, [env.env, cluster], { more: true })),
    ];
  },
  createRuntime: (cfg, opts) => {
    const gw: GatewayRuntimeOptions = { ...opts.gateway };
    // GATEWAY_DESKTOP_RELAY_LOG=1 logs the relay's reconnects and dropped frames to stderr.
    if (!gw.log && process.env.GATEWAY_DESKTOP_RELAY_LOG) gw.log = (m) => process.stderr.write(`${m}\n`);
    return new GatewayClusterRuntime(cfg, opts.secrets, gw);
  },
  diagnose: (cfg, secrets) => diagnoseGateway(cfg, secrets),
  kept: {
    // A kernel left running on the gateway is found again by its upstream id; nothing to clean up locally.
    parse: (d: KeptDetails) =>
      typeof d.upstreamId === 'string' && d.upstreamId ? { kind: 'gateway', upstreamId: d.upstreamId } : null,
  },
};
