// The SSH link a Docker cluster carries its kernels' ports over when its engine is ssh:// and kernels use the
// host network: the same login as the engine API (engine-ssh.ts), one reconnecting SshLink per host in the
// cluster's pool, shared by its kernels and closed after the last one.
import type { ProvisionerContext } from '../context';
import { SshLink } from '../ssh/ssh-link';
import type { DockerKernelHost, DockerSshAccess } from './docker-host';
import type { EngineSettings } from './engine';
import { engineSshTarget } from './engine-ssh';

/** The access for `host`, or undefined when its kernels are dialled directly (not ssh://, another network, a kernel address). */
export function engineSshAccess(
  host: DockerKernelHost,
  settings: EngineSettings,
  ctx: ProvisionerContext,
): DockerSshAccess | undefined {
  const a = host.address;
  if (a.kind !== 'ssh' || host.networkMode !== 'host' || host.kernelAddress) return undefined;
  const target = engineSshTarget(a, settings.ssh);
  const key = `docker-ssh:${target.user}@${target.host}:${target.port ?? 22}`;
  return {
    target,
    link: (signal) =>
      ctx.pool.acquire(
        key,
        () => SshLink.open(target, { log: (m) => host.log(m) }, signal),
        (link) => link.close(),
      ),
  };
}
