// What one kernel puts on a Swarm (its service, the request secret, the launcher config) and their removal; and
// the Swarm's services that carry our labels, for the orphan listing. Only labelled objects are ever listed:
// nothing here touches a service, secret or config someone else made.
import type Docker from 'dockerode';
import { isOurKernel, ourLabelFilters } from './labels';

export interface SwarmObjects {
  serviceId?: string;
  secretId?: string;
  configId?: string;
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number } | null)?.statusCode;
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Removes one object; a missing one is fine. A secret or config still "in use" is retried for a few seconds. */
async function removeOne(what: string, remove: () => Promise<unknown>): Promise<string | null> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await remove();
      return null;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      // The service's removal reaches the secret's references a moment later on a busy manager.
      if (!/in use/i.test(messageOf(err)) || Date.now() > deadline)
        return `could not remove ${what}: ${messageOf(err)}`;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Service first (it references the others); returns what could not be removed, in words. */
export async function removeSwarmObjects(docker: Docker, o: SwarmObjects): Promise<string[]> {
  const problems: string[] = [];
  const add = (p: string | null): void => {
    if (p) problems.push(p);
  };
  if (o.serviceId)
    add(await removeOne(`service ${o.serviceId}`, () => docker.getService(o.serviceId!).remove()));
  if (o.secretId) add(await removeOne(`secret ${o.secretId}`, () => docker.getSecret(o.secretId!).remove()));
  if (o.configId) add(await removeOne(`config ${o.configId}`, () => docker.getConfig(o.configId!).remove()));
  return problems;
}

/** A kernel service of ours on the Swarm. */
export interface SwarmKernelService {
  serviceId: string;
  name: string;
  kernelId: string;
  createdAt: string;
  image: string;
}

interface ServiceInfo {
  ID: string;
  CreatedAt?: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { ContainerSpec?: { Image?: string } };
  };
}

/** Services labelled as this install's kernels (the engine filters by label; the labels are checked again). */
export async function ourKernelServices(docker: Docker, installId: string): Promise<SwarmKernelService[]> {
  const list = (await docker.listServices({
    filters: JSON.stringify({ label: ourLabelFilters(installId) }),
  })) as ServiceInfo[];
  return list
    .filter((s) => isOurKernel(s.Spec?.Labels, installId))
    .map((s) => ({
      serviceId: s.ID,
      name: s.Spec?.Name ?? s.ID,
      kernelId: s.Spec?.Labels?.kernel_id ?? '',
      createdAt: s.CreatedAt ?? '',
      image: s.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    }));
}

/** Everything labelled as kernel `kernelId` of this install: its service(s), secrets and configs. */
export async function kernelObjects(
  docker: Docker,
  installId: string,
  kernelId: string,
): Promise<SwarmObjects[]> {
  const filters = JSON.stringify({ label: ourLabelFilters(installId, kernelId) });
  const labelled = (o: { Spec?: { Labels?: Record<string, string> } }): boolean =>
    isOurKernel(o.Spec?.Labels, installId) && o.Spec?.Labels?.kernel_id === kernelId;
  type Obj = { ID: string; Spec?: { Labels?: Record<string, string> } };
  const services = ((await docker.listServices({ filters })) as Obj[]).filter(labelled);
  const secrets = ((await docker.listSecrets({ filters })) as Obj[]).filter(labelled);
  const configs = ((await docker.listConfigs({ filters })) as Obj[]).filter(labelled);
  return [
    ...services.map((s) => ({ serviceId: s.ID })),
    ...secrets.map((s) => ({ secretId: s.ID })),
    ...configs.map((c) => ({ configId: c.ID })),
  ];
}
