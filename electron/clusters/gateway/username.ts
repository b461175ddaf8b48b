// Which KERNEL_USERNAME (and `?user=` of the kernelspec listing) the relay sends to a gateway:
//   1. the username set on the cluster (the student's university account, not the laptop's login);
//   2. else the one the client sent (jupyter_server's GatewayClient sends its user's KERNEL_USERNAME and
//      lists kernelspecs with `?user=`);
//   3. else the cluster's HTTP basic-auth user (jupyter_server: KERNEL_USERNAME wins over http_user);
//   4. else the user name on this computer.
// Enterprise Gateway refuses some users (root by default) and may offer kernelspecs per user, so this
// matters: the diagnosis asks with the same rule (no client) and says which user it used.
import { defaultKernelUsername, type GatewayClusterConfig } from '../config';

export type UsernameSource = 'cluster' | 'client' | 'basic-auth' | 'os';

export interface KernelUser {
  user: string;
  source: UsernameSource;
}

type UserSettings = Pick<GatewayClusterConfig, 'kernelUsername' | 'basicAuth'>;

export function kernelUser(config: UserSettings, clientUser?: string): KernelUser {
  if (config.kernelUsername) return { user: config.kernelUsername, source: 'cluster' };
  const fromClient = clientUser?.trim();
  if (fromClient) return { user: fromClient, source: 'client' };
  if (config.basicAuth?.user) return { user: config.basicAuth.user, source: 'basic-auth' };
  return { user: defaultKernelUsername(), source: 'os' };
}

/** "alice (the cluster's username)", for messages. */
export function describeKernelUser(u: KernelUser): string {
  const why: Record<UsernameSource, string> = {
    cluster: "the cluster's username",
    client: 'sent by the Jupyter client',
    'basic-auth': "the cluster's HTTP user",
    os: 'your user name on this computer; no username is set on the cluster',
  };
  return `"${u.user}" (${why[u.source]})`;
}
