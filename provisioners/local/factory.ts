// The local provisioner's factory: the default for kernelspecs that name no provisioner, or
// `local-provisioner` (jupyter_client's default name).
import { DEFAULT_PROVISIONER_NAME, type ProvisionerFactory } from '../registry';
import { LocalProvisioner, LOCAL_PROVISIONER_NAME } from './local-provisioner';

export const localProvisionerFactory: ProvisionerFactory = {
  name: LOCAL_PROVISIONER_NAME,
  aliases: LOCAL_PROVISIONER_NAME === DEFAULT_PROVISIONER_NAME ? [] : [DEFAULT_PROVISIONER_NAME],
  create: (opts) => new LocalProvisioner(opts.kernelId, opts.outlivesApp ? { tieToParent: false } : {}),
};
